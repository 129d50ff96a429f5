"""No-op jobs through the project's broker on Postgres, and through Dramatiq's RedisBroker.

Both runs use the same actor (`email`, doing nothing), the same worker processes x threads,
and the same measurements, taken inside the worker processes:

- throughput: idle workers, then N jobs enqueued at once (one transaction on Postgres, one
  `send` each on Redis); jobs per second from the first job's start to the last job's end;
- latency: one job at a time into idle workers, enqueue (just before the call) to the start
  of the actor, in milliseconds.

    .venv/bin/python bench/jobs_throughput.py [--processes 2] [--threads 8] [--jobs 5000]

Postgres: MIERLOOS_BENCH_DATABASE_URL (an admin URL) or the server on 127.0.0.1:5432, in a
database of its own that is dropped afterwards. Redis: 127.0.0.1:6379, database 15, flushed
first. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from mierloos_core.ports import NewJob

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REDIS_URL = "redis://127.0.0.1:6379/15"
QUEUE = "default"


# --- inside the worker processes -----------------------------------------------------------


class _Stats:
    """Per worker process: throughput window and latency samples, dumped to a file."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.warm = 0
        self.first_start: float | None = None
        self.last_end = 0.0
        self.latencies: list[float] = []
        self.thread: threading.Thread | None = None

    def run(self, data: dict[str, Any]) -> None:
        started = time.time()
        with self.lock:
            if data.get("warm"):
                self.warm += 1
            elif "sent" in data:
                self.latencies.append(started - float(data["sent"]))
            elif "n" in data:  # a job of the batch (never a recurring job of the worker's)
                if self.first_start is None:
                    self.first_start = started
                self.count += 1
                self.last_end = time.time()
            if self.thread is None:
                self.thread = threading.Thread(target=self._dump_forever, daemon=True)
                self.thread.start()

    def _dump_forever(self) -> None:
        target = Path(os.environ["BENCH_STATS_DIR"]) / f"{os.getpid()}.json"
        while True:
            with self.lock:
                snapshot = {
                    "count": self.count,
                    "warm": self.warm,
                    "first_start": self.first_start,
                    "last_end": self.last_end,
                    "latencies": list(self.latencies),
                }
            partial = target.with_suffix(".tmp")
            partial.write_text(json.dumps(snapshot))
            partial.replace(target)
            time.sleep(0.1)


_stats = _Stats()


def noop(data: Any) -> None:
    _stats.run(dict(data))


def bench_registry() -> Any:
    """MIERLOOS_JOB_HANDLERS for the project's worker: the no-op for every job type."""
    from mierloos_core.model.jobs import JobType
    from mierloos_core.services.jobs import JobRegistry

    registry = JobRegistry()
    for job_type in JobType:
        registry.register(job_type, noop)
    return registry


if os.environ.get("BENCH_BROKER") == "redis":  # imported by `dramatiq jobs_throughput`
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    redis_broker = RedisBroker(url=REDIS_URL)
    dramatiq.set_broker(redis_broker)

    @dramatiq.actor(actor_name="email", queue_name=QUEUE, max_retries=0)
    def email(data: dict[str, Any]) -> None:
        noop(data)


# --- the driver ------------------------------------------------------------------------------


def read_stats(directory: Path) -> list[dict[str, Any]]:
    found = []
    for path in directory.glob("*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


def wait_count(directory: Path, total: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = read_stats(directory)
        if sum(s["count"] for s in stats) >= total:
            return stats
        time.sleep(0.05)
    raise SystemExit(f"only {sum(s['count'] for s in read_stats(directory))} of {total} ran")


def wait_latencies(directory: Path, total: int, timeout: float) -> list[float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples = [x for s in read_stats(directory) for x in s["latencies"]]
        if len(samples) >= total:
            return samples
        time.sleep(0.01)
    raise SystemExit("latency samples missing")


def rate(stats: list[dict[str, Any]]) -> float:
    starts = [s["first_start"] for s in stats if s["first_start"]]
    count = sum(s["count"] for s in stats)
    return count / (max(s["last_end"] for s in stats) - min(starts))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def start_workers(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def warm_up(directory: Path, send: Any, processes: int) -> None:
    """Until every worker process has run jobs (so all have booted and connected)."""
    for _ in range(300):
        for _ in range(processes * 4):
            send({"warm": True})
        time.sleep(0.1)
        if len([s for s in read_stats(directory) if s["warm"]]) >= processes:
            return
    raise SystemExit("the workers did not start")


def measure(
    directory: Path,
    send_one: Any,
    send_batch: Any,
    jobs: int,
    samples: int,
    processes: int,
) -> tuple[float, list[float]]:
    warm_up(directory, send_one, processes)
    time.sleep(1.0)  # idle: consumers back to waiting
    rng = random.Random(3)
    for _ in range(samples):
        send_one({"sent": time.time()})
        time.sleep(rng.uniform(0.03, 0.07))  # the worker is idle when the next one comes
    latencies = wait_latencies(directory, samples, 60)
    time.sleep(1.0)
    send_batch(jobs)
    stats = wait_count(directory, jobs, 600)
    return rate(stats), latencies


def run_postgres(args: argparse.Namespace, admin_url: str, work: Path) -> tuple[float, list[float]]:
    sys.path.insert(0, str(ROOT / "src"))
    from bench_support import fresh_database

    from mierloos_adapters.memory import SystemClock
    from mierloos_adapters.migrations import upgrade
    from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine

    stats_dir = work / "pg"
    stats_dir.mkdir()
    with fresh_database(admin_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "src"), str(ROOT)]),
            "DATABASE_URL": url,
            "MIERLOOS_JOB_HANDLERS": "jobs_throughput:bench_registry",
            "BENCH_STATS_DIR": str(stats_dir),
            "PORT": "0",
            "ORPHANED_ORDER_CLEANUP_PERIOD": "0",
            "REFUND_FOLLOW_UP_PERIOD": "0",
            # No recurring jobs: a jobs_purge run at boot once opened the throughput window
            # during the warm-up, and the rate came out at a fifth of the broker's.
            "JOBS_RETENTION_DAYS": "0",
            "WAITLIST_RETENTION_DAYS": "0",
            "WORKER_POLLING_INTERVAL": "5",
        }
        command = [
            sys.executable,
            "-c",
            "import sys; from mierloos_entrypoints.worker import main; "
            f"sys.exit(main(['--processes', '{args.processes}', '--threads', '{args.threads}']))",
        ]
        process = start_workers(command, env, work / "pg-worker.log")
        clock = SystemClock()

        def send_one(data: dict[str, Any]) -> None:
            with SqlUnitOfWork(engine, clock) as uow:
                uow.jobs.enqueue(NewJob("email", data))
                uow.commit()

        def send_batch(count: int) -> None:
            with SqlUnitOfWork(engine, clock) as uow:
                for n in range(count):
                    uow.jobs.enqueue(NewJob("email", {"n": n}))
                uow.commit()

        try:
            return measure(stats_dir, send_one, send_batch, args.jobs, args.samples, args.processes)
        finally:
            stop(process)
            engine.dispose()


def run_redis(args: argparse.Namespace, work: Path) -> tuple[float, list[float]]:
    import dramatiq
    import redis
    from dramatiq.brokers.redis import RedisBroker

    redis.Redis.from_url(REDIS_URL).flushdb()
    stats_dir = work / "redis"
    stats_dir.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "src"), str(ROOT)]),
        "BENCH_BROKER": "redis",
        "BENCH_STATS_DIR": str(stats_dir),
    }
    command = [
        sys.executable,
        "-m",
        "dramatiq",
        "jobs_throughput",
        "--processes",
        str(args.processes),
        "--threads",
        str(args.threads),
    ]
    process = start_workers(command, env, work / "redis-worker.log")
    broker = RedisBroker(url=REDIS_URL)
    actor = dramatiq.actor(actor_name="email", queue_name=QUEUE, broker=broker, max_retries=0)(
        lambda data: None
    )

    def send_one(data: dict[str, Any]) -> None:
        actor.send(data)

    def send_batch(count: int) -> None:
        for n in range(count):
            actor.send({"n": n})

    try:
        return measure(stats_dir, send_one, send_batch, args.jobs, args.samples, args.processes)
    finally:
        stop(process)
        broker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    admin_url = os.environ.get(
        "MIERLOOS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    with tempfile.TemporaryDirectory(prefix="jobs-bench-") as directory:
        work = Path(directory)
        pg_rate, pg_latency = run_postgres(args, admin_url, work)
        redis_rate, redis_latency = run_redis(args, work)
    print(f"{args.processes} processes x {args.threads} threads, {args.jobs} no-op jobs")
    print(f"postgres (jobs table): {pg_rate:8.0f} jobs/s")
    print(f"redis (RedisBroker):   {redis_rate:8.0f} jobs/s")
    print(f"jobs table against RedisBroker: ratio {pg_rate / redis_rate:.2f}")
    print(
        "latency enqueue->start, idle worker: "
        f"postgres p50 {percentile(pg_latency, 0.5):.1f} ms, p99 {percentile(pg_latency, 0.99):.1f}"
        f" ms; redis p50 {percentile(redis_latency, 0.5):.1f} ms,"
        f" p99 {percentile(redis_latency, 0.99):.1f} ms"
    )
    print(
        json.dumps(
            {
                "jobs_per_s": round(pg_rate, 1),
                "redis_jobs_per_s": round(redis_rate, 1),
                "ratio": round(pg_rate / redis_rate, 3),
                "latency_p50_ms": round(percentile(pg_latency, 0.5), 2),
                "latency_p99_ms": round(percentile(pg_latency, 0.99), 2),
                "redis_latency_p50_ms": round(percentile(redis_latency, 0.5), 2),
                "redis_latency_p99_ms": round(percentile(redis_latency, 0.99), 2),
                "latency_samples": len(pg_latency),
                "processes": args.processes,
                "threads": args.threads,
                "jobs": args.jobs,
                "median_latency_ms": round(statistics.median(pg_latency) * 1000, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
