"""The worker inside the web process, for the embedded setup of `mierloos serve`.

A Dramatiq Worker with a thread or two over the worker module's JobsBroker (the same SQLite
database as the site), running the handlers of the site's own container. It starts with the
app's lifespan and stops at shutdown like `mierloos worker` on SIGTERM: nothing new is
claimed, running jobs finish, jobs waiting in memory are handed back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from mierloos_adapters.sqlalchemy import normalize_database_url
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

    def start(self) -> None:
        # Importing the worker module builds its broker from the same environment as the
        # site's settings; a different database would mean jobs nobody here can see.
        from dramatiq import Worker

        from mierloos_entrypoints import worker
        from mierloos_entrypoints.container import register_job_handlers

        settings = self.container.settings()
        if worker.broker.engine.url != make_url(normalize_database_url(settings.database_url)):
            raise RuntimeError("the embedded worker's database is not the site's")
        handlers = JobRegistry()
        register_job_handlers(handlers, self.container)
        worker.use_registry(handlers)
        worker.broker.emit_after("process_boot")
        self._worker = Worker(worker.broker, queues={worker.QUEUE}, worker_threads=self.threads)
        self._worker.start()
        log.info("embedded worker ready: %d threads", self.threads)

    def stop(self) -> None:
        if self._worker is None:
            return
        from mierloos_entrypoints import worker

        log.info("embedded worker stopping: finishing or handing back the jobs in hand")
        self._worker.stop(timeout=int(self.shutdown_timeout * 1000))
        worker.broker.close()
        self._worker = None
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
