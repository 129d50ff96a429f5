"""`mierloos worker --processes 2`: its /metrics sums the jobs of every worker process."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.ports import NewJob
from tests.integration.cli.conftest import SECRET_KEY
from tests.integration.cli.processes import MierloosProcess, command_env, free_port, wait_for

pytestmark = pytest.mark.slow


def value(text: str, pattern: str) -> float:
    found = re.search(pattern + r" (\S+)", text)
    return float(found.group(1)) if found else 0.0


def test_worker_metrics_show_job_counts_and_durations_of_every_process(tmp_path, postgres_cli_url):
    engine = make_engine(postgres_cli_url)
    upgrade(engine)
    port = free_port()
    worker = MierloosProcess(
        ["worker", "--processes", "2", "--threads", "2", "--port", str(port)],
        command_env(
            DATABASE_URL=postgres_cli_url,
            SECRET_KEY=SECRET_KEY,
            MIERLOOS_FAKE_PAYMENTS="1",
            MIERLOOS_VAR_DIR=str(tmp_path / "var"),
            MIERLOOS_JOB_HANDLERS="tests.integration.jobs.job_handlers:build_registry",
            JOB_EFFECTS=str(tmp_path / "effects.jsonl"),
            HEALTH_HOST="127.0.0.1",
            WORKER_POLLING_INTERVAL="0.2",
            ORPHANED_ORDER_CLEANUP_PERIOD="0",
            REFUND_FOLLOW_UP_PERIOD="0",
            JOBS_RETENTION_DAYS="0",
            WAITLIST_RETENTION_DAYS="0",
        ),
        tmp_path / "worker.log",
        tmp_path,
    )
    try:
        worker.wait_answering(f"http://127.0.0.1:{port}/health", timeout=30)
        with SqlUnitOfWork(engine, SystemClock()) as uow:
            for n in range(40):
                uow.jobs.enqueue(NewJob("email", {"key": f"m{n}", "sleep": 0.02}))
            uow.commit()

        def completed() -> bool:
            with engine.connect() as connection:
                done = connection.execute(
                    select(func.count()).where(t.jobs.c.status == "completed")
                ).scalar_one()
            return done == 40

        wait_for(completed, timeout=30)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text

        assert value(metrics, r'mierloos_jobs_total\{outcome="ok",type="email"\}') == 40
        assert value(metrics, r'mierloos_job_duration_seconds_count\{type="email"\}') == 40
        assert value(metrics, r'mierloos_job_duration_seconds_sum\{type="email"\}') >= 40 * 0.02
        assert value(metrics, r'mierloos_jobs_stored\{status="completed",type="email"\}') == 40
        assert worker.terminate(timeout=40) == 0, worker.log()
    finally:
        worker.close()
        engine.dispose()
