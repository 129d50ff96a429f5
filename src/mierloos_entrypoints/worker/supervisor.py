"""Running Dramatiq Workers until SIGTERM: in this process, or in worker processes under a
supervisor that starts again any that dies and stops them all on SIGTERM."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dramatiq import Worker

from mierloos_entrypoints.worker.handlers import registry
from mierloos_entrypoints.worker.health import IN_HAND, LAST_CLAIM, ProcessState, process_state
from mierloos_entrypoints.worker.process import setup

log = logging.getLogger("mierloos.worker")

#: Jobs a worker process holds per thread (Dramatiq's default is 2). The broker claims again
#: when half of it is free, so a busy process claims in batches of 4 per thread and its
#: threads run the jobs in hand while the next claim is on its way: with 2 per thread they
#: waited for claims of 8 jobs each. Jobs in hand that no thread has started yet are handed
#: back at shutdown, and their leases are renewed meanwhile.
PREFETCH_PER_THREAD = 8

#: Per worker process, in the supervisor's shared array: last loop, last claim, jobs in hand.
SHARED_FIELDS = 3


def run_here(
    threads: int,
    queues: Sequence[str] | None,
    shutdown_timeout: float,
    stop: threading.Event,
    on_loop: Callable[[ProcessState], None] | None = None,
) -> None:
    """Run one Dramatiq Worker in this process until `stop` is set, then shut down gracefully.

    Jobs still running when `shutdown_timeout` ends are handed back (`JobsBroker.close`)."""
    broker = setup().broker
    registry()  # fail at start, not at the first job, when the handlers cannot be built
    broker.emit_after("process_boot")
    worker = Worker(broker, queues=set(queues) if queues else None, worker_threads=threads)
    worker.queue_prefetch = threads * PREFETCH_PER_THREAD  # read by start()
    worker.start()
    log.info("worker %s ready: %d threads", broker.worker_id, threads)
    while not stop.wait(0.5):
        state = process_state(broker, threads)
        IN_HAND.set(state.in_hand)
        LAST_CLAIM.set(state.last_claim)
        if on_loop is not None:
            on_loop(state)
    log.info("stopping: no new claims; finishing or handing back the jobs in hand")
    worker.stop(timeout=int(shutdown_timeout * 1000))
    broker.close()
    log.info("worker %s stopped", broker.worker_id)


def install_stop_signals(stop: threading.Event) -> None:
    def handle(signum: int, _frame: Any) -> None:
        if stop.is_set():
            log.warning("second signal: exiting now; leases of running jobs will expire")
            os._exit(1)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def configure_worker_logging() -> None:
    if logging.getLogger().handlers:
        return
    try:
        from mierloos_entrypoints.observability import configure_logging

        configure_logging()
    except Exception:  # pragma: no cover - logging must never stop a worker
        logging.basicConfig(level=logging.INFO)


def _child(
    index: int,
    threads: int,
    queues: Sequence[str] | None,
    shutdown_timeout: float,
    loops: Any,
) -> None:
    """One worker process of `supervise`: reports its loop's heartbeat to the parent."""
    configure_worker_logging()
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent forwards a SIGTERM instead

    def handle(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)

    supervisor = multiprocessing.parent_process()

    def report(state: ProcessState) -> None:
        base = index * SHARED_FIELDS
        loops[base : base + SHARED_FIELDS] = [state.last_loop, state.last_claim, state.in_hand]
        if supervisor is not None and not supervisor.is_alive() and not stop.is_set():
            # A supervisor killed outright (SIGKILL, OOM) cannot forward a SIGTERM: stop as if
            # it had, rather than go on claiming jobs with nobody watching this process.
            log.warning("the supervising process is gone: stopping this worker process")
            stop.set()

    run_here(threads, queues, shutdown_timeout, stop, on_loop=report)


def shared_states(processes: int) -> Any:
    """The array the worker processes report their loops in (see SHARED_FIELDS)."""
    context = multiprocessing.get_context("spawn")
    return context.Array("d", [time.time(), time.time(), 0.0] * processes, lock=False)


def child_states(shared: Any, children: list[Any], threads: int) -> list[ProcessState]:
    """The worker processes' states as they last reported them, for /health."""
    return [
        ProcessState(
            pid=child.pid,
            alive=child.is_alive(),
            last_loop=shared[i * SHARED_FIELDS],
            last_claim=shared[i * SHARED_FIELDS + 1],
            in_hand=int(shared[i * SHARED_FIELDS + 2]),
            threads=threads,
        )
        for i, child in enumerate(children)
        if child is not None
    ]


@contextlib.contextmanager
def shared_metrics_dir(needed: bool) -> Iterator[str | None]:
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


def supervise(
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
        shared[index * SHARED_FIELDS] = time.time()
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
