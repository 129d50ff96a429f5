"""The JobLedger port: the same assertions against the memory fake, SQLite and Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest
from sqlalchemy import insert

from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.memory import FixedClock, MemoryJobLedger, MemoryStore
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.jobs import Job, JobStatus
from mierloos_core.ports import JobLedger, JobSearch

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
                    priority=job.priority,
                    data=job.data,
                    error_message=job.error_message,
                    execution_count=job.execution_count,
                    max_attempts=job.max_attempts,
                    next_retry_at=job.next_retry_at,
                    created_at=job.created_at,
                    updated_at=job.updated_at or job.created_at,
                    lease_owner=job.lease_owner,
                    dedupe_key=job.dedupe_key,
                )
            )

    return SqlJobLedger(engine, clock), put_sql


def job(clock: FixedClock, job_type: str, status: JobStatus, age: timedelta, **fields) -> Job:
    created = clock.now() - age
    return Job(
        type=job_type,
        data={"n": str(uuid.uuid4())},
        status=status,
        created_at=created,
        updated_at=fields.pop("updated_at", created),
        **fields,
    )


def test_the_summary_counts_the_whole_table(ledger_and_put, clock):
    ledger, put = ledger_and_put
    for n in range(130):
        put(job(clock, "email", JobStatus.COMPLETED, timedelta(minutes=n + 1)))
    put(job(clock, "email", JobStatus.PENDING, timedelta(minutes=7)))
    put(job(clock, "pdf_generation", JobStatus.PENDING, timedelta(minutes=90)))
    put(job(clock, "pdf_generation", JobStatus.PROCESSING, timedelta(minutes=2)))
    recent = timedelta(minutes=30)
    put(
        job(
            clock,
            "payment_creation",
            JobStatus.FAILED,
            timedelta(hours=3),
            updated_at=clock.now() - recent,
        )
    )
    put(
        job(
            clock,
            "payment_creation",
            JobStatus.FAILED,
            timedelta(hours=5),
            updated_at=clock.now() - timedelta(hours=2),
        )
    )

    summary = ledger.summary()

    assert summary.total == 135
    assert summary.by_status == {"pending": 2, "processing": 1, "completed": 130, "failed": 2}
    assert summary.by_type == {
        "email": {"completed": 130, "pending": 1},
        "pdf_generation": {"pending": 1, "processing": 1},
        "payment_creation": {"failed": 2},
    }
    assert summary.oldest_pending_age == timedelta(minutes=90)
    assert summary.failed_last_hour == 1


def test_an_empty_table_summarises_to_zeroes(ledger_and_put):
    ledger, _ = ledger_and_put
    summary = ledger.summary()
    assert summary.total == 0
    assert set(summary.by_status.values()) == {0}
    assert summary.by_type == {}
    assert summary.oldest_pending_age is None
    assert summary.failed_last_hour == 0


def test_pages_are_newest_first_and_filtered(ledger_and_put, clock):
    ledger, put = ledger_and_put
    emails = [job(clock, "email", JobStatus.FAILED, timedelta(minutes=n)) for n in range(5)]
    for item in emails:
        put(item)
    put(job(clock, "email", JobStatus.COMPLETED, timedelta(minutes=1)))
    put(job(clock, "pdf_generation", JobStatus.FAILED, timedelta(minutes=1)))

    first = ledger.page(JobSearch(status="failed", job_type="email", per_page=2))
    last = ledger.page(JobSearch(status="failed", job_type="email", page=3, per_page=2))
    everything = ledger.page(JobSearch())

    assert [j.id for j in first.jobs] == [emails[0].id, emails[1].id]
    assert first.total == 5
    assert first.pages == 3
    assert [j.id for j in last.jobs] == [emails[4].id]
    assert everything.total == 7
    assert ledger.page(JobSearch(status="pending")).jobs == ()
    with pytest.raises(ValueError, match="pages"):
        JobSearch(page=0)  # refused before it reaches a ledger


def test_staff_retry_puts_a_failed_job_back_with_one_more_attempt(ledger_and_put, clock):
    ledger, put = ledger_and_put
    failed = job(
        clock, "email", JobStatus.FAILED, timedelta(hours=1), execution_count=5, error_message="x"
    )
    done = job(clock, "email", JobStatus.COMPLETED, timedelta(hours=1), execution_count=1)
    put(failed)
    put(done)

    assert ledger.retry(failed.id) is True
    assert ledger.retry(done.id) is False
    assert ledger.retry(uuid.uuid4()) is False

    details = ledger.get(failed.id)
    assert details is not None
    again = details.job
    assert again.status is JobStatus.PENDING
    assert again.next_retry_at == clock.now()
    assert again.max_attempts == 6
    assert again.execution_count == 5
    assert again.lease_owner is None
    assert ledger.get(done.id).job.status is JobStatus.COMPLETED
    assert ledger.get(uuid.uuid4()) is None


# --- purging the ledger of old completed jobs ---------------------------------------------


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
    assert [job.id for job in ledger.page(JobSearch()).jobs] == [fresh.id]


def test_purging_twice_deletes_nothing_the_second_time(ledger_and_put, clock):
    ledger, put = ledger_and_put
    put(aged(clock, JobStatus.COMPLETED, 40))
    cutoff = clock.now() - timedelta(days=30)

    assert ledger.purge_completed(cutoff) == 1
    assert ledger.purge_completed(cutoff) == 0


def test_purge_keeps_the_newest_recurring_job_of_each_type(ledger_and_put, clock):
    ledger, put = ledger_and_put
    older = attrs.evolve(aged(clock, JobStatus.COMPLETED, 41), dedupe_key="email@1")
    newest = attrs.evolve(aged(clock, JobStatus.COMPLETED, 40), dedupe_key="email@2")
    plain = aged(clock, JobStatus.COMPLETED, 42)
    for job in (older, newest, plain):
        put(job)

    assert ledger.purge_completed(clock.now()) == 2
    assert [job.id for job in ledger.page(JobSearch()).jobs] == [newest.id]
