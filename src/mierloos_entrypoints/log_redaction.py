"""Keeps bearer secrets in URLs out of every log line: reset tokens and order links.

The reset link carries its token in the path (`/account/wachtwoord-herstellen/{token}`), an
order's page, PDF and API its secret (`/bestelling/{secret}`, `/api/orders/{secret}`), and
uvicorn's access log, error logs and tracebacks write request paths. `RedactResetTokens`
rewrites a record's message, arguments and traceback so that the secret reads `[verborgen]`.
It keeps the record's shape (uvicorn's access formatter unpacks exactly five arguments).

Installed three ways, so that no configuration path misses it: on the `uvicorn.access` and
`uvicorn.error` loggers and the root handlers present (`install_redaction`, called when the app
is built), on the root handler of `observability.configure_logging`, and on every handler and
uvicorn logger of the `log_config` that `mierloos serve` passes to uvicorn
(`uvicorn_log_config`).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from typing import Any

REDACTED = "[verborgen]"
FILTER_NAME = "redact_reset_tokens"
UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")

# The path segment after a prefix that a secret follows, plain or percent-encoded (e.g. in a
# `next=` query): reset tokens, order secrets (page, tickets PDF, JSON API), waiting-list links.
_RESET_TOKEN = re.compile(
    r"((?:wachtwoord-herstellen|bestelling|api/orders|wachtlijst/aanbod|wachtlijst)(?:/|%2f))"
    r"[^\s/?#&\"'<>\\%]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    return _RESET_TOKEN.sub(r"\1" + REDACTED, text)


def _redacted_arg(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value  # keeps %d and %f working
    shown = str(value)
    cleaned = redact(shown)
    return value if cleaned == shown else cleaned


class RedactResetTokens(logging.Filter):
    """Replaces reset tokens in a record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        else:
            record.msg = _redacted_arg(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redacted_arg(arg) for arg in args)
        elif isinstance(args, Mapping):
            record.args = {key: _redacted_arg(value) for key, value in args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            trace = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            cleaned = redact(trace)
            if cleaned != trace:
                # Formatters would print the original traceback from exc_info: print ours.
                record.msg = f"{record.getMessage()}\n{cleaned}"
                record.args = None
                record.exc_info = None
                record.exc_text = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _add_once(target: logging.Filterer) -> None:
    if not any(isinstance(existing, RedactResetTokens) for existing in target.filters):
        target.addFilter(RedactResetTokens())


def install_redaction() -> None:
    """Put the filter on uvicorn's loggers and on every handler the root logger has now."""
    for name in UVICORN_LOGGERS:
        _add_once(logging.getLogger(name))
    for handler in logging.getLogger().handlers:
        _add_once(handler)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's loggers without handlers of their own: their records go up to the root.

    So the site's one handler (JSON lines in production, readable lines in development, see
    `configure_logging`) writes them too, and the filter sits on each uvicorn logger as well.
    """
    loggers = {
        name: {"handlers": [], "propagate": True, "level": "INFO", "filters": [FILTER_NAME]}
        for name in ("uvicorn", *UVICORN_LOGGERS)
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {FILTER_NAME: {"()": RedactResetTokens}},
        "loggers": loggers,
    }
