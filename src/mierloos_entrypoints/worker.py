"""The background worker: Dramatiq over the `jobs` table, one thin actor per job type.

Run it with ``mierloos worker`` (which calls `run_worker`) or with Dramatiq's own command,
``dramatiq mierloos_entrypoints.worker``: importing this module sets up the broker and the
actors. Each actor hands its job to the core's JobRegistry, which the composition root fills
(see `build_registry`).

Environment:
  DATABASE_URL               the database (default sqlite:///$MIERLOOS_VAR_DIR/mierloos.db)
  WORKER_POLLING_INTERVAL    base seconds of retry backoff and of idle polling (default 5)
  WORKER_MAX_ATTEMPTS        attempts before a job is failed (default 5)
  WORKER_LEASE_SECONDS       how long a claim lasts without a heartbeat (default 60)
  ORPHANED_ORDER_CLEANUP_PERIOD   seconds between cleanup jobs, 0 = never (default 300)
  REFUND_FOLLOW_UP_PERIOD    seconds between looks at unfinished refunds, 0 = never (default 600)
  JOBS_RETENTION_DAYS        completed jobs older than this are purged once a day, 0 = never
                             (default 30)
  MIERLOOS_JOB_HANDLERS      "module:function" returning the JobRegistry
                             (default mierloos_entrypoints.worker:build_registry)
  PORT                       the /health (and /metrics) HTTP port, 0 = off (default 8080)
  HEALTH_HOST                the address it listens on (default 0.0.0.0)
  METRICS_TOKEN              bearer token for /metrics; without it only loopback clients get
                             them (/health stays open to probes)
  WORKER_SHUTDOWN_TIMEOUT    seconds SIGTERM waits for running jobs; those still running
                             then are handed back (default 600)
  WORKER_STUCK_SECONDS       /health is 503 when a process with free threads has claimed
                             nothing for this long while a job has been ready as long
                             (default 30)
  LOG_LEVEL, LOG_FORMAT      see `mierloos_entrypoints.observability.configure_logging`
  PROMETHEUS_MULTIPROC_DIR   where worker processes share their metrics with the supervisor
                             (default: a temporary directory, when --processes > 1)

/metrics shows the jobs run and their durations (by type and outcome, summed over the worker
processes) and the jobs table's counts by type and status.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq import Worker
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.jobqueue.broker import JobsBroker
from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.sqlalchemy import make_engine, normalize_database_url
from mierloos_core.model.jobs import JobType, RetryPolicy
from mierloos_core.services.jobs import JobRegistry, is_retryable
from mierloos_entrypoints.metrics import exposition
from mierloos_entrypoints.metrics_access import metrics_refusal
from mierloos_entrypoints.observability import JobLogContext, log_context, timed_job
from mierloos_entrypoints.worker_health import (
    IN_HAND,
    LAST_CLAIM,
    DatabaseCheck,
    ProcessState,
    health_report,
)

log = logging.getLogger("mierloos.worker")

#: How long one run of each job type may take before Dramatiq's TimeLimit interrupts it
#: (the attempt then fails and is retried like any other failure).
TIME_LIMITS: dict[str, timedelta] = {
    JobType.PDF_GENERATION: timedelta(minutes=2),
    JobType.EMAIL: timedelta(minutes=1),
    JobType.IMAGE_PROCESSING: timedelta(minutes=5),
    JobType.PAYMENT_CREATION: timedelta(minutes=1),
    JobType.PAYMENT_WEBHOOK: timedelta(minutes=1),
    JobType.ORPHANED_ORDER_CLEANUP: timedelta(minutes=5),
    JobType.REFUND_FOLLOW_UP: timedelta(minutes=5),
    JobType.JOBS_PURGE: timedelta(minutes=5),
    JobType.REFUND: timedelta(minutes=1),
    JobType.PAYMENT_CANCEL: timedelta(minutes=1),
}

#: How often completed jobs past JOBS_RETENTION_DAYS are purged.
JOBS_PURGE_PERIOD = timedelta(days=1)

QUEUE = "default"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _env_float(name: str, default: float, low: float) -> float:
    raw = _env(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None
    if value < low:
        raise SystemExit(f"{name} must be at least {low}")
    return value


def metrics_token() -> str | None:
    """METRICS_TOKEN, the bearer token for /metrics (see `serve_health`)."""
    token = os.environ.get("METRICS_TOKEN", "").strip() or None
    if token is not None and len(token) < 16:
        raise SystemExit("METRICS_TOKEN must be at least 16 characters long")
    return token


def database_url() -> str:
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured:
        return normalize_database_url(configured)
    var_dir = Path(_env("MIERLOOS_VAR_DIR", "var")).resolve()
    return f"sqlite:///{var_dir / 'mierloos.db'}"


def retry_policy() -> RetryPolicy:
    """WORKER_POLLING_INTERVAL is the base, doubling per attempt, capped at 5 minutes."""
    base = timedelta(seconds=_env_float("WORKER_POLLING_INTERVAL", 5.0, 0.01))
    attempts = int(_env_float("WORKER_MAX_ATTEMPTS", 5, 1))
    return RetryPolicy(base=base, cap=max(timedelta(minutes=5), base), max_attempts=attempts)


# --- the job handlers ------------------------------------------------------------------------


def build_registry() -> JobRegistry:
    """The default MIERLOOS_JOB_HANDLERS hook: the composition root's handlers.

    The container registers the core services (`register_job_handlers(registry)` in
    `mierloos_entrypoints.container`, when it exists). A job type without a handler fails at
    once as unknown, and the worker logs at start which types have none.
    """
    registry = JobRegistry()
    try:
        from mierloos_entrypoints import container
    except ImportError:  # pragma: no cover - the container is part of the package
        return registry
    register = getattr(container, "register_job_handlers", None)
    if register is not None:
        register(registry)
    return registry


_registry: JobRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> JobRegistry:
    """This process's JobRegistry, built once from MIERLOOS_JOB_HANDLERS."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = _load_registry()
    return _registry


def use_registry(handlers: JobRegistry) -> None:
    """Run this process's jobs with these handlers (the embedded worker of `mierloos serve`)."""
    global _registry
    with _registry_lock:
        _registry = handlers


def _load_registry() -> JobRegistry:
    path = _env("MIERLOOS_JOB_HANDLERS", "mierloos_entrypoints.worker:build_registry")
    module_name, _, attribute = path.partition(":")
    factory: Callable[[], JobRegistry] = getattr(
        importlib.import_module(module_name), attribute or "build_registry"
    )
    built = factory()
    if not isinstance(built, JobRegistry):
        raise TypeError(f"{path} returned {type(built).__name__}, not a JobRegistry")
    missing = sorted(set(JobType) - built.job_types)
    if missing:
        log.warning("no handler for job types %s: such jobs fail as unknown", ", ".join(missing))
    return built


def _give_up(job_type: str, data: Any, reason: str) -> None:
    registry().gave_up(job_type, data, reason)


def run_job(job_type: str, data: Any) -> None:
    """What every actor does: run the registered handler, with the job in the log context."""
    message = CurrentMessage.get_current_message()
    job_id = message.message_id if message is not None else None
    with log_context(job_id=job_id, job_type=job_type), timed_job(str(job_type)):
        registry().run(job_type, data)


# --- the broker and the actors -------------------------------------------------------------


def setup_broker() -> JobsBroker:
    """A JobsBroker from the environment, set as Dramatiq's global broker."""
    url = database_url()
    # Worker threads settle their jobs concurrently; the consumer, heartbeat and scheduler
    # threads need one each. Overflow connections close again when the rush is over.
    # No pre-ping: the broker turns a lost connection into Dramatiq's ConnectionError and the
    # pool replaces it, so testing every checkout would only add a round trip per claim/ack.
    engine: Engine = make_engine(url, pool_size=10, max_overflow=20, pre_ping=False)
    policy = retry_policy()
    broker = JobsBroker(
        engine,
        policy=policy,
        poll_interval=policy.base,
        lease=timedelta(seconds=_env_float("WORKER_LEASE_SECONDS", 60, 0.5)),
        is_retryable=is_retryable,
        on_give_up=_give_up,
        async_commit=True,  # its own engine; see JobsBroker
    )
    cleanup = _env_float("ORPHANED_ORDER_CLEANUP_PERIOD", 300, 0)
    if cleanup > 0:
        broker.schedule(JobType.ORPHANED_ORDER_CLEANUP, timedelta(seconds=max(cleanup, 1)))
    refunds = _env_float("REFUND_FOLLOW_UP_PERIOD", 600, 0)
    if refunds > 0:
        broker.schedule(JobType.REFUND_FOLLOW_UP, timedelta(seconds=max(refunds, 1)))
    retention = _env_float("JOBS_RETENTION_DAYS", 30, 0)
    if retention > 0:
        broker.schedule(JobType.JOBS_PURGE, JOBS_PURGE_PERIOD, {"older_than_days": retention})
    broker.add_middleware(JobLogContext())
    dramatiq.set_broker(broker)
    return broker


broker = setup_broker()


def _limit(job_type: JobType) -> int:
    return int(TIME_LIMITS[job_type].total_seconds() * 1000)


def _declare_actor(job_type: JobType) -> dramatiq.Actor[[dict[str, Any]], None]:
    def perform(data: dict[str, Any]) -> None:
        run_job(job_type, data)

    perform.__name__ = perform.__qualname__ = job_type.value
    return dramatiq.actor(actor_name=job_type.value, queue_name=QUEUE, time_limit=_limit(job_type))(
        perform
    )


#: One thin actor per job type, declared on the broker above; a job type without a time limit
#: in TIME_LIMITS fails here, at import, rather than at its first job.
ACTORS = {job_type: _declare_actor(job_type) for job_type in JobType}


# --- health ------------------------------------------------------------------------------------


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
    from mierloos_entrypoints.metrics import CONTENT_TYPE

    metrics = metrics or exposition

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
                    status, payload, content_type = 200, metrics(), CONTENT_TYPE
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


# --- running -----------------------------------------------------------------------------------


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)


def process_state(threads: int) -> ProcessState:
    """This process's consumer loop, claims and jobs in hand, as /health weighs them."""
    return ProcessState(
        pid=os.getpid(),
        alive=True,
        last_loop=broker.last_loop_at,
        last_claim=broker.last_claim_at,
        in_hand=len(broker.unfinished()),
        threads=threads,
    )


def _run_here(
    threads: int,
    queues: Sequence[str] | None,
    shutdown_timeout: float,
    stop: threading.Event,
    on_loop: Callable[[ProcessState], None] | None = None,
) -> None:
    """Run one Dramatiq Worker in this process until `stop` is set, then shut down gracefully.

    Jobs still running when `shutdown_timeout` ends are handed back (`JobsBroker.close`)."""
    registry()  # fail at start, not at the first job, when the handlers cannot be built
    broker.emit_after("process_boot")
    worker = Worker(broker, queues=set(queues) if queues else None, worker_threads=threads)
    worker.start()
    log.info("worker %s ready: %d threads", broker.worker_id, threads)
    while not stop.wait(0.5):
        state = process_state(threads)
        IN_HAND.set(state.in_hand)
        LAST_CLAIM.set(state.last_claim)
        if on_loop is not None:
            on_loop(state)
    log.info("stopping: no new claims; finishing or handing back the jobs in hand")
    worker.stop(timeout=int(shutdown_timeout * 1000))
    broker.close()
    log.info("worker %s stopped", broker.worker_id)


def _install_stop_signals(stop: threading.Event) -> None:
    def handle(signum: int, _frame: Any) -> None:
        if stop.is_set():
            log.warning("second signal: exiting now; leases of running jobs will expire")
            os._exit(1)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _child(
    index: int,
    threads: int,
    queues: Sequence[str] | None,
    shutdown_timeout: float,
    loops: Any,
) -> None:
    """One worker process of `run_worker`: reports its loop's heartbeat to the parent."""
    _configure_logging()
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent forwards a SIGTERM instead

    def handle(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)

    supervisor = multiprocessing.parent_process()

    def report(state: ProcessState) -> None:
        base = index * _SHARED_FIELDS
        loops[base : base + _SHARED_FIELDS] = [state.last_loop, state.last_claim, state.in_hand]
        if supervisor is not None and not supervisor.is_alive() and not stop.is_set():
            # A supervisor killed outright (SIGKILL, OOM) cannot forward a SIGTERM: stop as if
            # it had, rather than go on claiming jobs with nobody watching this process.
            log.warning("the supervising process is gone: stopping this worker process")
            stop.set()

    _run_here(threads, queues, shutdown_timeout, stop, on_loop=report)


def _configure_logging() -> None:
    if logging.getLogger().handlers:
        return
    try:
        from mierloos_entrypoints.observability import configure_logging

        configure_logging()
    except Exception:  # pragma: no cover - logging must never stop a worker
        logging.basicConfig(level=logging.INFO)


#: Per worker process, in the supervisor's shared array: last loop, last claim, jobs in hand.
_SHARED_FIELDS = 3


class PortInUse(Exception):
    """The health port cannot be bound: another process (a second worker?) has it."""


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
    `worker_health` describes. On SIGTERM nothing new is claimed, running jobs finish (up to
    `shutdown_timeout` seconds, WORKER_SHUTDOWN_TIMEOUT, default 600) or are handed back when
    it ends, jobs waiting in memory are handed back, and it exits with 0. Raises PortInUse
    when the health port is taken.
    """
    if processes < 1 or threads < 1:
        raise ValueError("at least one process and one thread")
    _configure_logging()
    url = database_url()
    _ensure_sqlite_dir(url)
    port = int(_env("PORT", "8080")) if port is None else port
    host = host or _env("HEALTH_HOST", "0.0.0.0")  # noqa: S104 - probes come from outside
    token = metrics_token()
    timeout = (
        _env_float("WORKER_SHUTDOWN_TIMEOUT", 600, 1)
        if shutdown_timeout is None
        else shutdown_timeout
    )
    stuck_after = _env_float("WORKER_STUCK_SECONDS", 30, 1)
    check = DatabaseCheck(url)
    ledger = SqlJobLedger(check.engine, SystemClock())
    context = multiprocessing.get_context("spawn")
    shared = context.Array("d", [time.time(), time.time(), 0.0] * processes, lock=False)
    children: list[Any] = []

    def states() -> list[ProcessState]:
        if processes == 1:
            return [process_state(threads)]
        return [
            ProcessState(
                pid=child.pid,
                alive=child.is_alive(),
                last_loop=shared[i * _SHARED_FIELDS],
                last_claim=shared[i * _SHARED_FIELDS + 1],
                in_hand=int(shared[i * _SHARED_FIELDS + 2]),
                threads=threads,
            )
            for i, child in enumerate(children)
            if child is not None
        ]

    def report() -> tuple[int, dict[str, Any]]:
        return health_report(check, states(), stuck_after=stuck_after)

    with _shared_metrics_dir(processes > 1) as metrics_dir:

        def metrics() -> bytes:
            return exposition(ledger, multiprocess_dir=metrics_dir)

        server = None
        if port:
            try:
                server = serve_health(host, port, report, metrics, metrics_token=token)
            except OSError as error:
                raise PortInUse(
                    f"the health port {host}:{port} is not free ({error.strerror})"
                ) from None
        stop = threading.Event()
        _install_stop_signals(stop)
        try:
            if processes == 1:
                _run_here(threads, queues, timeout, stop)
                return 0
            return _supervise(processes, threads, queues, timeout, stop, shared, children)
        finally:
            if server is not None:
                server.shutdown()


@contextlib.contextmanager
def _shared_metrics_dir(needed: bool) -> Iterator[str | None]:
    """Where the worker processes write their counters for the supervisor's /metrics.

    PROMETHEUS_MULTIPROC_DIR when set, else a temporary directory removed at exit; children
    are started with spawn, so they see it before prometheus_client is imported.
    """
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not needed or configured:
        yield configured if needed else None
        return
    directory = tempfile.mkdtemp(prefix="mierloos-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield directory
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(directory, ignore_errors=True)


def _supervise(
    processes: int,
    threads: int,
    queues: Sequence[str] | None,
    timeout: float,
    stop: threading.Event,
    shared: Any,
    children: list[Any],
) -> int:
    """Run `processes` worker processes, starting again any that dies, until `stop` is set."""
    context = multiprocessing.get_context("spawn")
    children[:] = [None] * processes

    def start(index: int) -> None:
        shared[index * _SHARED_FIELDS] = time.time()
        child = context.Process(
            target=_child,
            args=(index, threads, list(queues or []), timeout, shared),
            name=f"mierloos-worker-{index}",
        )
        child.start()
        children[index] = child

    for index in range(processes):
        start(index)
    while not stop.wait(1.0):
        for index, child in enumerate(children):
            if not child.is_alive():
                log.error(
                    "worker process %s exited (%s); starting another", child.pid, child.exitcode
                )
                start(index)
    for child in children:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join(timeout + 30)
    # A child still starting up has no SIGTERM handler yet and dies of the signal; it had
    # claimed nothing, so that is a clean stop too.
    clean = (0, -signal.SIGTERM)
    return 0 if all(c.exitcode in clean for c in children) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m mierloos_entrypoints.worker [--processes N] [--threads N]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="mierloos-worker", description=__doc__.splitlines()[0])
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


if __name__ == "__main__":
    # Run the importable module, not this __main__ copy, so there is one broker and one
    # set of actors however the handlers' modules import this one.
    from mierloos_entrypoints.worker import main as _main

    sys.exit(_main())
