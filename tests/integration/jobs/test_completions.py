"""Completions handed to the broker's writer: the worker thread does not wait for the write,
and the job stays in this worker's hands (its lease held, no room freed) until it is written.

Each test holds the job's row (a write to it in a transaction of its own; on SQLite that
takes the database's write lock) to keep the completion from being written while it looks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mierloos_adapters.jobqueue.broker import JobsBroker
from mierloos_adapters.jobqueue.messages import JobMessage
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.ports import NewJob
from tests.integration.jobs.conftest import wait_for

_jobs = t.jobs


@pytest.fixture
def broker(engine, clock) -> Iterator[JobsBroker]:
    made = JobsBroker(
        engine, clock=clock, worker_id="w1", listen=False, lease=timedelta(seconds=30)
    )
    made.declare_queue("default")
    yield made
    made.close()


def enqueue(engine, clock, n: int = 0):
    with SqlUnitOfWork(engine, clock) as uow:
        job_id = uow.jobs.enqueue(NewJob("email", {"n": n}))
        uow.commit()
    return job_id


def status(engine, job_id) -> tuple[str, int, str | None]:
    with engine.connect() as connection:
        found = connection.execute(
            select(_jobs.c.status, _jobs.c.execution_count, _jobs.c.lease_owner).where(
                _jobs.c.id == job_id
            )
        ).one()
    return found.status, found.execution_count, found.lease_owner


@contextmanager
def row_held(engine, job_id) -> Iterator[threading.Event]:
    """Write to the job's row in a transaction that stays open until the event is set."""
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with engine.begin() as connection:
            connection.execute(
                update(_jobs).where(_jobs.c.id == job_id).values(updated_at=_jobs.c.updated_at)
            )
            holding.set()
            release.wait(20)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join()


def take(broker: JobsBroker):
    consumer = broker.consume("default", prefetch=4, timeout=200)
    message = None
    deadline = time.monotonic() + 10
    while message is None and time.monotonic() < deadline:
        message = next(consumer)
    assert isinstance(message, JobMessage)
    return consumer, message


def test_an_ack_returns_before_its_row_is_written_and_the_job_stays_in_hand(engine, clock, broker):
    job_id = enqueue(engine, clock)
    consumer, message = take(broker)
    with row_held(engine, job_id):
        started = time.monotonic()
        consumer.ack(message)
        assert time.monotonic() - started < 1.0, "the worker thread waited for the write"
        time.sleep(0.3)
        if engine.dialect.name == "postgresql":  # SQLite: every transaction waits for the lock
            assert status(engine, job_id) == ("processing", 1, "w1")
        assert broker.in_hand("default") == [message], "held until written: no room freed"
        assert broker.unfinished() == [], "the heartbeat no longer renews its lease"
    wait_for(lambda: status(engine, job_id)[0] == "completed", 20)
    wait_for(lambda: broker.in_hand("default") == [], 5)
    assert status(engine, job_id) == ("completed", 1, "w1")
    consumer.close()


def test_completions_from_many_threads_are_all_written(engine, clock, broker):
    ids = {enqueue(engine, clock, n) for n in range(12)}
    consumer = broker.consume("default", prefetch=12, timeout=200)
    messages: list[JobMessage] = []
    deadline = time.monotonic() + 10
    while len(messages) < 12 and time.monotonic() < deadline:
        message = next(consumer)
        if message is not None:
            messages.append(message)
    assert {m.job_id for m in messages} == ids
    threads = [threading.Thread(target=consumer.ack, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: all(status(engine, i)[0] == "completed" for i in ids), 20)
    wait_for(lambda: broker.in_hand() == [], 5)
    consumer.close()


def test_closing_the_broker_writes_the_completions_handed_over_first(engine, clock, broker):
    job_id = enqueue(engine, clock)
    consumer, message = take(broker)
    with row_held(engine, job_id) as release:
        consumer.ack(message)
        consumer.close()
        threading.Timer(0.5, release.set).start()
        broker.close()  # waits for the row, writes the completion, hands nothing back
        assert status(engine, job_id) == ("completed", 1, "w1")
    assert broker.in_hand() == []
