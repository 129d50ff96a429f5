"""Logs and metrics shared by the web site and the worker.

Logs: JSON lines in production, readable lines in development; every record carries the
order and job ids of the work in hand (set with `log_context`). Metrics: Prometheus
counters and histograms, served on the web and worker health ports at /metrics.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Histogram

from mierloos_entrypoints.log_redaction import RedactResetTokens

_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "log_context", default=()
)

CONTEXT_FIELDS = ("order_id", "job_id", "job_type", "request_id")

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
    merged = {**dict(_context.get()), **{k: str(v) for k, v in fields.items() if v}}
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


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else ReadableFormatter())
    handler.addFilter(_ContextFilter())
    handler.addFilter(RedactResetTokens())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that would otherwise log request URLs with credentials or tokens in them.
    for noisy in ("botocore", "boto3", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Alembic announces each of its plugins at start-up; the migrations it runs stay visible.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
