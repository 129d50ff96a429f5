"""The broker over the jobs table, in-process, on SQLite and Postgres: claims, leases, settling.

The clock is a FixedClock, so leases and retry delays are checked exactly, without sleeping.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import dramatiq
import psycopg
import pytest
from dramatiq.errors import BrokerConnectionError, QueueNotFound
from dramatiq.middleware import Middleware
from sqlalchemy import select, update

from mierloos_adapters.jobqueue import signals
from mierloos_adapters.jobqueue.broker import JobsBroker
from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.jobqueue.messages import JobMessage
from mierloos_adapters.jobqueue.outcomes import JobOutcomes
from mierloos_adapters.memory import FixedClock
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.errors import DependencyUnavailable, PermanentFailure
from mierloos_core.model.jobs import RetryPolicy
from mierloos_core.ports import NewJob
from mierloos_core.services.jobs import UnknownJobType, is_retryable
from tests.integration.jobs.conftest import free_port

LEASE = timedelta(seconds=30)


class Recorder(Middleware):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def before_declare_queue(self, broker, queue_name):
        self.events.append(("before_declare_queue", queue_name))

    def after_declare_queue(self, broker, queue_name):
        self.events.append(("after_declare_queue", queue_name))

    def before_enqueue(self, broker, message, delay):
        self.events.append(("before_enqueue", delay))

    def after_enqueue(self, broker, message, delay):
        self.events.append(("after_enqueue", delay))


@pytest.fixture
def brokers(engine, clock) -> Iterator:
    made: list[JobsBroker] = []

    def make(worker_id: str = "w1", **options) -> JobsBroker:
        options.setdefault("lease", LEASE)
        broker = JobsBroker(engine, clock=clock, worker_id=worker_id, listen=False, **options)
        broker.declare_queue("default")
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


def enqueue(engine, clock, job_type="email", data=None, **options) -> uuid.UUID:
    with SqlUnitOfWork(engine, clock) as uow:
        job_id = uow.jobs.enqueue(NewJob(job_type, data or {}, **options))
        uow.commit()
    return job_id


def row(engine, job_id):
    with engine.connect() as connection:
        return connection.execute(select(t.jobs).where(t.jobs.c.id == job_id)).one()


def claim(broker: JobsBroker, limit: int = 10) -> list[JobMessage]:
    messages, _ = broker.claim(broker.queues["default"], limit)
    return messages


def fail(broker: JobsBroker, message: JobMessage, error: BaseException) -> str:
    """What the worker does when an actor raises: decide, then ack or nack."""
    outcomes = next(m for m in broker.middleware if isinstance(m, JobOutcomes))
    outcomes.after_process_message(broker, message, exception=error)
    outcome = "failed" if message.failed else "retry"
    broker.settle(message, outcome)
    return outcome


def test_a_claim_takes_due_jobs_by_priority_then_due_time(engine, clock, brokers):
    broker = brokers()
    late = enqueue(engine, clock, data={"n": "late"})
    clock.advance(timedelta(seconds=1))
    urgent = enqueue(engine, clock, data={"n": "urgent"}, priority=5)
    early = enqueue(engine, clock, data={"n": "early"}, run_at=clock.now() - timedelta(minutes=1))
    future = enqueue(engine, clock, data={"n": "future"}, run_at=clock.now() + timedelta(hours=1))

    messages = claim(broker)

    assert [m.job_id for m in messages] == [urgent, early, late]
    assert [m.data["n"] for m in messages] == ["urgent", "early", "late"]
    claimed = row(engine, urgent)
    assert claimed.status == "processing"
    assert claimed.execution_count == 1
    assert claimed.lease_owner == "w1"
    assert claimed.lease_expires_at == clock.now() + LEASE
    assert row(engine, future).status == "pending"
    assert messages[0].actor_name == "email"
    assert messages[0].message_id == str(urgent)
    assert messages[0].args == ({"n": "urgent"},)


def test_two_brokers_never_claim_the_same_job(engine, clock, brokers):
    ids = {enqueue(engine, clock, data={"n": n}) for n in range(120)}
    taken: dict[str, list[uuid.UUID]] = {"a": [], "b": []}

    def drain(name: str) -> None:
        broker = brokers(name)
        while batch := claim(broker, 7):
            taken[name].extend(m.job_id for m in batch)

    threads = [threading.Thread(target=drain, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert set(taken["a"]).isdisjoint(taken["b"])
    assert len(taken["a"]) + len(taken["b"]) == len(ids)
    assert set(taken["a"]) | set(taken["b"]) == ids


def test_an_expired_lease_makes_the_job_claimable_and_the_late_ack_changes_nothing(
    engine, clock, brokers
):
    first, second = brokers("first"), brokers("second")
    job_id = enqueue(engine, clock)
    (lost,) = claim(first)
    assert claim(second) == []

    clock.advance(LEASE + timedelta(seconds=1))
    (taken,) = claim(second)

    assert taken.job_id == job_id
    assert taken.attempt == 2
    assert first.settle(lost, "completed") is False
    assert row(engine, job_id).status == "processing"
    assert row(engine, job_id).lease_owner == "second"
    assert second.settle(taken, "completed") is True
    done = row(engine, job_id)
    assert done.status == "completed"
    assert done.completed_at == clock.now()
    assert [(e["attempt"], e["worker"]) for e in done.errors] == [(1, "first")]
    assert "lease expired" in done.errors[0]["error"]


def test_the_heartbeat_keeps_the_leases_of_jobs_in_hand(engine, clock, brokers):
    holder, other = brokers("holder"), brokers("other")
    job_id = enqueue(engine, clock)
    claim(holder)

    clock.advance(LEASE - timedelta(seconds=1))
    assert holder.renew_leases() == 1
    clock.advance(timedelta(seconds=2))

    assert claim(other) == []
    assert row(engine, job_id).lease_expires_at == clock.now() - timedelta(seconds=2) + LEASE


def test_a_job_handed_back_is_pending_again_with_its_attempt_undone(engine, clock, brokers):
    broker = brokers()
    waiting_id, running_id = enqueue(engine, clock), enqueue(engine, clock)
    messages = {m.job_id: m for m in claim(broker)}
    messages[running_id].started = True

    broker.requeue(messages.values())

    waiting = row(engine, waiting_id)
    assert waiting.status == "pending"
    assert waiting.execution_count == 0
    assert waiting.lease_owner is None
    assert waiting.lease_expires_at is None
    assert row(engine, running_id).status == "processing", "a running job is never handed back"
    assert broker.in_hand() == [messages[running_id]]


def test_failed_attempts_follow_the_retry_policy_exactly_then_fail(engine, clock, brokers):
    policy = RetryPolicy()  # 5 s base, doubling, 5 attempts
    broker = brokers(policy=policy, is_retryable=is_retryable)
    job_id = enqueue(engine, clock)
    delays = []
    for attempt in range(1, 6):
        (message,) = claim(broker)
        assert message.attempt == attempt
        outcome = fail(broker, message, DependencyUnavailable(f"down {attempt}"))
        current = row(engine, job_id)
        if outcome == "retry":
            assert current.status == "pending"
            assert current.lease_owner is None
            delays.append(current.next_retry_at - clock.now())
            clock.advance(current.next_retry_at - clock.now() - timedelta(microseconds=1))
            assert claim(broker) == [], "not claimable before it is due"
            clock.advance(timedelta(microseconds=1))

    assert delays == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    failed = row(engine, job_id)
    assert failed.status == "failed"
    assert failed.execution_count == 5
    assert [e["attempt"] for e in failed.errors] == [1, 2, 3, 4, 5]
    assert failed.errors[-1]["error"] == "DependencyUnavailable: down 5"
    assert "down 5" in failed.error_message


def test_errors_that_retrying_cannot_fix_fail_the_job_at_once(engine, clock, brokers):
    given_up = []
    broker = brokers(is_retryable=is_retryable, on_give_up=lambda *args: given_up.append(args))
    refused = enqueue(engine, clock, data={"n": 1})
    unknown = enqueue(engine, clock, data={"n": 2})
    messages = {m.job_id: m for m in claim(broker)}

    assert fail(broker, messages[refused], PermanentFailure("no")) == "failed"
    assert fail(broker, messages[unknown], UnknownJobType("what")) == "failed"
    broker.emit_after("nack", messages[refused])

    assert row(engine, refused).status == "failed"
    assert row(engine, refused).execution_count == 1
    assert row(engine, unknown).status == "failed"
    assert given_up == [("email", {"n": 1}, "PermanentFailure: no")]


def test_a_job_that_keeps_losing_its_worker_is_failed_instead_of_run(engine, clock, brokers):
    broker = brokers()
    job_id = enqueue(engine, clock)
    with engine.begin() as connection:
        connection.execute(
            update(t.jobs)
            .where(t.jobs.c.id == job_id)
            .values(
                status="processing",
                execution_count=5,
                lease_owner="crashed",
                lease_expires_at=clock.now() - timedelta(seconds=1),
            )
        )

    (message,) = claim(broker)

    assert message.failed
    assert broker.settle(message, "failed") is True
    assert row(engine, job_id).status == "failed"
    assert "gave up" in row(engine, job_id).error_message


def test_enqueue_is_an_upsert_on_the_message_id_and_uses_no_eta(engine, clock, brokers):
    recorder = Recorder()
    broker = brokers()
    broker.add_middleware(recorder)

    @dramatiq.actor(broker=broker, actor_name="email")
    def email(data):  # pragma: no cover - never run here
        pass

    message = email.send({"to": "a@example.nl"})
    job_id = uuid.UUID(message.message_id)
    assert row(engine, job_id).status == "pending"
    (claimed,) = claim(broker)

    broker.enqueue(message, delay=2000)  # what Dramatiq's Retries would do

    again = row(engine, job_id)
    assert again.status == "pending"
    assert again.next_retry_at == clock.now() + timedelta(seconds=2)
    assert again.lease_owner is None
    assert again.data == {"to": "a@example.nl"}
    assert broker.settle(claimed, "completed") is False, "the original's ack changes nothing"
    assert [e for e in recorder.events if e[0].endswith("_enqueue")] == [
        ("before_enqueue", None),
        ("after_enqueue", None),
        ("before_enqueue", 2000),
        ("after_enqueue", 2000),
    ]
    assert broker.get_declared_delay_queues() == set()
    assert "eta" not in message.options


def test_declaring_a_queue_twice_declares_it_once(engine, clock):
    recorder = Recorder()
    broker = JobsBroker(engine, clock=clock, listen=False)
    broker.add_middleware(recorder)
    try:
        broker.declare_queue("mail")
        broker.declare_queue("mail")
        assert recorder.events == [
            ("before_declare_queue", "mail"),
            ("after_declare_queue", "mail"),
        ]
        assert broker.get_declared_queues() == {"mail"}
        with pytest.raises(QueueNotFound):
            broker.consume("elsewhere")
    finally:
        broker.close()


def test_an_idle_consumer_backs_off_and_resets_when_work_appears(engine, clock, brokers):
    broker = brokers(poll_interval=timedelta(seconds=0.05), poll_cap=timedelta(seconds=0.2))
    polls: list[tuple[float, float]] = []
    real_claim = broker.claim

    def counting_claim(state, limit):
        started = time.monotonic()
        try:
            return real_claim(state, limit)
        finally:
            polls.append((started, time.monotonic()))

    broker.claim = counting_claim  # type: ignore[method-assign]
    consumer = broker.consume("default", prefetch=4, timeout=900)

    assert next(consumer) is None
    # The backoff is the pause from one claim's end to the next one's start: the claims' own
    # time (longer on a loaded machine) is not part of it.
    gaps = [round(b[0] - a[1], 2) for a, b in itertools.pairwise(polls)]
    assert gaps[:3] == pytest.approx([0.05, 0.1, 0.2], abs=0.03)
    assert all(gap == pytest.approx(0.2, abs=0.03) for gap in gaps[3:])

    job_id = enqueue(engine, clock)
    message = next(consumer)
    while message is None:
        message = next(consumer)
    assert message.job_id == job_id
    assert consumer.idle_delay == 0.05
    consumer.close()


def test_a_commit_wakes_consumers_and_a_rollback_does_not(engine, clock, postgres_url):
    if engine.dialect.name == "postgresql":
        heard: list[str] = []
        listener = psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True)
        listener.execute(f"LISTEN {signals.CHANNEL}")

        def drain() -> list[str]:
            heard.extend(n.payload for n in listener.notifies(timeout=0.3))
            return heard
    else:
        calls: list[tuple[str, float | None]] = []

        class Spy:
            def wake(self, queue_name, due):
                calls.append((queue_name, due))

        spy = Spy()
        signals.listen_locally(spy)

        def drain() -> list[str]:
            return [name for name, _ in calls]

    try:
        with SqlUnitOfWork(engine, clock) as uow:
            uow.jobs.enqueue(NewJob("email", {}))
        assert drain() == []
        enqueue(engine, clock)
        assert drain() == ["default"]
    finally:
        if engine.dialect.name == "postgresql":
            listener.close()
        else:
            signals.stop_listening_locally(spy)


def test_racing_brokers_enqueue_a_recurring_job_once_per_period(engine, clock, brokers):
    racers = [brokers(f"r{n}") for n in range(4)]
    for broker in racers:
        broker.schedule("orphaned_order_cleanup", timedelta(minutes=5))
    results: list[uuid.UUID] = []

    def race() -> None:
        for broker in racers:
            results.extend(broker.enqueue_recurring())

    threads = [threading.Thread(target=race) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    clock.advance(timedelta(minutes=5))
    next_period = racers[0].enqueue_recurring()

    assert len(set(results)) == 1
    assert len(results) == 12
    assert next_period != [results[0]]
    with SqlUnitOfWork(engine, clock) as uow:
        jobs = uow.jobs.list(job_type="orphaned_order_cleanup")
    assert len(jobs) == 2
    assert {j.dedupe_key for j in jobs} == {
        "orphaned_order_cleanup@2026-03-01T12:00:00+00:00",
        "orphaned_order_cleanup@2026-03-01T12:05:00+00:00",
    }


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_a_lost_database_keeps_the_consumer_trying_and_raises_connection_errors_elsewhere(
    backend, tmp_path, caplog
):
    if backend == "postgresql":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone"
    else:
        url = f"sqlite:///{tmp_path}/missing/dir/jobs.db"
    engine = make_engine(url)
    broker = JobsBroker(engine, clock=FixedClock(), listen=False)
    broker.declare_queue("default")
    try:
        consumer = broker.consume("default", timeout=300)
        # The consumer stays and tries again with backoff (Dramatiq would log CRITICAL and
        # restart it every 3 s otherwise); the outage is logged once.
        assert next(consumer) is None
        assert next(consumer) is None
        lost = [r for r in caplog.records if "database connection lost" in r.getMessage()]
        assert len(lost) == 1
        assert lost[0].levelname == "WARNING"
        with pytest.raises(BrokerConnectionError):
            broker.join("default", timeout=100)
    finally:
        broker.close()
        engine.dispose()


def test_a_recurring_job_stays_once_per_period_after_jobs_are_purged(engine, clock, brokers):
    first = brokers("before-purge")
    first.schedule("orphaned_order_cleanup", timedelta(minutes=5))
    [job_id] = first.enqueue_recurring()
    with engine.begin() as connection:
        connection.execute(
            update(t.jobs)
            .where(t.jobs.c.id == job_id)
            .values(status="completed", completed_at=clock.now())
        )
    assert SqlJobLedger(engine, clock).purge_completed(clock.now() + timedelta(days=1)) == 0

    # A worker started later in the same period finds the period's job and adds none.
    later = brokers("after-purge")
    later.schedule("orphaned_order_cleanup", timedelta(minutes=5))
    assert later.enqueue_recurring() == [job_id]
    with SqlUnitOfWork(engine, clock) as uow:
        assert len(uow.jobs.list(job_type="orphaned_order_cleanup")) == 1
