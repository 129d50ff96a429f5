"""What Dramatiq writes to the log about a job names its type and id, never its payload."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq import Worker

from mierloos_adapters.jobqueue.broker import JobsBroker
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core.model.jobs import RetryPolicy
from mierloos_core.ports import NewJob
from tests.integration.jobs.conftest import wait_for

ADDRESS = "geheim.adres@example.nl"
NONCE = "reset-nonce-" + uuid.uuid4().hex


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def root_log() -> Iterator[Collect]:
    """Everything logged, SQLAlchemy's statements too, as LOG_LEVEL=DEBUG sets it up."""
    root, statements = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    handler, level, statements_level = Collect(), root.level, statements.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    statements.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        statements.setLevel(statements_level)


def test_a_failing_job_is_logged_by_type_and_id_without_its_payload(engine, clock, root_log):
    broker = JobsBroker(
        engine,
        clock=clock,
        policy=RetryPolicy(max_attempts=1),
        worker_id="privacy",
        listen=False,
    )
    broker.declare_queue("default")

    @dramatiq.actor(broker=broker, actor_name="email")
    def email(data):
        raise RuntimeError("the mail server said no")

    with SqlUnitOfWork(engine, clock) as uow:
        job_id = uow.jobs.enqueue(NewJob("email", {"to": ADDRESS, "reset_nonce": NONCE}))
        uow.commit()
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        wait_for(
            lambda: any("Failed to process message" in line for line in root_log.lines),
            timeout=15,
        )
    finally:
        worker.stop()
        broker.close()
    time.sleep(0.05)

    failed = [line.splitlines()[0] for line in root_log.lines if "Failed to process" in line]
    assert failed == [
        "dramatiq.worker.WorkerThread ERROR"
        f" Failed to process message email({job_id}) with unhandled exception."
    ]
    leaks = [line for line in root_log.lines if ADDRESS in line or NONCE in line]
    assert leaks == []
