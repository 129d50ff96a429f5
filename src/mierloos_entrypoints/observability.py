"""Logs and metrics shared by the web site and the worker.

Logs: JSON lines or readable lines (LOG_FORMAT), at LOG_LEVEL; every record carries the
order and job ids of the work in hand as fields (set with `log_context`, by `JobLogContext`
for Dramatiq's own records, and by `RequestLogContext` for the access log). Metrics:
Prometheus counters and histograms, served on the web and worker health ports at /metrics.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from dramatiq.middleware import Middleware
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mierloos_entrypoints.log_redaction import RedactResetTokens
from mierloos_entrypoints.log_settings import LOG_FORMATS

_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "log_context", default=()
)

CONTEXT_FIELDS = ("order_id", "job_id", "job_type", "request_id")
# The ids a web request has come to be about, shared (mutable) by everything it runs, so the
# access log written after the handler returns still knows them (see RequestLogContext).
_request_ids: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "request_ids", default=None
)
_ID_FIELDS = ("order_id", "job_id")

JOBS = Counter("mierloos_jobs_total", "Jobs finished, by type and outcome", ["type", "outcome"])
JOB_SECONDS = Histogram(
    "mierloos_job_duration_seconds",
    "Time spent running jobs, by type",
    ["type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
CHECKOUTS = Counter("mierloos_checkouts_total", "Checkout attempts, by outcome", ["outcome"])
WEBHOOKS = Counter("mierloos_webhooks_total", "Payment webhooks received, by outcome", ["outcome"])


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add fields (order_id, job_id, ...) to every log record written inside the block."""
    given = {k: str(v) for k, v in fields.items() if v}
    request_ids = _request_ids.get()
    if request_ids is not None:
        request_ids.update({k: v for k, v in given.items() if k in _ID_FIELDS})
    merged = {**dict(_context.get()), **given}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


@contextlib.contextmanager
def timed_job(job_type: str) -> Iterator[None]:
    """Count and time one run of a job; the outcome is `ok` or the exception's name."""
    start = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except BaseException as error:
        outcome = type(error).__name__
        raise
    finally:
        JOB_SECONDS.labels(job_type).observe(time.perf_counter() - start)
        JOBS.labels(job_type, outcome).inc()


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_request_ids.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        for key, value in _context.get():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class ReadableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}: "
        line += record.getMessage()
        extras = [f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if hasattr(record, k)]
        if extras:
            line += "  [" + " ".join(extras) + "]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    *,
    json_lines: bool | None = None,
    level: int | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """One handler on the root logger, for the site, the worker, Dramatiq and SQLAlchemy.

    The level is `level`, else LOG_LEVEL, else INFO; SQLAlchemy's loggers follow it at DEBUG
    (statements) and otherwise stay at WARNING. The format is JSON lines when `json_lines`,
    else LOG_FORMAT (json or text), else JSON outside the embedded setup (a DATABASE_URL that
    is not SQLite) and text inside it.
    """
    environ = os.environ if environ is None else environ
    if level is None:
        level = environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if isinstance(level, str):
        level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    if json_lines is None:
        chosen = environ.get("LOG_FORMAT", "").strip().lower()
        database = environ.get("DATABASE_URL", "").strip()
        embedded = not database or database.startswith("sqlite")
        json_lines = chosen == "json" if chosen in LOG_FORMATS else not embedded
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else ReadableFormatter())
    handler.addFilter(_ContextFilter())
    handler.addFilter(RedactResetTokens())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("sqlalchemy").setLevel(max(level, logging.WARNING))
    if level <= logging.DEBUG:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    logging.getLogger("mierloos_entrypoints").setLevel(level)
    logging.getLogger("mierloos_adapters").setLevel(level)
    # Libraries that would otherwise log request URLs with credentials or tokens in them.
    for noisy in ("botocore", "boto3", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Alembic announces each of its plugins at start-up; the migrations it runs stay visible.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


class JobLogContext(Middleware):
    """Dramatiq middleware: the job's id and type on every record about it, Dramatiq's too.

    Set before the actor runs and cleared once the job is acked or nacked, so "Failed to
    process message" and the broker's own records about settling it carry the ids.
    """

    def before_process_message(self, broker: Any, message: Any) -> None:
        _context.set((("job_id", str(message.message_id)), ("job_type", message.actor_name)))

    def _clear(self, broker: Any, message: Any, **_kwargs: Any) -> None:
        _context.set(())

    after_ack = after_nack = after_skip_message = _clear


class RequestLogContext:
    """ASGI middleware: the order or job a request is about on every record it causes, the
    access log's included.

    The ids come from the path (`order_id`, `job_id` parameters) and from any `log_context`
    the handlers open; uvicorn writes the access log when the response starts, after the
    handler's own context has closed, so the request keeps them in one shared holder.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ids: dict[str, str] = {}
        token = _request_ids.set(ids)

        async def send_with_ids(message: Message) -> None:
            params = scope.get("path_params") or {}
            ids.update({k: str(params[k]) for k in _ID_FIELDS if k in params and k not in ids})
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            _request_ids.reset(token)
