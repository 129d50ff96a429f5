"""JobLedger.purge_completed: the same assertions against the memory fake, SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import insert

from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.memory import FixedClock, MemoryJobLedger, MemoryStore
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.jobs import Job, JobStatus
from mierloos_core.ports import JobLedger

Put = Callable[[Job], None]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def ledger_and_put(request, clock: FixedClock) -> tuple[JobLedger, Put]:
    if request.param == "memory":
        store = MemoryStore()

        def put_memory(job: Job) -> None:
            store.jobs[job.id] = job

        return MemoryJobLedger(store, clock), put_memory
    engine = request.getfixturevalue(f"{request.param}_engine")
    from tests.integration.conftest import empty_all_tables

    empty_all_tables(engine)

    def put_sql(job: Job) -> None:
        with engine.begin() as connection:
            connection.execute(
                insert(t.jobs).values(
                    id=job.id,
                    type=job.type,
                    queue_name="default",
                    status=job.status.value,
                    data=job.data,
                    execution_count=job.execution_count,
                    created_at=job.created_at,
                    updated_at=job.updated_at or job.created_at,
                    completed_at=job.completed_at,
                )
            )

    return SqlJobLedger(engine, clock), put_sql


def aged(clock: FixedClock, status: JobStatus, days: float, *, completed: bool = True) -> Job:
    at = clock.now() - timedelta(days=days)
    return Job(
        type="email",
        data={},
        status=status,
        created_at=at - timedelta(minutes=1),
        updated_at=at,
        completed_at=at if completed and status is JobStatus.COMPLETED else None,
        execution_count=1,
    )


def test_purge_deletes_only_completed_jobs_finished_before_the_cutoff(ledger_and_put, clock):
    ledger, put = ledger_and_put
    old_done = [aged(clock, JobStatus.COMPLETED, 40) for _ in range(3)]
    recent_done = aged(clock, JobStatus.COMPLETED, 2)
    old_others = [
        aged(clock, status, 90)
        for status in (JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.FAILED)
    ]
    for job in [*old_done, recent_done, *old_others]:
        put(job)

    purged = ledger.purge_completed(clock.now() - timedelta(days=30))

    assert purged == 3
    for job in old_done:
        assert ledger.get(job.id) is None
    assert ledger.get(recent_done.id) is not None
    for job in old_others:
        kept = ledger.get(job.id)
        assert kept is not None
        assert kept.job.status is job.status
    assert ledger.summary().total == 4


def test_purge_counts_a_completed_job_without_completion_time_from_its_last_update(
    ledger_and_put, clock
):
    ledger, put = ledger_and_put
    put(aged(clock, JobStatus.COMPLETED, 10, completed=False))
    fresh = aged(clock, JobStatus.COMPLETED, 1, completed=False)
    put(fresh)

    assert ledger.purge_completed(clock.now() - timedelta(days=5)) == 1
    assert [job.id for job in ledger.page().jobs] == [fresh.id]


def test_purging_twice_deletes_nothing_the_second_time(ledger_and_put, clock):
    ledger, put = ledger_and_put
    put(aged(clock, JobStatus.COMPLETED, 40))
    cutoff = clock.now() - timedelta(days=30)

    assert ledger.purge_completed(cutoff) == 1
    assert ledger.purge_completed(cutoff) == 0
