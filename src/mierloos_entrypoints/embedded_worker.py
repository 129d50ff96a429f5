"""The worker inside the web process, for the embedded setup of `mierloos serve`.

A Dramatiq Worker with a thread or two over a JobsBroker of its own, built from the site's
settings (the same database as the site), running the handlers of the site's own container.
It starts with the app's lifespan and stops at shutdown like `mierloos worker` on SIGTERM:
nothing new is claimed, running jobs finish, jobs waiting in memory are handed back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from mierloos_core.services.jobs import JobRegistry

if TYPE_CHECKING:
    from mierloos_entrypoints.container import Container

log = logging.getLogger("mierloos.worker")


class EmbeddedWorker:
    def __init__(self, container: Container, *, threads: int = 2, shutdown_timeout: float = 30):
        if threads < 1:
            raise ValueError("at least one thread")
        self.container = container
        self.threads = threads
        self.shutdown_timeout = shutdown_timeout
        self._worker: Any = None
        self._broker: Any = None

    def start(self) -> None:
        from dramatiq import Worker

        from mierloos_entrypoints.container import register_job_handlers
        from mierloos_entrypoints.worker.actors import QUEUE, declare_actors
        from mierloos_entrypoints.worker.broker import jobs_broker
        from mierloos_entrypoints.worker.handlers import use_registry

        settings = self.container.settings()
        handlers = JobRegistry()
        register_job_handlers(handlers, self.container)
        use_registry(handlers)
        self._broker = jobs_broker(settings.database_url, settings.worker)
        declare_actors(self._broker)
        self._broker.emit_after("process_boot")
        self._worker = Worker(self._broker, queues={QUEUE}, worker_threads=self.threads)
        self._worker.start()
        log.info("embedded worker ready: %d threads", self.threads)

    def stop(self) -> None:
        if self._worker is None:
            return
        log.info("embedded worker stopping: finishing or handing back the jobs in hand")
        self._worker.stop(timeout=int(self.shutdown_timeout * 1000))
        self._broker.close()
        self._worker = self._broker = None
        log.info("embedded worker stopped")


def worker_lifespan(
    embedded: EmbeddedWorker,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """The app's lifespan: the worker runs while the site does."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(embedded.start)
        try:
            yield
        finally:
            await run_in_threadpool(embedded.stop)

    return lifespan
