"""A Dramatiq broker whose messages are the rows of the `jobs` table.

Dramatiq keeps the worker, its threads, the middleware and the CLI; this module only moves
rows. A message is a job: message_id = job id, actor name = job type, queue name = the row's
`queue_name`, and the actor gets one argument, the job's `data` (a JSON object).

Claiming. A consumer takes up to `prefetch` jobs in one statement: pending jobs that are due
(`next_retry_at` empty or past) or processing jobs whose lease expired, highest priority
first, then by due time (`next_retry_at`, else `created_at`). On Postgres the rows are picked
with ``FOR UPDATE SKIP LOCKED``; on SQLite the claim runs inside ``BEGIN IMMEDIATE`` (the
engine begins every transaction so), which admits one writer at a time. A claim sets
`status = processing`, `execution_count + 1`, `lease_owner` (this broker's worker id) and
`lease_expires_at`. A heartbeat thread renews the leases of the jobs in hand that have not
finished running, so a lease only expires when its worker is gone or cut off (or could not
write a finished job's outcome in time); then the job is claimable again, and the attempt that
was lost is written to the job's `errors`.

Lost connections. Every database path (claim, ack, nack, hand-back, lease renewal, LISTEN)
treats an error that means "the connection is gone" (`outages.is_connection_lost`) alike: it
is logged once per outage, and the work is tried again with backoff on a fresh connection. A
settle is retried until the message's lease would run out, then the job is left to be taken
over. A claim whose answer was lost may have taken rows nobody holds: the next claim on that
queue hands back every row this worker owns that is not in hand.

Settling. ack, nack, requeue and a retry each update the row only if it is still
`processing` under this very lease (owner and attempt number): a job taken over after a lease
expired is never completed by the worker that lost it. Two workers therefore never run the
same job at once, as long as a lease outlives a heartbeat's delay. A plain completion (an
ack) is handed to one writer thread, which writes every completion waiting in one statement
as soon as one waits; the worker thread goes on to its next job meanwhile. The job stays in
hand until its row is written: no room is freed for a claim, and its lease is not renewed
(a completion that cannot be written lets the lease run out, and the job runs again, as a
crash before the write would). `close` writes the completions handed over before it hands
anything back.

Retries. `JobOutcomes` replaces Dramatiq's Retries middleware and keeps our RetryPolicy,
exactly and without jitter: after the n-th failed attempt the job is pending again with
``next_retry_at = now + policy.delay_after(n)`` (base, doubling, capped), and after
``max_attempts`` attempts (the row's `max_attempts` if set, else the policy's) it is `failed`.
A non-retryable error fails the job at once. Every attempt's error is appended to `errors`.
No eta and no delay queue is ever used: a delay is `next_retry_at`, so the worker holds no
message in memory waiting for its time.

Idle consumers poll with backoff, from `poll_interval` doubling to `poll_cap`, reset when work
is found, and never sleep past the earliest due time they know of. On Postgres a LISTEN on a
dedicated connection wakes them as soon as a job is committed (`signals.announce`).

Where the parts live: `claims` (claiming under a lease), `outcomes` (deciding and writing a
job's outcome), `consumer` (handing claimed jobs to Dramatiq), `background` (heartbeat,
LISTEN, recurring jobs), `statements` (the SQL), `base` (what they share, and retrying work
after a lost connection); this module puts them together as `JobsBroker`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dramatiq.broker import Broker, Consumer
from dramatiq.errors import ConnectionClosed, QueueJoinTimeout, QueueNotFound
from dramatiq.message import Message
from dramatiq.middleware import (
    CurrentMessage,
    Middleware,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from sqlalchemy import Engine, delete, event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.jobqueue import signals
from mierloos_adapters.jobqueue.background import BackgroundThreads
from mierloos_adapters.jobqueue.base import QueueState, connection_errors
from mierloos_adapters.jobqueue.claims import Claiming
from mierloos_adapters.jobqueue.consumer import JobConsumer
from mierloos_adapters.jobqueue.messages import job_payload
from mierloos_adapters.jobqueue.outcomes import GroupCommit, JobOutcomes, Settling
from mierloos_adapters.jobqueue.statements import PENDING, PROCESSING, Statements
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.outages import Outage
from mierloos_core.model.jobs import RetryPolicy
from mierloos_core.ports import Clock

log = logging.getLogger(__name__)

_jobs = t.jobs


def default_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _no_synchronous_commit(dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET synchronous_commit TO off")
    finally:
        dbapi_connection.autocommit = autocommit


class _Lifecycle(Middleware):
    """The broker's own hooks into the worker: stop claiming as soon as shutdown begins."""

    def __init__(self, broker: JobsBroker) -> None:
        self.jobs_broker = broker

    def before_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        self.jobs_broker.stop_claiming()

    def after_worker_boot(self, broker: Broker, worker: Any) -> None:
        self.jobs_broker.start()


class JobsBroker(Claiming, Settling, BackgroundThreads, Broker):
    """Dramatiq broker over the `jobs` table, for Postgres and SQLite (see the module doc).

    Give it an engine of its own (claims, settles and heartbeats use its pool from the
    consumer, worker and heartbeat threads): worker threads settle messages concurrently, so
    the pool needs about `threads + 3` connections.

    `async_commit` (Postgres) turns `synchronous_commit` off on that engine's connections:
    claims, settles and lease renewals then commit without waiting for the WAL flush. A
    server crash may lose the last fraction of a second of them, which only means jobs run
    again (delivery is at least once anyway); `enqueue` keeps synchronous commits, since a
    message it loses would be gone. Never use it on an engine that business code shares.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: timedelta | None = None,
        poll_cap: timedelta = timedelta(minutes=5),
        worker_id: str | None = None,
        is_retryable: Callable[[BaseException], bool] | None = None,
        on_give_up: Callable[[str, Any, str], None] | None = None,
        middleware: list[Middleware] | None = None,
        listen: bool = True,
        async_commit: bool = False,
    ) -> None:
        self.policy = policy or RetryPolicy()
        super().__init__(middleware=self._with_outcomes(middleware, is_retryable, on_give_up))
        self.add_middleware(_Lifecycle(self))
        if lease <= timedelta(seconds=0.3):
            raise ValueError("a lease must last longer than 0.3 seconds")
        self.engine = engine
        self.dialect = engine.dialect.name
        self.clock = clock or SystemClock()
        self.lease = lease
        self.poll_interval = (poll_interval or self.policy.base).total_seconds()
        self.poll_cap = max(poll_cap.total_seconds(), self.poll_interval)
        self.worker_id = (worker_id or default_worker_id())[:100]
        self.listen = listen and self.dialect == "postgresql"
        self._set_up_commits(engine, async_commit)
        self._set_up_state()
        signals.listen_locally(self)

    def _with_outcomes(
        self,
        middleware: list[Middleware] | None,
        is_retryable: Callable[[BaseException], bool] | None,
        on_give_up: Callable[[str, Any, str], None] | None,
    ) -> list[Middleware]:
        """Dramatiq's usual middleware unless given; `JobOutcomes` added unless retries are
        handled already (by it or by Dramatiq's Retries)."""
        if middleware is None:
            middleware = [TimeLimit(), ShutdownNotifications(), CurrentMessage()]
        if not any(isinstance(m, (Retries, JobOutcomes)) for m in middleware):
            middleware.append(
                JobOutcomes(
                    self.policy,
                    is_retryable=is_retryable or (lambda _error: True),
                    on_give_up=on_give_up,
                )
            )
        return middleware

    def _set_up_commits(self, engine: Engine, async_commit: bool) -> None:
        """Asynchronous commits if asked (Postgres), and the engine for one-statement work."""
        self.async_commit = async_commit and self.dialect == "postgresql"
        if self.async_commit:
            event.listen(engine, "connect", _no_synchronous_commit)
        # Claims and completions are one statement each on Postgres: in autocommit they need
        # no BEGIN and COMMIT round trips. (SQLite claims in two statements, in a transaction.)
        self._one_statement = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql"
            else engine
        )

    def _set_up_state(self) -> None:
        """The queues, the health timestamps, the outage log and the threads' state."""
        self.queues = {}
        self.last_loop_at = time.time()
        self.last_claim_at = time.time()  # the last claim that took at least one job
        self.outage = Outage(log)
        self.listener_connected = False
        self._lock = threading.RLock()
        self._stopping = False
        self._closed = threading.Event()
        self._threads = []
        self._recurring = []
        self._statements = Statements(self.dialect)
        self._completions = GroupCommit(self._complete_batch, self._completions_written)

    # --- Dramatiq's Broker interface -------------------------------------------------------

    def declare_queue(self, queue_name: str) -> None:
        if queue_name in self.queues:
            return
        self.emit_before("declare_queue", queue_name)
        with self._lock:
            self.queues.setdefault(queue_name, QueueState(queue_name))
        self.emit_after("declare_queue", queue_name)

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 30000) -> Consumer:
        state = self.queues.get(queue_name)
        if state is None:
            raise QueueNotFound(queue_name)
        self.start()
        return JobConsumer(self, state, prefetch=max(1, prefetch), timeout_ms=timeout)

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        """Write the message as a job row, or make its row pending again (an upsert on the id).

        A `delay` (milliseconds) becomes `next_retry_at`; the message is never given an eta.
        """
        if message.queue_name not in self.queues:
            raise QueueNotFound(message.queue_name)
        data = job_payload(message)
        job_id = uuid.UUID(str(message.message_id))
        self.emit_before("enqueue", message, delay)
        now = self.clock.now()
        due = now + timedelta(milliseconds=delay) if delay else None
        values = {
            "id": job_id,
            "type": message.actor_name,
            "queue_name": message.queue_name,
            "status": PENDING,
            "priority": int(message.options.get("job_priority", 0)),
            "data": data,
            "execution_count": 0,
            "next_retry_at": due,
            "created_at": now,
            "updated_at": now,
        }
        dml: Any = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = dml(_jobs).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[_jobs.c.id],
            set_={
                "status": PENDING,
                "data": statement.excluded.data,
                "next_retry_at": statement.excluded.next_retry_at,
                "lease_owner": None,
                "lease_expires_at": None,
                "updated_at": statement.excluded.updated_at,
            },
        )
        with connection_errors(), self.engine.begin() as connection:
            if self.async_commit:
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO on")
            connection.execute(statement)
            signals.announce(connection, message.queue_name, due)
        self.emit_after("enqueue", message, delay)
        return message

    def flush(self, queue_name: str) -> None:
        """Delete the queue's pending jobs (the ledger of finished ones stays)."""
        with connection_errors(), self.engine.begin() as connection:
            connection.execute(
                delete(_jobs).where(_jobs.c.queue_name == queue_name, _jobs.c.status == PENDING)
            )

    def flush_all(self) -> None:
        for queue_name in list(self.queues):
            self.flush(queue_name)

    def join(self, queue_name: str, *, timeout: int | None = None, interval: int = 50) -> None:
        """Wait until the queue has no pending or processing job (delayed ones included)."""
        deadline = None if timeout is None else time.monotonic() + timeout / 1000
        count = (
            select(func.count())
            .select_from(_jobs)
            .where(_jobs.c.queue_name == queue_name, _jobs.c.status.in_([PENDING, PROCESSING]))
        )
        while True:
            with connection_errors(), self.engine.connect() as connection:
                if not connection.execute(count).scalar():
                    return
            if deadline is not None and time.monotonic() >= deadline:
                raise QueueJoinTimeout(queue_name)
            time.sleep(interval / 1000)

    def close(self) -> None:
        """Stop the threads and hand back every job in hand that has not finished.

        Called once the worker has stopped: a job still running then outlived the shutdown
        timeout, and is handed back too (see `requeue`)."""
        self.stop_claiming()
        # Completions handed over by the worker threads are written before anything else.
        self._completions.close(timeout=self.lease.total_seconds())
        self._closed.set()
        for state in list(self.queues.values()):
            state.wake.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        waiting = self.unfinished()
        if waiting:
            try:
                self.requeue(waiting, running_too=True)
            except ConnectionClosed:
                log.warning("could not hand back %d jobs; their leases will expire", len(waiting))
        signals.stop_listening_locally(self)

    # --- shutdown --------------------------------------------------------------------------

    def stop_claiming(self) -> None:
        self._stopping = True
        for state in list(self.queues.values()):
            state.wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping


__all__ = ["JobsBroker", "default_worker_id"]
