"""Running workers in production: recurring jobs, NOTIFY wake-ups, /health, SIGTERM, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.jobs import JobStatus, JobType
from tests.integration.jobs.conftest import ROOT, free_port, wait_for

pytestmark = pytest.mark.slow


def test_a_recurring_job_is_enqueued_once_per_period_however_many_workers_run(
    jobs_pg, start_worker, effects
):
    jobs_pg.empty()
    workers = [
        start_worker(jobs_pg, f"w{n}", threads=2, ORPHANED_ORDER_CLEANUP_PERIOD=1) for n in range(3)
    ]
    for worker in workers:
        worker.wait_ready()
    time.sleep(3.2)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        assert worker.wait(timeout=20) == 0

    jobs = jobs_pg.jobs(JobType.ORPHANED_ORDER_CLEANUP)
    periods = sorted(datetime.fromisoformat(job.dedupe_key.split("@")[1]) for job in jobs)
    assert len(periods) >= 3
    seconds = [int(p.timestamp()) for p in periods]
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds))), "one job per period"
    assert all(job.status is JobStatus.COMPLETED for job in jobs)
    assert sorted(effects.count("done").values()) == [1] * len(jobs)
    for worker in workers:
        assert "Traceback" not in worker.log()


def test_workers_purge_completed_jobs_past_the_retention_once_a_day(jobs_pg, start_worker, effects):
    jobs_pg.empty()
    old, recent, failed = (jobs_pg.enqueue("email", {"key": k}) for k in ("old", "recent", "bad"))
    with jobs_pg.engine.begin() as connection:
        for job_id, status, age in (
            (old, "completed", 31),
            (recent, "completed", 29),
            (failed, "failed", 90),
        ):
            at = datetime.now(UTC) - timedelta(days=age)
            connection.execute(
                update(t.jobs)
                .where(t.jobs.c.id == job_id)
                .values(status=status, created_at=at, updated_at=at, completed_at=at)
            )

    first = start_worker(jobs_pg, "w1", JOBS_RETENTION_DAYS=30)
    first.wait_ready()
    [purge] = wait_for(
        lambda: [j for j in jobs_pg.jobs(JobType.JOBS_PURGE) if j.status is JobStatus.COMPLETED],
        timeout=20,
    )
    # A second worker started the same day queues no second purge.
    second = start_worker(jobs_pg, "w2", JOBS_RETENTION_DAYS=30)
    second.wait_ready()
    time.sleep(1.5)
    for worker in (first, second):
        worker.terminate()
        assert worker.wait(timeout=20) == 0

    assert purge.data == {"older_than_days": 30.0}
    assert {job.id for job in jobs_pg.jobs("email")} == {recent, failed}
    assert len(jobs_pg.jobs(JobType.JOBS_PURGE)) == 1


def test_notify_wakes_an_idle_worker_at_once(jobs_pg, start_worker, effects):
    jobs_pg.empty()
    # Idle polling starts at 30 s: only the NOTIFY can bring these jobs in quickly.
    start_worker(jobs_pg, WORKER_POLLING_INTERVAL=30).wait_ready()
    time.sleep(0.5)
    delays = []
    for n in range(3):
        committed = time.time()
        job_id = jobs_pg.enqueue("email", {"key": f"wake-{n}"})
        (started,) = wait_for(
            lambda n=n: effects.of("start", f"wake-{n}"), timeout=5, interval=0.01
        )
        delays.append(started["at"] - committed)
        jobs_pg.wait_settled([job_id], timeout=5)
        time.sleep(0.3)
    assert max(delays) < 1.0, delays
    print(f"NOTIFY wake-up delays: {[round(d * 1000, 1) for d in delays]} ms")


def test_health_reports_the_database_and_every_process_loop_and_sigterm_exits_cleanly(
    jobs_pg, start_worker, effects
):
    jobs_pg.empty()
    worker = start_worker(jobs_pg, processes=2, threads=2).wait_ready(timeout=30)

    status, body = worker.health()
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"] == {"reachable": True}
    assert len(body["workers"]) == 2
    assert all(w["alive"] for w in body["workers"])
    ids = jobs_pg.enqueue_many("email", [{"key": f"h-{n}"} for n in range(20)])
    jobs = jobs_pg.wait_settled(ids, timeout=15)
    assert {job.status for job in jobs} == {JobStatus.COMPLETED}
    assert len({e["pid"] for e in effects.of("done")}) >= 1

    children = [w["pid"] for w in body["workers"]]
    worker.terminate()
    assert worker.wait(timeout=30) == 0
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_health_says_unavailable_when_the_database_cannot_be_reached(jobs_pg, start_worker):
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    worker = start_worker(jobs_pg, DATABASE_URL=nowhere)

    answer = wait_for(worker.health, timeout=20)

    status, body = answer
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is False


def test_dramatiqs_own_command_runs_the_worker_module(jobs_pg, effects, tmp_path):
    jobs_pg.empty()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "DATABASE_URL": jobs_pg.url,
        "MIERLOOS_JOB_HANDLERS": "tests.integration.jobs.job_handlers:build_registry",
        "JOB_EFFECTS": str(effects.path),
        "WORKER_POLLING_INTERVAL": "0.5",
        "ORPHANED_ORDER_CLEANUP_PERIOD": "0",
        "REFUND_FOLLOW_UP_PERIOD": "0",
        "JOBS_RETENTION_DAYS": "0",
        "WAITLIST_RETENTION_DAYS": "0",
    }
    log = (tmp_path / "dramatiq.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dramatiq",
            "mierloos_entrypoints.worker:setup",
            "-p",
            "1",
            "-t",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        job_id = jobs_pg.enqueue("email", {"key": "via-dramatiq-cli"})
        (job,) = jobs_pg.wait_settled([job_id], timeout=30)
        assert job.status is JobStatus.COMPLETED
        assert [e["key"] for e in effects.of("done")] == ["via-dramatiq-cli"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
