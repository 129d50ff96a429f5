"""The worker's `/health` and `/metrics` server, what `/health` says, and the worker gauges.

`/health` is 200 only when all of these hold:
- the database answers and its schema is migrated (`mierloos migrate`);
- every worker process is alive and its consumer loop turned within `LOOP_STALE_SECONDS`;
- no process is stuck: with free capacity (fewer unfinished jobs in hand than threads) while a
  job has been ready for `stuck_after` seconds (WORKER_STUCK_SECONDS, default 30), it has
  claimed nothing for that long either.
Otherwise 503, with the reason in the JSON body.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import bindparam, case, func, or_, select, text
from sqlalchemy.exc import DBAPIError

from mierloos_adapters.jobqueue.broker import JobsBroker
from mierloos_adapters.sqlalchemy import make_engine
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_core.model.jobs import JobStatus
from mierloos_entrypoints.metrics import CONTENT_TYPE, exposition
from mierloos_entrypoints.metrics_access import metrics_refusal

#: A worker whose consumer loop has not turned for this long is reported unhealthy.
LOOP_STALE_SECONDS = 30.0
#: How often the database is asked, at most; probes in between get the last answer.
CHECK_EVERY_SECONDS = 2.0

IN_HAND = Gauge(
    "mierloos_worker_messages_in_hand",
    "Jobs a worker process holds that have not finished running (waiting or running)",
    multiprocess_mode="livesum",
)
LAST_CLAIM = Gauge(
    "mierloos_worker_last_claim_timestamp_seconds",
    "Unix time of the last claim that took at least one job",
    multiprocess_mode="max",
)


@dataclass(frozen=True)
class DatabaseState:
    reachable: bool
    error: str | None = None
    oldest_ready: float | None = None  # Unix time since when a job has been ready to run


@dataclass(frozen=True)
class ProcessState:
    pid: int | None
    alive: bool
    last_loop: float
    last_claim: float
    in_hand: int
    threads: int


class DatabaseCheck:
    """Asks the database whether it answers, is migrated, and since when a job is ready."""

    def __init__(self, url: str) -> None:
        # One connection for the health check, one for a /metrics scrape at the same time.
        self.engine = make_engine(url, pool_size=1, max_overflow=1)
        self.lock = threading.Lock()
        self.checked_at = 0.0
        self.state = DatabaseState(False, "not checked yet")
        j = t.jobs
        self.ready_since = select(
            func.min(
                case(
                    (
                        j.c.status == JobStatus.PENDING.value,
                        func.coalesce(j.c.next_retry_at, j.c.created_at),
                    ),
                    else_=j.c.lease_expires_at,
                )
            )
        ).where(
            or_(
                (j.c.status == JobStatus.PENDING.value)
                & (j.c.next_retry_at.is_(None) | (j.c.next_retry_at <= _now())),
                (j.c.status == JobStatus.PROCESSING.value) & (j.c.lease_expires_at < _now()),
            )
        )

    def __call__(self) -> DatabaseState:
        with self.lock:
            if time.monotonic() - self.checked_at < CHECK_EVERY_SECONDS:
                return self.state
            self.state = self._ask()
            self.checked_at = time.monotonic()
            return self.state

    def _ask(self) -> DatabaseState:
        from mierloos_adapters.migrations import head_revision

        try:
            with self.engine.connect() as connection:
                migrated = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
                if migrated != head_revision():
                    return DatabaseState(
                        True, f"schema at {migrated}, not {head_revision()}: run mierloos migrate"
                    )
                since = connection.execute(self.ready_since, {"now": datetime.now(UTC)}).scalar()
        except DBAPIError as error:
            if _is_missing_table(error):
                return DatabaseState(True, "not migrated: run mierloos migrate")
            return DatabaseState(False, type(error.orig or error).__name__)
        except Exception as error:
            return DatabaseState(False, type(error).__name__)
        return DatabaseState(True, None, since.timestamp() if since is not None else None)


def _now() -> Any:
    return bindparam("now", type_=UtcDateTime)


def _is_missing_table(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    return code == "42P01" or "no such table" in str(error.orig)


def health_report(
    database: Callable[[], DatabaseState],
    processes: Sequence[ProcessState],
    *,
    stuck_after: float,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of `/health` (see the module doc)."""
    state = database()
    now = time.time()
    ready_for = now - state.oldest_ready if state.oldest_ready is not None else 0.0
    workers = []
    for p in processes:
        turning = p.alive and now - p.last_loop < LOOP_STALE_SECONDS
        stuck = (
            turning
            and p.in_hand < p.threads
            and ready_for >= stuck_after
            and now - p.last_claim >= stuck_after
        )
        workers.append(
            {
                "pid": p.pid,
                "alive": turning and not stuck,
                "last_loop_seconds_ago": round(max(now - p.last_loop, 0.0), 3),
                "last_claim_seconds_ago": round(max(now - p.last_claim, 0.0), 3),
                "in_hand": p.in_hand,
                **({"stuck": f"claimed nothing for {stuck_after:g} s"} if stuck else {}),
            }
        )
    database_ok = state.reachable and state.error is None
    healthy = database_ok and bool(workers) and all(w["alive"] for w in workers)
    body: dict[str, Any] = {
        "status": "ok" if healthy else "unavailable",
        "database": {
            "reachable": state.reachable,
            **({"error": state.error} if state.error else {}),
        },
        "workers": workers,
    }
    if state.oldest_ready is not None:
        body["oldest_ready_job_seconds"] = round(ready_for, 3)
    return (200 if healthy else 503), body


def process_state(broker: JobsBroker, threads: int) -> ProcessState:
    """This process's consumer loop, claims and jobs in hand, as /health weighs them."""
    return ProcessState(
        pid=os.getpid(),
        alive=True,
        last_loop=broker.last_loop_at,
        last_claim=broker.last_claim_at,
        in_hand=len(broker.unfinished()),
        threads=threads,
    )


def serve_health(
    host: str,
    port: int,
    report: Callable[[], tuple[int, dict[str, Any]]],
    metrics: Callable[[], bytes] | None = None,
    *,
    metrics_token: str | None = None,
) -> ThreadingHTTPServer:
    """/health (the report, open to probes) and /metrics (Prometheus text, by default this
    process's) for the clients the web site's rule lets in (`metrics_refusal`)."""
    scrape: Callable[[], bytes] = metrics or exposition

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            extra_headers: dict[str, str] = {}
            if self.path.split("?")[0] == "/health":
                status, body = report()
                payload, content_type = json.dumps(body).encode(), "application/json"
            elif self.path.split("?")[0] == "/metrics":
                refusal = metrics_refusal(
                    metrics_token, self.client_address[0], self.headers.get("Authorization", "")
                )
                if refusal is None:
                    status, payload, content_type = 200, scrape(), CONTENT_TYPE
                else:
                    status, payload, content_type = (
                        refusal.status,
                        refusal.body.encode(),
                        "text/plain; charset=utf-8",
                    )
                    extra_headers.update(refusal.headers)
            else:
                status, payload, content_type = 404, b'{"error": "not found"}', "application/json"
            self.send_response(status)
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
