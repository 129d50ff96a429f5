"""What becomes of a job, decided by a running worker process: retries, failures, staff retry.

One worker process per backend serves the whole module (WORKER_MAX_ATTEMPTS=3, 0.3 s base).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.jobs import JobStatus
from mierloos_core.ports import NewJob
from tests.integration.jobs.conftest import Effects, JobsDatabase, WorkerProcess, wait_for

pytestmark = pytest.mark.slow

BASE = 0.3


class Live:
    def __init__(self, db: JobsDatabase, effects: Effects, worker: WorkerProcess) -> None:
        self.db = db
        self.effects = effects
        self.worker = worker


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    db: JobsDatabase = request.getfixturevalue(
        "jobs_pg" if request.param == "postgres" else "jobs_sqlite"
    )
    db.empty()
    directory = tmp_path_factory.mktemp(f"live-{request.param}")
    effects = Effects(directory / "effects.jsonl")
    worker = WorkerProcess(
        db.url,
        effects.path,
        directory,
        "live",
        WORKER_POLLING_INTERVAL=BASE,
        WORKER_MAX_ATTEMPTS=3,
    )
    try:
        worker.wait_ready()
        yield Live(db, effects, worker)
    finally:
        worker.close()


def key() -> str:
    return uuid.uuid4().hex


def test_a_job_that_keeps_failing_is_failed_after_the_maximum_attempts(live):
    name = key()
    job_id = live.db.enqueue("email", {"key": name, "fail": "always"})

    (job,) = live.db.wait_settled([job_id], timeout=15)

    assert job.status is JobStatus.FAILED
    assert job.execution_count == 3
    assert len(live.effects.of("start", name)) == 3
    assert "always fails" in (job.error_message or "")
    assert [e["attempt"] for e in live.db.row(job_id).errors] == [1, 2, 3]


def test_a_permanent_failure_fails_at_once(live):
    name = key()
    job_id = live.db.enqueue("email", {"key": name, "fail": "permanent"})

    (job,) = live.db.wait_settled([job_id], timeout=10)

    assert job.status is JobStatus.FAILED
    assert job.execution_count == 1
    assert "PermanentFailure" in (job.error_message or "")


def test_jobs_of_unknown_types_and_bad_payloads_fail_at_once(live):
    no_actor = live.db.enqueue("no_such_job", {"key": key()})
    no_handler = live.db.enqueue("image_processing", {"key": key()})
    bad_payload = uuid.uuid4()
    now = datetime.now(UTC)
    with live.db.engine.begin() as connection:
        connection.execute(
            insert(t.jobs).values(
                id=bad_payload,
                type="email",
                queue_name="default",
                status="pending",
                priority=0,
                data=["not", "an", "object"],
                execution_count=0,
                created_at=now,
                updated_at=now,
            )
        )

    jobs = live.db.wait_settled([no_actor, no_handler, bad_payload], timeout=10)

    assert [job.status for job in jobs] == [JobStatus.FAILED] * 3
    assert [job.execution_count for job in jobs] == [1, 1, 1]
    assert "ActorNotFound" in (jobs[0].error_message or "")
    assert "UnknownJobType" in (jobs[1].error_message or "")
    assert "InvalidJobPayload" in (jobs[2].error_message or "")
    assert live.effects.of("start", "no_such_job") == []


def test_staff_retry_runs_a_failed_job_again(live):
    name = key()
    job_id = live.db.enqueue("email", {"key": name, "fail": "permanent"})
    (failed,) = live.db.wait_settled([job_id], timeout=10)
    assert failed.status is JobStatus.FAILED

    ledger = SqlJobLedger(live.db.engine, SystemClock())
    assert ledger.retry(job_id) is True
    assert ledger.retry(job_id) is False  # pending now, not failed

    def completed():
        job = live.db.job(job_id)
        return job if job.status is JobStatus.COMPLETED else None

    job = wait_for(completed, timeout=10)
    assert job.execution_count == 2
    assert job.max_attempts == 2
    assert [e["attempt"] for e in live.effects.of("done", name)] == [2]
    details = ledger.get(job_id)
    assert details is not None
    assert [(e.attempt, "PermanentFailure" in e.error) for e in details.errors] == [(1, True)]


def test_an_enqueue_in_a_rolled_back_unit_of_work_leaves_no_job(live):
    name = key()
    with SqlUnitOfWork(live.db.engine, SystemClock()) as uow:
        job_id = uow.jobs.enqueue(NewJob("email", {"key": name}))
        assert uow.jobs.get(job_id) is not None
        uow.rollback()
    with SqlUnitOfWork(live.db.engine, SystemClock()) as uow:
        uow.jobs.enqueue(NewJob("email", {"key": name + "-left"}))
        # no commit: leaving the block rolls back

    time.sleep(4 * BASE)
    with SqlUnitOfWork(live.db.engine, SystemClock()) as uow:
        assert uow.jobs.get(job_id) is None
        keys = [str(j.data.get("key")) for j in uow.jobs.list() if isinstance(j.data, dict)]
        assert [k for k in keys if k.startswith(name)] == []
    assert live.effects.of("start", name) == []
    assert live.effects.of("start", name + "-left") == []


def test_a_delayed_job_runs_when_due_and_not_before(live):
    name = key()
    due = datetime.now(UTC) + timedelta(seconds=1.5)
    job_id = live.db.enqueue("email", {"key": name}, run_at=due)

    (job,) = live.db.wait_settled([job_id], timeout=10)

    assert job.status is JobStatus.COMPLETED
    (started,) = live.effects.of("start", name)
    assert due.timestamp() <= started["at"] < due.timestamp() + 1.0
