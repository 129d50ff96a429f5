"""The scheduled `jobs_purge` job: old completed jobs go, by the rule of `mierloos jobs purge`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mierloos_adapters.memory import FixedClock, MemoryJobLedger, MemoryStore
from mierloos_core.errors import PermanentFailure
from mierloos_core.model.commands import PurgeJobs
from mierloos_core.model.jobs import Job, JobStatus, JobType
from mierloos_core.services.jobs import JobRegistry, jobs_purge_handler


def add_job(
    store: MemoryStore,
    clock: FixedClock,
    age_days: float,
    status: JobStatus = JobStatus.COMPLETED,
    job_type: str = JobType.EMAIL,
    dedupe_key: str | None = None,
) -> Job:
    at = clock.now() - timedelta(days=age_days)
    job = Job(
        type=job_type,
        data={},
        created_at=at,
        status=status,
        updated_at=at,
        completed_at=at if status is JobStatus.COMPLETED else None,
        dedupe_key=dedupe_key,
    )
    store.jobs[job.id] = job
    return job


@pytest.fixture
def registry(store: MemoryStore, clock: FixedClock) -> JobRegistry:
    registry = JobRegistry()
    registry.register_command(PurgeJobs, jobs_purge_handler(MemoryJobLedger(store, clock), clock))
    return registry


def test_completed_jobs_past_the_retention_go_and_everything_else_stays(
    registry: JobRegistry, store: MemoryStore, clock: FixedClock
) -> None:
    old = add_job(store, clock, 31)
    recent = add_job(store, clock, 29)
    failed = add_job(store, clock, 90, JobStatus.FAILED)
    pending = add_job(store, clock, 90, JobStatus.PENDING)
    older_marker = add_job(store, clock, 40, job_type="orphaned_order_cleanup", dedupe_key="a@1")
    newest_marker = add_job(store, clock, 35, job_type="orphaned_order_cleanup", dedupe_key="a@2")

    result = registry.run(JobType.JOBS_PURGE, {"older_than_days": 30})

    assert result == {"deleted": 2}
    assert set(store.jobs) == {recent.id, failed.id, pending.id, newest_marker.id}
    assert old.id not in store.jobs
    assert older_marker.id not in store.jobs


def test_fractional_days_count(
    registry: JobRegistry, store: MemoryStore, clock: FixedClock
) -> None:
    add_job(store, clock, 0.6)
    kept = add_job(store, clock, 0.4)

    assert registry.run(JobType.JOBS_PURGE, {"older_than_days": 0.5}) == {"deleted": 1}
    assert set(store.jobs) == {kept.id}


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"older_than_days": 0},
        {"older_than_days": -3},
        {"older_than_days": "30"},
        {"older_than_days": True},
    ],
)
def test_a_payload_without_a_positive_number_of_days_fails_at_once_and_deletes_nothing(
    registry: JobRegistry, store: MemoryStore, clock: FixedClock, payload: dict[str, object]
) -> None:
    add_job(store, clock, 400)

    with pytest.raises(PermanentFailure):
        registry.run(JobType.JOBS_PURGE, payload)
    assert len(store.jobs) == 1
