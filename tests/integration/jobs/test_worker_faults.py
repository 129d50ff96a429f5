"""Faults injected into a running worker on real Postgres: it keeps going, loses nothing.

Connections are cut by the server itself (`pg_terminate_backend`), exactly inside a claim, an
ack or a lease renewal (a trigger on the jobs table that ends its own backend, counted by a
sequence, which no rollback undoes), or under the LISTEN; the server is restarted (a private
cluster); a worker process is SIGKILLed mid-job; SIGTERM outlasts the shutdown timeout.
Invariants everywhere: every job completes without restarting the worker, no job runs more
than twice, and /health tells the truth.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import create_engine

from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import make_engine
from mierloos_core.model.jobs import JobStatus
from tests.integration.jobs.conftest import JobsDatabase, wait_for
from tests.postgres_server import PrivateCluster, fresh_database, private_cluster

pytestmark = pytest.mark.slow

# Ends the backend running the statement, for the first `n` rows a kind of update touches.
CUT_INSIDE = """
CREATE SEQUENCE IF NOT EXISTS fault_claim;
CREATE SEQUENCE IF NOT EXISTS fault_ack;
CREATE SEQUENCE IF NOT EXISTS fault_heartbeat;
CREATE OR REPLACE FUNCTION cut_connection() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cuts int := TG_ARGV[0]::int;
BEGIN
  IF OLD.status = 'pending' AND NEW.status = 'processing' THEN
    IF nextval('fault_claim') <= cuts THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
  ELSIF OLD.status = 'processing' AND NEW.status = 'completed' THEN
    IF nextval('fault_ack') <= cuts THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
  ELSIF OLD.status = 'processing' AND NEW.status = 'processing'
        AND OLD.execution_count = NEW.execution_count THEN
    IF nextval('fault_heartbeat') <= cuts THEN
      PERFORM pg_terminate_backend(pg_backend_pid());
    END IF;
  END IF;
  RETURN NEW;
END $$;
"""


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sql(database: JobsDatabase, statement: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(_libpq(database.url), autocommit=True) as conn:
        cursor = conn.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def cut_inside(jobs_pg: JobsDatabase) -> Iterator[None]:
    sql(jobs_pg, CUT_INSIDE)
    yield
    sql(jobs_pg, "DROP TRIGGER IF EXISTS cut_connection ON jobs")
    for kind in ("claim", "ack", "heartbeat"):
        sql(jobs_pg, f"DROP SEQUENCE IF EXISTS fault_{kind}")


def arm(database: JobsDatabase, cuts: int) -> None:
    sql(database, "DROP TRIGGER IF EXISTS cut_connection ON jobs")
    sql(
        database,
        "CREATE TRIGGER cut_connection BEFORE UPDATE ON jobs FOR EACH ROW"
        f" EXECUTE FUNCTION cut_connection({cuts})",
    )


def cuts_made(database: JobsDatabase, kind: str) -> int:
    ((value, called),) = sql(database, f"SELECT last_value, is_called FROM fault_{kind}")
    return int(value) if called else 0


def status(worker) -> int | None:
    answer = worker.health()
    return answer[0] if answer else None


def runs(effects, kind: str = "start") -> dict[str, int]:
    return dict(effects.count(kind))


def assert_all_done_at_most_twice(database, ids, effects, *, exactly_once: bool = False) -> None:
    jobs = database.wait_settled(ids, timeout=40)
    assert {job.status for job in jobs} == {JobStatus.COMPLETED}
    started = runs(effects)
    assert max(started.values()) <= (1 if exactly_once else 2), started
    assert len(runs(effects, "done")) == len(ids)


def test_connections_cut_inside_claims_and_acks_lose_no_job(
    jobs_pg, cut_inside, start_worker, effects
):
    jobs_pg.empty()
    worker = start_worker(jobs_pg, threads=4).wait_ready()
    arm(jobs_pg, cuts=6)

    ids = jobs_pg.enqueue_many("email", [{"key": f"j-{n}"} for n in range(60)])

    assert_all_done_at_most_twice(jobs_pg, ids, effects)
    assert cuts_made(jobs_pg, "claim") > 6
    assert cuts_made(jobs_pg, "ack") > 6
    assert worker.process.poll() is None
    log = worker.log()
    assert "You've found a bug in Dramatiq" not in log
    assert "critical" not in log.lower()
    assert "database connection lost during a claim" in log
    assert "database connection lost during writing completed jobs" in log
    assert wait_for(lambda: status(worker) == 200, timeout=10)


def test_connections_cut_inside_lease_renewals_keep_the_job_with_its_worker(
    jobs_pg, cut_inside, start_worker, effects
):
    jobs_pg.empty()
    # Leases of 1.5 s, renewed every 0.5 s: a renewal lost for good would let the job be
    # claimed again (by this very worker) while it still runs.
    worker = start_worker(jobs_pg, threads=4, WORKER_LEASE_SECONDS=1.5).wait_ready()
    ids = jobs_pg.enqueue_many("email", [{"key": f"slow-{n}", "sleep": 4} for n in range(3)])
    wait_for(lambda: len(effects.of("start")) == 3, timeout=10)
    arm(jobs_pg, cuts=4)

    assert_all_done_at_most_twice(jobs_pg, ids, effects, exactly_once=True)
    assert cuts_made(jobs_pg, "heartbeat") > 4
    assert "database connection lost during renewing leases" in worker.log()
    assert all(jobs_pg.job(i).execution_count == 1 for i in ids)


def test_the_listen_connection_cut_again_and_again_still_brings_jobs_in(
    jobs_pg, start_worker, effects
):
    jobs_pg.empty()
    # Idle polling of 30 s: a job started within seconds came through LISTEN/NOTIFY, or
    # through the polling the broker falls back to while LISTEN reconnects.
    worker = start_worker(jobs_pg, WORKER_POLLING_INTERVAL=30).wait_ready()
    listeners = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND query ILIKE 'LISTEN%%'"
        " AND pid <> pg_backend_pid()"
    )
    for n in range(5):
        assert sql(jobs_pg, listeners), "the worker was listening"
        time.sleep(0.3)
        job_id = jobs_pg.enqueue("email", {"key": f"after-cut-{n}"})
        jobs_pg.wait_settled([job_id], timeout=10)
        wait_for(lambda: sql(jobs_pg, listeners.replace("pg_terminate_backend(pid)", "pid")), 10)
    assert runs(effects) == {f"after-cut-{n}": 1 for n in range(5)}
    assert "database connection lost during LISTEN" in worker.log()
    assert status(worker) == 200


def test_every_connection_cut_every_few_tenths_while_jobs_flow(jobs_pg, start_worker, effects):
    jobs_pg.empty()
    worker = start_worker(jobs_pg, threads=8).wait_ready()
    # The test's own connections are named apart, so only the worker's are cut.
    ours = create_engine(jobs_pg.url, connect_args={"application_name": "fault-test"})
    database = JobsDatabase(jobs_pg.url, ours)
    stop = threading.Event()

    def cut_everything() -> None:
        with psycopg.connect(_libpq(jobs_pg.url), autocommit=True) as conn:
            conn.execute("SET application_name TO 'fault-test'")
            while not stop.wait(0.3):
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND application_name <> 'fault-test'"
                ).fetchall()

    cutter = threading.Thread(target=cut_everything)
    cutter.start()
    ids = []
    try:
        for n in range(20):
            ids += database.enqueue_many("email", [{"key": f"f-{n}-{m}"} for m in range(15)])
            time.sleep(0.2)
    finally:
        stop.set()
        cutter.join()

    assert_all_done_at_most_twice(database, ids, effects)
    ours.dispose()
    assert worker.process.poll() is None
    assert wait_for(lambda: status(worker) == 200, timeout=10)


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    with private_cluster() as made:
        yield made


@pytest.fixture
def cluster_db(cluster: PrivateCluster) -> Iterator[JobsDatabase]:
    with fresh_database(cluster.url) as url:
        engine = make_engine(url, pool_size=2, max_overflow=2)
        upgrade(engine)
        yield JobsDatabase(url, engine)
        engine.dispose()


def test_a_postgres_restart_and_an_outage_are_survived_and_health_says_so(
    cluster, cluster_db, start_worker, effects
):
    worker = start_worker(cluster_db, threads=4).wait_ready()
    first = cluster_db.enqueue_many("email", [{"key": f"before-{n}"} for n in range(10)])
    cluster_db.wait_settled(first, timeout=15)

    cluster.stop("immediate")  # a crash: every connection gone, nothing said goodbye
    cluster.start()
    after_restart = cluster_db.enqueue_many("email", [{"key": f"restart-{n}"} for n in range(10)])
    assert_all_done_at_most_twice(cluster_db, first + after_restart, effects)

    cluster.stop("fast")
    answer = wait_for(lambda: status(worker) == 503 and worker.health(), 10)
    assert answer[1]["database"]["reachable"] is False
    time.sleep(3)
    cluster.start()
    during = cluster_db.enqueue_many("email", [{"key": f"outage-{n}"} for n in range(10)])
    assert_all_done_at_most_twice(cluster_db, first + after_restart + during, effects)
    assert wait_for(lambda: status(worker) == 200, timeout=10)
    assert worker.process.poll() is None
    log = worker.log().lower()
    assert "critical" not in log
    assert "database connection back after" in log


def test_health_is_503_while_ready_jobs_go_unclaimed_and_200_once_they_run(
    jobs_pg, start_worker, effects
):
    jobs_pg.empty()
    worker = start_worker(jobs_pg, threads=2, WORKER_STUCK_SECONDS=2).wait_ready()
    time.sleep(2.5)  # idle for longer than the window: idleness alone is healthy
    assert status(worker) == 200
    # Another session holds the ready jobs' rows: claims skip them and take nothing.
    # Due in a second, so they are locked before the worker may claim them.
    due = datetime.now(UTC) + timedelta(seconds=1)
    job_ids = [jobs_pg.enqueue("email", {"key": f"held-{n}"}, run_at=due) for n in range(3)]
    holder = psycopg.connect(_libpq(jobs_pg.url))
    try:
        holder.execute("SELECT id FROM jobs WHERE status = 'pending' FOR UPDATE").fetchall()
        code, body = wait_for(lambda: status(worker) == 503 and worker.health(), 15)
        assert code == 503
        assert body["workers"][0]["stuck"]
        assert body["database"] == {"reachable": True}
    finally:
        holder.rollback()
        holder.close()
    jobs_pg.wait_settled(job_ids, timeout=15)
    assert wait_for(lambda: status(worker) == 200, timeout=10)


def test_health_is_503_on_a_database_that_is_not_migrated(postgres_admin_url, start_worker):
    with fresh_database(postgres_admin_url) as url:
        worker = start_worker(JobsDatabase(url, make_engine(url)))
        code, body = wait_for(worker.health, timeout=20)
        assert code == 503
        assert body["database"]["reachable"] is True
        assert "mierloos migrate" in body["database"]["error"]
        worker.close()


def test_a_worker_process_killed_mid_job_is_replaced_and_its_job_runs_again(
    jobs_pg, start_worker, effects
):
    import os
    import signal

    jobs_pg.empty()
    worker = start_worker(jobs_pg, processes=2, threads=2, WORKER_LEASE_SECONDS=2).wait_ready(
        timeout=30
    )
    victim = jobs_pg.enqueue("email", {"key": "victim", "sleep": 3})
    (started,) = wait_for(lambda: effects.of("start", "victim"), timeout=10)
    others = jobs_pg.enqueue_many("email", [{"key": f"other-{n}"} for n in range(10)])

    os.kill(started["pid"], signal.SIGKILL)

    assert_all_done_at_most_twice(jobs_pg, [victim, *others], effects)
    assert runs(effects)["victim"] == 2
    assert worker.process.poll() is None, "the worker itself keeps running"
    assert wait_for(lambda: status(worker) == 200, timeout=20)


def test_sigterm_past_the_shutdown_timeout_hands_the_running_job_back_at_once(
    jobs_pg, start_worker, effects
):
    jobs_pg.empty()
    worker = start_worker(jobs_pg, threads=2, WORKER_SHUTDOWN_TIMEOUT=1).wait_ready()
    job_id = jobs_pg.enqueue("email", {"key": "long", "sleep": 60})
    wait_for(lambda: effects.of("start", "long"), timeout=10)

    stopped_at = time.monotonic()
    worker.terminate()
    assert worker.wait(timeout=20) == 0
    assert time.monotonic() - stopped_at < 10

    row = jobs_pg.row(job_id)
    assert row.status == "pending"
    assert row.execution_count == 0
    assert row.lease_owner is None
    assert row.lease_expires_at is None
    assert f"job {job_id} (email) still running when the shutdown timeout ended" in worker.log()

    sql(jobs_pg, "UPDATE jobs SET data = data - 'sleep' WHERE id = %s", job_id)
    heir = start_worker(jobs_pg, "heir", threads=2).wait_ready()
    (job,) = jobs_pg.wait_settled([job_id], timeout=15)
    assert job.status is JobStatus.COMPLETED
    assert runs(effects) == {"long": 2}
    heir.terminate()


def test_worker_processes_stop_by_themselves_when_their_supervisor_is_killed(
    jobs_pg, start_worker, effects
):
    import os
    import signal

    jobs_pg.empty()
    worker = start_worker(jobs_pg, processes=2, threads=2).wait_ready(timeout=30)
    job_id = jobs_pg.enqueue("email", {"key": "running", "sleep": 2})
    (started,) = wait_for(lambda: effects.of("start", "running"), timeout=10)

    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie waiting for its new parent to reap it has stopped too
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"

    assert wait_for(lambda: not alive(started["pid"]), timeout=30), "orphaned worker still running"
    (job,) = jobs_pg.wait_settled([job_id], timeout=10)
    assert job.status is JobStatus.COMPLETED, "the running job was finished before stopping"
    assert runs(effects) == {"running": 1}
