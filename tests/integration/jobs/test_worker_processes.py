"""Real worker processes run the jobs table: exactly once, with retries, surviving crashes.

Each test runs against Postgres with the worker processes it needs, and against SQLite with
one worker process at a time (the embedded setup).
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest

from mierloos_core.model.jobs import JobStatus, RetryPolicy
from tests.integration.jobs.conftest import wait_for

pytestmark = pytest.mark.slow


def test_every_job_completes_exactly_once_across_worker_processes(jobs_db, start_worker, effects):
    if jobs_db.backend == "postgresql":
        count, workers = 2000, [start_worker(jobs_db, f"w{n}", threads=8) for n in range(3)]
    else:
        count, workers = 300, [start_worker(jobs_db, "w1", threads=4)]
    for worker in workers:
        worker.wait_ready()

    ids = jobs_db.enqueue_many("email", [{"key": f"job-{n}"} for n in range(count)])

    jobs = jobs_db.wait_settled(ids, timeout=90)
    assert {job.status for job in jobs} == {JobStatus.COMPLETED}
    assert {job.execution_count for job in jobs} == {1}
    done = effects.count("done")
    assert len(done) == count
    assert set(done.values()) == {1}, "a job's side effect happened more than once"
    assert sum(effects.count("start").values()) == count
    if len(workers) > 1:
        by_worker = {e["worker"] for e in effects.of("done")}
        assert by_worker == {w.tag for w in workers}, "every worker process took a share"


def test_a_failing_job_is_retried_with_the_policy_backoff_then_completes(
    jobs_db, start_worker, effects
):
    base = 1.0  # seconds: 10% of it stays above scheduling noise on a busy 2-core machine
    worker = start_worker(jobs_db, WORKER_POLLING_INTERVAL=base).wait_ready()
    job_id = jobs_db.enqueue("email", {"key": "flaky", "fail_until": 3})

    (job,) = jobs_db.wait_settled([job_id], timeout=15)

    assert job.status is JobStatus.COMPLETED
    assert job.execution_count == 3
    starts = [e["at"] for e in effects.of("start", "flaky")]
    assert len(starts) == 3
    policy = RetryPolicy(base=timedelta(seconds=base))
    for attempt, (earlier, later) in enumerate(itertools.pairwise(starts), start=1):
        expected = policy.delay_after(attempt).total_seconds()
        assert abs((later - earlier) - expected) <= 0.1 * expected, (attempt, later - earlier)
    errors = jobs_db.row(job_id).errors
    assert [e["attempt"] for e in errors] == [1, 2]
    assert all("DependencyUnavailable" in e["error"] for e in errors)
    assert worker.process.poll() is None


def test_a_killed_worker_loses_none_of_its_jobs(jobs_db, start_worker, effects):
    lease = 2.0
    doomed = start_worker(jobs_db, "doomed", threads=10, WORKER_LEASE_SECONDS=lease).wait_ready()
    ids = jobs_db.enqueue_many(
        "email", [{"key": f"held-{n}", "hang_in": "doomed"} for n in range(10)]
    )
    wait_for(lambda: len(effects.of("start")) == 10, timeout=10)
    assert {e["worker"] for e in effects.of("start")} == {"doomed"}
    assert all(jobs_db.job(i).status is JobStatus.PROCESSING for i in ids)

    doomed.kill()
    killed_at = time.monotonic()
    start_worker(jobs_db, "heir", threads=4, WORKER_LEASE_SECONDS=lease).wait_ready()

    jobs = jobs_db.wait_settled(ids, timeout=lease + 15)
    assert {job.status for job in jobs} == {JobStatus.COMPLETED}
    assert {job.execution_count for job in jobs} == {2}
    assert time.monotonic() - killed_at < lease + 10
    done = effects.of("done")
    assert sorted(e["key"] for e in done) == sorted(f"held-{n}" for n in range(10))
    assert {e["worker"] for e in done} == {"heir"}
    lost = jobs_db.row(ids[0]).errors
    assert len(lost) == 1
    assert "lease expired" in lost[0]["error"]


def test_sigterm_lets_the_running_job_finish_and_hands_back_the_rest(
    jobs_db, start_worker, effects
):
    worker = start_worker(jobs_db, threads=1).wait_ready()
    first = jobs_db.enqueue("email", {"key": "running", "sleep": 2.0}, priority=10)
    wait_for(lambda: effects.of("start", "running"), timeout=10)
    waiting = jobs_db.enqueue_many("email", [{"key": f"waiting-{n}"} for n in range(3)])
    # With one thread the worker prefetches one more job while the first one runs.
    wait_for(lambda: any(jobs_db.job(i).status is JobStatus.PROCESSING for i in waiting), timeout=5)
    prefetched = [i for i in waiting if jobs_db.job(i).status is JobStatus.PROCESSING]

    worker.terminate()
    assert worker.wait(timeout=20) == 0

    assert jobs_db.job(first).status is JobStatus.COMPLETED
    assert [e["key"] for e in effects.of("done")] == ["running"]
    assert [e["key"] for e in effects.of("start")] == ["running"]
    for job_id in waiting:
        job = jobs_db.job(job_id)
        assert job.status is JobStatus.PENDING
        assert job.execution_count == 0
        assert job.lease_owner is None
        assert job.lease_expires_at is None
    assert prefetched, "the prefetched job was handed back, not left to its lease"


def datetime_fromiso(text):
    from datetime import datetime as _dt

    return _dt.fromisoformat(text).timestamp()
