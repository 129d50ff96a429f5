"""The memory JobLedger that embedders and unit tests use: the dashboard's numbers."""

from __future__ import annotations

from datetime import timedelta

from mierloos_adapters.memory import MemoryJobLedger, MemoryUnitOfWork
from mierloos_core.model.jobs import JobStatus
from mierloos_core.ports import NewJob


def test_the_summary_counts_every_job_not_just_a_page(store, clock):
    with MemoryUnitOfWork(store, clock) as uow:
        for n in range(150):
            uow.jobs.enqueue(NewJob("email", {"n": n}))
        uow.commit()
    for n, job in enumerate(store.jobs.values()):
        if n < 140:
            job.status = JobStatus.COMPLETED
    clock.advance(timedelta(minutes=12))
    with MemoryUnitOfWork(store, clock) as uow:
        uow.jobs.enqueue(NewJob("pdf_generation", {}))
        uow.commit()
    failed = next(iter(store.jobs.values()))
    failed.status = JobStatus.FAILED
    failed.updated_at = clock.now() - timedelta(minutes=5)

    summary = MemoryJobLedger(store, clock).summary()

    assert summary.total == 151
    assert summary.by_status == {"pending": 11, "processing": 0, "completed": 139, "failed": 1}
    assert summary.by_type["email"] == {"completed": 139, "pending": 10, "failed": 1}
    assert summary.by_type["pdf_generation"] == {"pending": 1}
    assert summary.oldest_pending_age == timedelta(minutes=12)
    assert summary.failed_last_hour == 1


def test_a_failure_older_than_an_hour_is_not_counted_as_recent(store, clock):
    with MemoryUnitOfWork(store, clock) as uow:
        job_id = uow.jobs.enqueue(NewJob("email", {}))
        uow.commit()
    store.jobs[job_id].status = JobStatus.FAILED
    store.jobs[job_id].updated_at = clock.now()
    ledger = MemoryJobLedger(store, clock)
    assert ledger.summary().failed_last_hour == 1

    clock.advance(timedelta(hours=1, seconds=1))

    assert ledger.summary().failed_last_hour == 0
    assert ledger.summary().oldest_pending_age is None
