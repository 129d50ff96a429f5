"""`run_worker` and `main`: the worker's entry points, with its /health and /metrics."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_entrypoints.config import WorkerConfig
from mierloos_entrypoints.metrics import exposition
from mierloos_entrypoints.worker.health import (
    DatabaseCheck,
    ProcessState,
    health_report,
    process_state,
    serve_health,
)
from mierloos_entrypoints.worker.process import setup
from mierloos_entrypoints.worker.supervisor import (
    child_states,
    configure_worker_logging,
    install_stop_signals,
    run_here,
    shared_metrics_dir,
    shared_states,
    supervise,
)


class PortInUse(Exception):
    """The health port cannot be bound: another process (a second worker?) has it."""


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)


def run_worker(
    processes: int = 1,
    threads: int = 8,
    *,
    port: int | None = None,
    host: str | None = None,
    queues: Sequence[str] | None = None,
    shutdown_timeout: float | None = None,
) -> int:
    """Run the worker until SIGTERM or SIGINT; the exit status.

    `processes` worker processes with `threads` threads each; one process runs in this one,
    more are started with multiprocessing (spawn) and supervised: one that dies is started
    again. `/health` on `port` (default PORT, else 8080; 0 = none) answers as
    `worker.health` describes. On SIGTERM nothing new is claimed, running jobs finish (up to
    `shutdown_timeout` seconds, WORKER_SHUTDOWN_TIMEOUT, default 600) or are handed back when
    it ends, jobs waiting in memory are handed back, and it exits with 0. Raises PortInUse
    when the health port is taken.
    """
    if processes < 1 or threads < 1:
        raise ValueError("at least one process and one thread")
    configure_worker_logging()
    this_process = setup()
    config = this_process.config
    _ensure_sqlite_dir(config.database_url)
    settings = config.worker
    timeout = settings.shutdown_timeout if shutdown_timeout is None else shutdown_timeout
    shared = shared_states(processes)
    children: list[Any] = []

    def states() -> list[ProcessState]:
        if processes == 1:
            return [process_state(this_process.broker, threads)]
        return child_states(shared, children, threads)

    with shared_metrics_dir(processes > 1) as metrics_dir:
        server = _health_server(
            config,
            settings.health_port if port is None else port,
            host or settings.health_host,
            states,
            metrics_dir,
        )
        stop = threading.Event()
        install_stop_signals(stop)
        try:
            if processes == 1:
                run_here(threads, queues, timeout, stop)
                return 0
            return supervise(processes, threads, queues, timeout, stop, shared, children)
        finally:
            if server is not None:
                server.shutdown()


def _health_server(
    config: WorkerConfig,
    port: int,
    host: str,
    states: Callable[[], list[ProcessState]],
    metrics_dir: str | None,
) -> ThreadingHTTPServer | None:
    """/health and /metrics on `host`:`port` (none for port 0); PortInUse when it is taken."""
    if not port:
        return None
    check = DatabaseCheck(config.database_url)
    ledger = SqlJobLedger(check.engine, SystemClock())
    stuck_after = config.worker.stuck_seconds

    def report() -> tuple[int, dict[str, Any]]:
        return health_report(check, states(), stuck_after=stuck_after)

    def metrics() -> bytes:
        return exposition(ledger, multiprocess_dir=metrics_dir)

    try:
        return serve_health(host, port, report, metrics, metrics_token=config.metrics_token)
    except OSError as error:
        raise PortInUse(f"the health port {host}:{port} is not free ({error.strerror})") from None


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m mierloos_entrypoints.worker [--processes N] [--threads N]`."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="mierloos-worker",
        description="The background worker: Dramatiq over the `jobs` table.",
    )
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--queues", nargs="*", default=None)
    args = parser.parse_args(argv)
    try:
        return run_worker(args.processes, args.threads, port=args.port, queues=args.queues)
    except PortInUse as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
