"""Real worker processes for the job tests, on a fresh Postgres database or a SQLite file.

A `WorkerProcess` runs `mierloos_entrypoints.worker.main` in a subprocess with the test
handlers of `job_handlers`, which append their side effects to a file the tests read.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.jobs import job_from_row
from mierloos_core.model.jobs import Job
from mierloos_core.ports import NewJob
from tests.postgres_server import fresh_database

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {condition}")
        time.sleep(interval)


class Effects:
    """The side effects the handlers appended to one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def of(self, kind: str, key: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.read() if e["kind"] == kind and (key is None or e["key"] == key)]

    def count(self, kind: str) -> Counter[str]:
        return Counter(e["key"] for e in self.of(kind))


class WorkerProcess:
    def __init__(self, url: str, effects: Path, logs: Path, tag: str, **env: Any) -> None:
        self.port = free_port()
        self.tag = tag
        self.log_path = logs / f"worker-{tag}.log"
        threads = int(env.pop("threads", 4))
        processes = int(env.pop("processes", 1))
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "DATABASE_URL": url,
            "MIERLOOS_JOB_HANDLERS": "tests.integration.jobs.job_handlers:build_registry",
            "JOB_EFFECTS": str(effects),
            "WORKER_TAG": tag,
            "PORT": str(self.port),
            "HEALTH_HOST": "127.0.0.1",
            "WORKER_POLLING_INTERVAL": "0.5",
            "WORKER_LEASE_SECONDS": "10",
            "ORPHANED_ORDER_CLEANUP_PERIOD": "0",
            "REFUND_FOLLOW_UP_PERIOD": "0",
            "JOBS_RETENTION_DAYS": "0",
            "WAITLIST_RETENTION_DAYS": "0",
            "WORKER_SHUTDOWN_TIMEOUT": "30",
            **{k: str(v) for k, v in env.items()},
        }
        command = (
            "import sys; from mierloos_entrypoints.worker import main; "
            f"sys.exit(main(['--processes', '{processes}', '--threads', '{threads}']))"
        )
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", command],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )

    def health(self) -> tuple[int, dict[str, Any]] | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/health", timeout=2
            ) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except OSError:
            return None

    def wait_ready(self, timeout: float = 20) -> WorkerProcess:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.tag} exited:\n{self.log()}")
            answer = self.health()
            return answer is not None and answer[0] == 200

        wait_for(ready, timeout)
        return self

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def close(self) -> None:
        # SIGTERM first: a supervisor killed outright leaves its worker processes running,
        # claiming the next test's jobs.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log_file.close()


class JobsDatabase:
    """A migrated database, with helpers to enqueue jobs and read them back."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.backend = engine.dialect.name

    def enqueue(self, job_type: str, data: Mapping[str, Any], **options: Any) -> uuid.UUID:
        with SqlUnitOfWork(self.engine, SystemClock()) as uow:
            job_id = uow.jobs.enqueue(NewJob(job_type, data, **options))
            uow.commit()
        return job_id

    def enqueue_many(self, job_type: str, datas: list[dict[str, Any]]) -> list[uuid.UUID]:
        with SqlUnitOfWork(self.engine, SystemClock()) as uow:
            ids = [uow.jobs.enqueue(NewJob(job_type, data)) for data in datas]
            uow.commit()
        return ids

    def job(self, job_id: uuid.UUID) -> Job:
        with self.engine.connect() as connection:
            row = connection.execute(select(t.jobs).where(t.jobs.c.id == job_id)).one()
        return job_from_row(row)

    def row(self, job_id: uuid.UUID) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(select(t.jobs).where(t.jobs.c.id == job_id)).one()

    def jobs(self, job_type: str | None = None) -> list[Job]:
        query = select(t.jobs)
        if job_type is not None:
            query = query.where(t.jobs.c.type == job_type)
        with self.engine.connect() as connection:
            return [job_from_row(row) for row in connection.execute(query)]

    def statuses(self) -> Counter[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status, count(*) FROM jobs GROUP BY status")
            ).all()
        return Counter({status: count for status, count in rows})

    def wait_settled(self, ids: list[uuid.UUID], timeout: float) -> list[Job]:
        def settled() -> list[Job] | None:
            jobs = [self.job(job_id) for job_id in ids]
            done = all(j.status.value in ("completed", "failed") for j in jobs)
            return jobs if done else None

        return wait_for(settled, timeout, interval=0.1)

    def empty(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(t.jobs.delete())


@pytest.fixture(scope="module")
def jobs_pg(postgres_admin_url: str) -> Iterator[JobsDatabase]:
    with fresh_database(postgres_admin_url) as url:
        engine = make_engine(url, pool_size=5, max_overflow=5)
        upgrade(engine)
        yield JobsDatabase(url, engine)
        engine.dispose()


@pytest.fixture(scope="module")
def jobs_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobsDatabase]:
    path = tmp_path_factory.mktemp("jobs-sqlite") / "jobs.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    yield JobsDatabase(url, engine)
    engine.dispose()


@pytest.fixture(params=["postgres", "sqlite"])
def jobs_db(request: pytest.FixtureRequest) -> JobsDatabase:
    """Each backend's database, emptied."""
    database: JobsDatabase = request.getfixturevalue(
        "jobs_pg" if request.param == "postgres" else "jobs_sqlite"
    )
    database.empty()
    return database


@pytest.fixture
def effects(tmp_path: Path) -> Effects:
    return Effects(tmp_path / "effects.jsonl")


@pytest.fixture
def start_worker(tmp_path: Path, effects: Effects) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes (killed at the end of the test if still running)."""
    started: list[WorkerProcess] = []

    def start(database: JobsDatabase, tag: str = "w1", **env: Any) -> WorkerProcess:
        worker = WorkerProcess(database.url, effects.path, tmp_path, tag, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()
