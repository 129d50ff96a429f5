"""No-op jobs through a real worker while every database connection it has is cut, again and again.

A worker (`mierloos_entrypoints.worker`, one process by default) runs against Postgres in a
database of its own. For `--kill-for` seconds (20) the bench enqueues `--jobs` no-op jobs
(2,000) at an even pace and, every `--kill-every` seconds (0.5), terminates every backend of
that database except its own (`pg_terminate_backend`): the worker's claims, acks, lease
renewals and LISTEN all lose their connections in the middle of their work. The worker is
never restarted.

Each run of a job is appended to a file by the handler, so jobs that ran more than once are
counted from what really ran, not from the jobs table.

    .venv/bin/python bench/jobs_faults.py [--jobs 2000] [--kill-for 20] [--kill-every 0.5]

Postgres: MIERLOOS_BENCH_DATABASE_URL (an admin URL) or the server on 127.0.0.1:5432. Last
line: one JSON object with `jobs`, `completed` (rows completed in the jobs table), `ran_twice`
(jobs whose handler ran more than once), `drain_s` (seconds from the last kill until every
job was completed, null if they never were) and more. Target: completed == jobs,
drain_s < 60.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from mierloos_core.ports import NewJob

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APPLICATION = "jobs-faults-bench"


# --- inside the worker process ---------------------------------------------------------------

_runs_lock = threading.Lock()


def record_run(data: Any) -> None:
    """The no-op job: note that it ran (one line per run; O_APPEND keeps lines whole)."""
    line = f"{data.get('n')}\n".encode()
    path = Path(os.environ["BENCH_RUNS_DIR"]) / f"{os.getpid()}.runs"
    with _runs_lock:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def bench_registry() -> Any:
    """MIERLOOS_JOB_HANDLERS for the worker: `record_run` for every job type."""
    from mierloos_core.model.jobs import JobType
    from mierloos_core.services.jobs import JobRegistry

    registry = JobRegistry()
    for job_type in JobType:
        registry.register(job_type, record_run)
    return registry


# --- the driver --------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlalchemy(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


class Database:
    """A database of its own on the admin URL's server, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin = _libpq(admin_url)
        self.name = f"mierloos_faults_{uuid.uuid4().hex[:10]}"
        self.url = f"{self.admin.rpartition('/')[0]}/{self.name}"

    def __enter__(self) -> Database:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *_exc: object) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def kill_connections(conn: Any, database: str) -> int:
    """Terminate every backend of `database` but the bench's own; how many were cut."""
    rows = conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid() AND application_name <> %s",
        (database, APPLICATION),
    ).fetchall()
    return len(rows)


def count_runs(directory: Path) -> collections.Counter[str]:
    runs: collections.Counter[str] = collections.Counter()
    for path in directory.glob("*.runs"):
        runs.update(line for line in path.read_text().splitlines() if line)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--kill-for", type=float, default=20.0, help="seconds of cutting")
    parser.add_argument("--kill-every", type=float, default=0.5, help="seconds between cuts")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=180.0, help="give up draining after")
    parser.add_argument("--worker-log", type=Path, default=None, help="keep the worker's log")
    args = parser.parse_args()
    admin_url = os.environ.get(
        "MIERLOOS_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    sys.path.insert(0, str(ROOT / "src"))
    import psycopg
    from sqlalchemy import create_engine, func, select

    from mierloos_adapters.memory import SystemClock
    from mierloos_adapters.migrations import upgrade
    from mierloos_adapters.sqlalchemy import SqlUnitOfWork
    from mierloos_adapters.sqlalchemy import tables as t

    with tempfile.TemporaryDirectory(prefix="jobs-faults-") as work, Database(admin_url) as db:
        runs_dir = Path(work)
        engine = create_engine(
            _sqlalchemy(db.url), connect_args={"application_name": APPLICATION}, pool_size=2
        )
        upgrade(engine)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "src")]),
            "DATABASE_URL": db.url,
            "MIERLOOS_JOB_HANDLERS": "jobs_faults:bench_registry",
            "BENCH_RUNS_DIR": str(runs_dir),
            "PORT": "0",
            "ORPHANED_ORDER_CLEANUP_PERIOD": "0",
            "REFUND_FOLLOW_UP_PERIOD": "0",
            "JOBS_RETENTION_DAYS": "0",  # no jobs_purge run among the counted ones
            "WAITLIST_RETENTION_DAYS": "0",
            "WORKER_POLLING_INTERVAL": "1",
            "LOG_FORMAT": "text",
        }
        command = [
            sys.executable,
            "-c",
            "import sys; from mierloos_entrypoints.worker import main; "
            f"sys.exit(main(['--processes', '1', '--threads', '{args.threads}']))",
        ]
        log_path = runs_dir / "worker.log"
        with open(log_path, "wb") as log_file:
            worker = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        clock = SystemClock()
        killer = psycopg.connect(
            db.url, autocommit=True, application_name=APPLICATION, connect_timeout=10
        )
        completed_count = (
            select(func.count()).select_from(t.jobs).where(t.jobs.c.status == "completed")
        )
        try:
            time.sleep(3.0)  # the worker is up and idle
            start = time.monotonic()
            kills = cut = sent = 0
            next_kill = start
            while (now := time.monotonic()) < start + args.kill_for:
                due = min(args.jobs, int(args.jobs * (now - start) / (args.kill_for * 0.9)) + 1)
                if sent < due:
                    with SqlUnitOfWork(engine, clock) as uow:
                        for n in range(sent, due):
                            uow.jobs.enqueue(NewJob("email", {"n": n}))
                        uow.commit()
                    sent = due
                if now >= next_kill:
                    cut += kill_connections(killer, db.name)
                    kills += 1
                    next_kill += args.kill_every
                time.sleep(0.02)
            last_kill = time.monotonic()
            if sent < args.jobs:
                with SqlUnitOfWork(engine, clock) as uow:
                    for n in range(sent, args.jobs):
                        uow.jobs.enqueue(NewJob("email", {"n": n}))
                    uow.commit()
            completed = 0
            drain_s: float | None = None
            while time.monotonic() - last_kill < args.timeout and worker.poll() is None:
                with engine.connect() as connection:
                    completed = int(connection.execute(completed_count).scalar_one())
                if completed >= args.jobs:
                    drain_s = time.monotonic() - last_kill
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # a late duplicate run would show in the files by now
            worker_alive = worker.poll() is None
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            killer.close()
            engine.dispose()
        runs = count_runs(runs_dir)
        exit_code = worker.returncode
        log_text = log_path.read_text(errors="replace")
        if args.worker_log is not None:
            args.worker_log.write_text(log_text)
        log_lines = log_text.lower().splitlines()
    result = {
        "jobs": args.jobs,
        "completed": completed,
        "ran_twice": sum(1 for n in runs.values() if n == 2),
        "ran_more_than_twice": sum(1 for n in runs.values() if n > 2),
        "never_ran": args.jobs - len(runs),
        "drain_s": None if drain_s is None else round(drain_s, 2),
        "kills": kills,
        "connections_cut": cut,
        "worker_alive_at_end": worker_alive,
        "worker_exit_code": exit_code,
        "worker_critical_lines": sum("critical" in line for line in log_lines),
        "worker_warning_lines": sum("warning" in line for line in log_lines),
    }
    print(
        f"{args.jobs} jobs, connections cut every {args.kill_every}s for {args.kill_for}s "
        f"({kills} rounds, {cut} connections): {completed} completed, "
        f"{result['ran_twice']} ran twice, drained {result['drain_s']}s after the last cut"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
