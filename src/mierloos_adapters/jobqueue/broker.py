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
same job at once, as long as a lease outlives a heartbeat's delay.

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
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from dramatiq.broker import Broker, Consumer, MessageProxy
from dramatiq.errors import ConnectionClosed, QueueJoinTimeout, QueueNotFound
from dramatiq.message import Message
from dramatiq.middleware import (
    CurrentMessage,
    Middleware,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from sqlalchemy import (
    Engine,
    String,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from mierloos_adapters.jobqueue import signals
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.outages import Backoff, Outage, is_connection_lost
from mierloos_adapters.sqlalchemy.repositories import SqlJobQueue
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_adapters.sqlalchemy.unit_of_work import is_contention
from mierloos_core.model.jobs import JobStatus, RetryPolicy
from mierloos_core.ports import Clock

log = logging.getLogger(__name__)

_T = TypeVar("_T")

_jobs = t.jobs
_PENDING = JobStatus.PENDING.value
_PROCESSING = JobStatus.PROCESSING.value
_COMPLETED = JobStatus.COMPLETED.value
_FAILED = JobStatus.FAILED.value

#: Errors kept per job; the oldest go first.
MAX_ERRORS_KEPT = 50
_MAX_ERROR_TEXT = 4000


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- messages ------------------------------------------------------------------------------------


class JobData(dict[str, Any]):
    """A job's data as its handler gets it; its repr hides the content.

    Dramatiq's actors log every call's arguments at DEBUG ("Received args=..."): the data
    holds e-mail addresses and password-reset nonces, which stay out of the logs.
    """

    def __repr__(self) -> str:
        return f"<job data, {len(self)} fields>"


class JobMessage(MessageProxy):
    """A claimed job: the Dramatiq message plus the lease it was claimed under."""

    def __init__(
        self,
        message: Message[Any],
        *,
        job_id: uuid.UUID,
        attempt: int,
        max_attempts: int | None,
        lease_owner: str,
        errors: list[dict[str, Any]],
    ) -> None:
        super().__init__(message)
        # Read on every step of the worker: plain attributes spare MessageProxy.__getattr__.
        self.queue_name = message.queue_name
        self.actor_name = message.actor_name
        self.message_id = message.message_id
        self.options = message.options
        self.args = message.args
        self.kwargs = message.kwargs
        self.job_id = job_id
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.lease_owner = lease_owner
        self.errors = errors
        self.errors_changed = False
        self.started = False
        self.finished = False  # the actor has returned: nothing left but writing the outcome
        self.lease_until = 0.0  # time.monotonic() when the last lease written runs out
        self.error: str | None = None
        self.error_detail: str | None = None
        self.retry_in: timedelta | None = None
        self.gave_up = False

    @property
    def data(self) -> Any:
        return self._message.args[0] if self._message.args else {}

    # Dramatiq logs messages with %s ("Failed to process message ..."): the payload holds
    # e-mail addresses and reset nonces, so a job shows only as its type and id.
    def __str__(self) -> str:
        return f"{self.actor_name}({self.job_id})"

    def __repr__(self) -> str:
        return f"<JobMessage {self}>"

    def stuff_exception(self, exception: BaseException) -> None:
        super().stuff_exception(exception)
        if self.error is None:
            self.error = describe(exception)

    def record_error(self, attempt: int, at: datetime, error: str, worker: str | None) -> None:
        entry: dict[str, Any] = {
            "attempt": attempt,
            "at": at.isoformat(),
            "error": error[:_MAX_ERROR_TEXT],
            "worker": worker,
        }
        self.errors = [*self.errors, entry][-MAX_ERRORS_KEPT:]
        self.errors_changed = True


def job_payload(message: Message[Any]) -> dict[str, Any]:
    """The `data` of the job a message stands for: its one argument, a JSON object."""
    if message.kwargs or len(message.args) != 1 or not isinstance(message.args[0], Mapping):
        raise ValueError("a job message carries exactly one argument, a dict (the job's data)")
    return dict(message.args[0])


# --- middleware ----------------------------------------------------------------------------------


class JobOutcomes(Middleware):
    """Decides what a failed attempt leads to, with our RetryPolicy (replaces Retries).

    Deterministic, no jitter: after the n-th failed attempt of a job, if n is below its
    `max_attempts` (the row's, else ``policy.max_attempts``) and the error is retryable, the
    job is pending again and due at ``now + policy.delay_after(n)``, that is
    ``min(base * 2**(n-1), cap)``; otherwise it is `failed` and the give-up hook is told.
    The broker writes the decision when the worker settles the message.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        is_retryable: Callable[[BaseException], bool] = lambda _error: True,
        on_give_up: Callable[[str, Any, str], None] | None = None,
    ) -> None:
        self.policy = policy
        self.is_retryable = is_retryable
        self.on_give_up = on_give_up

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        if isinstance(message, JobMessage):
            message.started = True

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not isinstance(message, JobMessage):
            return
        message.error = describe(exception)
        message.error_detail = "".join(traceback.format_exception(exception, limit=20))
        limit = message.max_attempts or self.policy.max_attempts
        if not self.is_retryable(exception) or message.attempt >= limit:
            message.fail()
            message.gave_up = True
            return
        message.retry_in = self.policy.delay_after(message.attempt)

    def after_nack(self, broker: Broker, message: MessageProxy) -> None:
        if self.on_give_up is None or not isinstance(message, JobMessage):
            return
        self.on_give_up(message.actor_name, message.data, message.error or "failed")


class _Lifecycle(Middleware):
    """The broker's own hooks into the worker: stop claiming as soon as shutdown begins."""

    def __init__(self, broker: JobsBroker) -> None:
        self.jobs_broker = broker

    def before_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        self.jobs_broker.stop_claiming()

    def after_worker_boot(self, broker: Broker, worker: Any) -> None:
        self.jobs_broker.start()


# --- the broker ----------------------------------------------------------------------------------


class _QueueState:
    def __init__(self, name: str) -> None:
        self.name = name
        self.wake = threading.Event()
        self.ready = False  # a job was announced as due now
        self.due: float | None = None  # earliest announced future due time (epoch seconds)
        self.in_hand: dict[str, JobMessage] = {}
        # Set by a consumer with too little room to claim: the in-hand count that wakes it.
        self.wake_below: int | None = None
        # A claim failed on a lost connection: it may have taken rows that are not in hand.
        self.orphans_possible = False


@contextlib.contextmanager
def _connection_errors() -> Iterator[None]:
    """Lost or refused database connections become Dramatiq's connection errors."""
    try:
        yield
    except ConnectionClosed:
        raise
    except DBAPIError as error:
        if is_connection_lost(error) or is_contention(error):
            raise ConnectionClosed(error) from error
        raise
    except Exception as error:
        if is_connection_lost(error):
            raise ConnectionClosed(error) from error
        raise


def _no_synchronous_commit(dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET synchronous_commit TO off")
    finally:
        dbapi_connection.autocommit = autocommit


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class JobsBroker(Broker):
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
        super().__init__(middleware=middleware)
        self.add_middleware(_Lifecycle(self))
        if lease <= timedelta(seconds=0.3):
            raise ValueError("a lease must last longer than 0.3 seconds")
        self.engine = engine
        self.dialect = engine.dialect.name
        self.clock: Clock = clock or _SystemClock()
        self.lease = lease
        self.poll_interval = (poll_interval or self.policy.base).total_seconds()
        self.poll_cap = max(poll_cap.total_seconds(), self.poll_interval)
        self.worker_id = (worker_id or default_worker_id())[:100]
        self.listen = listen and self.dialect == "postgresql"
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
        self.queues: dict[str, _QueueState] = {}
        self.last_loop_at = time.time()
        self.last_claim_at = time.time()  # the last claim that took at least one job
        self.outage = Outage(log)
        self.listener_connected = False
        self._lock = threading.RLock()
        self._stopping = False
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._recurring: list[tuple[str, timedelta, dict[str, Any], str]] = []
        self._statements = _Statements(self.dialect)
        self._completions = _GroupCommit(self._complete_batch)
        signals.listen_locally(self)

    # --- Dramatiq's Broker interface -------------------------------------------------------

    def declare_queue(self, queue_name: str) -> None:
        if queue_name in self.queues:
            return
        self.emit_before("declare_queue", queue_name)
        with self._lock:
            self.queues.setdefault(queue_name, _QueueState(queue_name))
        self.emit_after("declare_queue", queue_name)

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 30000) -> Consumer:
        state = self.queues.get(queue_name)
        if state is None:
            raise QueueNotFound(queue_name)
        self.start()
        return _JobConsumer(self, state, prefetch=max(1, prefetch), timeout_ms=timeout)

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
            "status": _PENDING,
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
                "status": _PENDING,
                "data": statement.excluded.data,
                "next_retry_at": statement.excluded.next_retry_at,
                "lease_owner": None,
                "lease_expires_at": None,
                "updated_at": statement.excluded.updated_at,
            },
        )
        with _connection_errors(), self.engine.begin() as connection:
            if self.async_commit:
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO on")
            connection.execute(statement)
            signals.announce(connection, message.queue_name, due)
        self.emit_after("enqueue", message, delay)
        return message

    def flush(self, queue_name: str) -> None:
        """Delete the queue's pending jobs (the ledger of finished ones stays)."""
        with _connection_errors(), self.engine.begin() as connection:
            connection.execute(
                delete(_jobs).where(_jobs.c.queue_name == queue_name, _jobs.c.status == _PENDING)
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
            .where(_jobs.c.queue_name == queue_name, _jobs.c.status.in_([_PENDING, _PROCESSING]))
        )
        while True:
            with _connection_errors(), self.engine.connect() as connection:
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

    # --- scheduling, wake-ups, lifecycle ---------------------------------------------------

    def schedule(
        self,
        job_type: str,
        every: timedelta,
        data: Mapping[str, Any] | None = None,
        *,
        queue_name: str = "default",
    ) -> None:
        """Enqueue `job_type` once per period of `every` (aligned on the Unix epoch).

        Every worker process tries; the dedupe key `{type}@{period start}` lets one job per
        period through however many run.
        """
        if every < timedelta(seconds=1):
            raise ValueError("recurring jobs run at most once a second")
        self._recurring.append((str(job_type), every, dict(data or {}), queue_name))

    def wake(self, queue_name: str, due: float | None) -> None:
        state = self.queues.get(queue_name)
        if state is None:
            return
        with self._lock:
            if due is None or due <= time.time():
                state.ready = True
            else:
                state.due = due if state.due is None else min(state.due, due)
        state.wake.set()

    def wake_all(self) -> None:
        for name in list(self.queues):
            self.wake(name, None)

    def stop_claiming(self) -> None:
        self._stopping = True
        for state in list(self.queues.values()):
            state.wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        """Start the heartbeat, the LISTEN thread and the scheduler (once)."""
        with self._lock:
            if self._threads or self._closed.is_set():
                return
            targets: list[tuple[str, Callable[[], None]]] = [("heartbeat", self._heartbeat_loop)]
            if self.listen:
                targets.append(("listener", self._listen_loop))
            if self._recurring:
                targets.append(("scheduler", self._schedule_loop))
            for name, target in targets:
                thread = threading.Thread(target=target, name=f"jobs-{name}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def in_hand(self, queue_name: str | None = None) -> list[JobMessage]:
        with self._lock:
            states = [self.queues[queue_name]] if queue_name else list(self.queues.values())
            return [m for s in states for m in s.in_hand.values()]

    def unfinished(self) -> list[JobMessage]:
        """Jobs in hand whose actor has not returned yet (waiting or running)."""
        return [m for m in self.in_hand() if not m.finished]

    # --- database work ---------------------------------------------------------------------

    def _attempt(self, what: str, work: Callable[[], _T], *, deadline: float | None = None) -> _T:
        """Run database `work`; on a lost connection try again, with backoff, on a fresh one.

        Tries until `deadline` (a time.monotonic() value), or once when it is None; then
        raises ConnectionClosed. Outages are logged once, through `self.outage`.
        """
        backoff = Backoff()
        while True:
            try:
                with _connection_errors():
                    result = work()
            except ConnectionClosed as error:
                self.outage.failed(what, error.__cause__ or error)
                pause = backoff.delay()
                if deadline is None or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                continue
            self.outage.recovered()
            return result

    def claim(self, state: _QueueState, limit: int) -> tuple[list[JobMessage], float | None]:
        """Take up to `limit` runnable jobs; also the earliest due time of the rest (epoch)."""
        now = self.clock.now()
        params = {
            "queue": state.name,
            "now": now,
            "owner": self.worker_id,
            "expires": now + self.lease,
        }
        try:
            rows, next_due = self._attempt(
                "a claim", lambda: self._claim_rows(state, limit, params)
            )
        except ConnectionClosed:
            state.orphans_possible = True
            raise
        messages = [self._message(row, now) for row in rows]
        messages.sort(key=lambda m: (-m.options["job_priority"], m.options["job_due"]))
        with self._lock:
            for message in messages:
                state.in_hand[message.message_id] = message
        if messages:
            self.last_claim_at = time.time()
        return messages, next_due

    def _claim_rows(
        self, state: _QueueState, limit: int, params: dict[str, Any]
    ) -> tuple[list[Any], float | None]:
        s = self._statements
        postgres = self.dialect == "postgresql"
        with self._one_statement.connect() if postgres else self.engine.begin() as connection:
            if state.orphans_possible:
                self._hand_back_orphans(connection, state, params)
            if postgres:
                rows = connection.execute(s.claim_pg(limit), params).all()
            else:
                picked = connection.execute(s.pick(limit), params).all()
                previous = {row.id: row for row in picked}
                rows = []
                if picked:
                    claimed = connection.execute(
                        s.take_sqlite, {**params, "ids": list(previous)}
                    ).all()
                    rows = [
                        _WithPrevious(row, previous[row.id].status, previous[row.id].lease_owner)
                        for row in claimed
                    ]
            next_due = None
            if len(rows) < limit:
                found = connection.execute(s.next_due, params).scalar()
                next_due = _utc(found).timestamp() if found is not None else None
        return rows, next_due

    def _hand_back_orphans(
        self, connection: Any, state: _QueueState, params: dict[str, Any]
    ) -> None:
        """Rows of this queue claimed by this worker but not in hand: pending again.

        Only after a claim failed on a lost connection: it may have been committed with its
        answer lost. The consumer thread is the only one claiming on this queue here, so no
        claim is in flight meanwhile.
        """
        with self._lock:
            held = [m.job_id for m in state.in_hand.values()]
        result = connection.execute(self._statements.orphans, {**params, "held": held})
        state.orphans_possible = False
        if result.rowcount:
            log.warning(
                "handed back %d jobs whose claim was cut off before it reached this worker",
                result.rowcount,
            )

    def _message(self, row: Any, now: datetime) -> JobMessage:
        due = _utc(row.next_retry_at or row.created_at)
        message = Message(
            queue_name=row.queue_name,
            actor_name=row.type,
            args=(JobData(row.data) if isinstance(row.data, dict) else row.data,),
            kwargs={},
            options={
                "job_attempt": row.execution_count,
                "job_priority": row.priority,
                "job_due": due.timestamp(),
            },
            message_id=str(row.id),
            message_timestamp=int(_utc(row.created_at).timestamp() * 1000),
        )
        proxy = JobMessage(
            message,
            job_id=row.id if isinstance(row.id, uuid.UUID) else uuid.UUID(str(row.id)),
            attempt=row.execution_count,
            max_attempts=row.max_attempts,
            lease_owner=self.worker_id,
            errors=list(row.errors or []),
        )
        proxy.lease_until = time.monotonic() + self.lease.total_seconds()
        if row.previous_status == _PROCESSING:
            lost = f"lease expired: worker {row.previous_owner} stopped renewing it"
            proxy.record_error(row.execution_count - 1, now, lost, row.previous_owner)
            log.warning(
                "job %s taken over from %s",
                row.id,
                row.previous_owner,
                extra={"job_id": str(row.id), "job_type": row.type},
            )
        limit = row.max_attempts or self.policy.max_attempts
        if row.execution_count > limit:
            # Only lost attempts get here (failures stop at the limit): a job that keeps
            # killing its workers is failed instead of run again.
            proxy.error = f"gave up: {row.execution_count - 1} attempts were lost or failed"
            proxy.gave_up = True
            proxy.fail()
        return proxy

    def settle(self, message: JobMessage, outcome: str) -> bool:
        """Write an outcome (completed, retry, failed, handed back) under the message's lease.

        False when the job is no longer ours: its lease expired and another worker took it,
        or it was settled already. A lost connection is retried until the message's lease runs
        out; then the outcome is given up (False, with a WARNING) and the job will run again
        once it is taken over. Hand-backs (`requeue`) get a few seconds, then raise
        ConnectionClosed.
        """
        if outcome != "handed_back":
            message.finished = True  # from now on the heartbeat leaves its lease alone
        deadline = time.monotonic() + 5.0 if outcome == "handed_back" else message.lease_until
        try:
            if outcome == "completed" and not message.errors_changed:
                settled = self._completions.complete(message)
            else:
                settled, due = self._attempt(
                    f"writing a job's outcome ({outcome})",
                    lambda: self._write_outcome(message, outcome),
                    deadline=deadline,
                )
                self._release(message, due)
        except ConnectionClosed:
            if outcome == "handed_back":
                raise
            self._release(message, None)
            log.warning(
                "job %s (%s): %s could not be written before its lease ran out; it will run"
                " again when taken over",
                message.job_id,
                message.actor_name,
                outcome,
                extra={"job_id": str(message.job_id), "job_type": message.actor_name},
            )
            return False
        if outcome == "completed" and not message.errors_changed:
            self._release(message, None)
        if not settled:
            self._warn_lost(message, outcome)
        return settled

    def _write_outcome(self, message: JobMessage, outcome: str) -> tuple[bool, datetime | None]:
        now = self.clock.now()
        values: dict[str, Any] = {"updated_at": now}
        due: datetime | None = None
        if outcome in ("retry", "failed") and message.error:
            message.record_error(message.attempt, now, message.error, self.worker_id)
            values["error_message"] = (message.error_detail or message.error)[:_MAX_ERROR_TEXT]
        if message.errors_changed:
            values["errors"] = message.errors
        if outcome == "completed":
            values |= {"status": _COMPLETED, "completed_at": now, "lease_expires_at": None}
        elif outcome == "failed":
            values |= {"status": _FAILED, "lease_expires_at": None}
        elif outcome == "retry":
            due = now + (message.retry_in or timedelta(0))
            values |= {
                "status": _PENDING,
                "next_retry_at": due,
                "lease_owner": None,
                "lease_expires_at": None,
            }
        elif outcome == "handed_back":
            values |= {
                "status": _PENDING,
                "lease_owner": None,
                "lease_expires_at": None,
                "execution_count": _jobs.c.execution_count - 1,
            }
        else:  # pragma: no cover - a programming error
            raise ValueError(outcome)
        statement = (
            update(_jobs)
            .where(
                _jobs.c.id == message.job_id,
                _jobs.c.status == _PROCESSING,
                _jobs.c.lease_owner == message.lease_owner,
                _jobs.c.execution_count == message.attempt,
            )
            .values(**values)
        )
        with self.engine.begin() as connection:
            settled = connection.execute(statement).rowcount == 1
            if settled and outcome in ("retry", "handed_back"):
                signals.announce(connection, message.queue_name, due)
        return settled, due

    def _complete_batch(self, messages: list[JobMessage]) -> set[uuid.UUID]:
        """Complete jobs in one statement (the group commit of acks); the ids completed.

        A lost connection is retried until the last of their leases would run out."""
        deadline = max(m.lease_until for m in messages)
        return self._attempt(
            "writing completed jobs",
            lambda: self._complete_rows(messages),
            deadline=deadline,
        )

    def _complete_rows(self, messages: list[JobMessage]) -> set[uuid.UUID]:
        now = self.clock.now()
        by_owner: dict[str, list[tuple[uuid.UUID, int]]] = {}
        for message in messages:
            by_owner.setdefault(message.lease_owner, []).append((message.job_id, message.attempt))
        done: set[uuid.UUID] = set()
        # Each owner's UPDATE stands alone, so autocommit (Postgres) is as safe as a transaction.
        with self._one_statement.begin() as connection:
            for owner, keys in by_owner.items():
                result = connection.execute(
                    self._statements.complete, {"keys": keys, "owner": owner, "now": now}
                )
                done.update(result.scalars())
        return done

    def _release(self, message: JobMessage, due: datetime | None) -> None:
        state = self.queues.get(message.queue_name)
        if state is None:
            return
        with self._lock:
            state.in_hand.pop(message.message_id, None)
            wake = state.wake_below is not None and len(state.in_hand) <= state.wake_below
            if due is not None:
                epoch = due.timestamp()
                state.due = epoch if state.due is None else min(state.due, epoch)
                wake = True
        if wake:
            state.wake.set()  # room for another claim, or a new due time

    @staticmethod
    def _warn_lost(message: JobMessage, outcome: str) -> None:
        log.warning(
            "job %s (%s) was no longer held by this worker: %s not recorded",
            message.job_id,
            message.actor_name,
            outcome,
            extra={"job_id": str(message.job_id), "job_type": message.actor_name},
        )

    def requeue(self, messages: Iterable[JobMessage], *, running_too: bool = False) -> None:
        """Hand back jobs: pending again, lease released, attempt undone.

        A started job is left alone (it may still be running; its lease runs out instead),
        unless `running_too`: at shutdown, a job still running when the timeout ends is handed
        back at once, with a WARNING naming it, rather than left for its lease to expire.
        """
        for message in messages:
            if message.finished:
                continue
            if message.started:
                if not running_too:
                    log.warning(
                        "job %s is running; not handed back",
                        message.job_id,
                        extra={"job_id": str(message.job_id), "job_type": message.actor_name},
                    )
                    continue
                log.warning(
                    "job %s (%s) still running when the shutdown timeout ended: handed back,"
                    " it will run again",
                    message.job_id,
                    message.actor_name,
                    extra={"job_id": str(message.job_id), "job_type": message.actor_name},
                )
            self.settle(message, "handed_back")

    def renew_leases(self) -> int:
        """Push forward the leases of the jobs in hand that have not finished running.

        A finished job waiting for its outcome to be written is left out: if the outcome
        cannot be written, its lease runs out and another worker takes the job over, rather
        than the job being held for ever. The number of rows renewed."""
        held = self.unfinished()
        if not held:
            return 0
        now = self.clock.now()
        until = time.monotonic() + self.lease.total_seconds()
        ids = [m.job_id for m in held]

        def renew() -> int:
            with self.engine.begin() as connection:
                result = connection.execute(
                    self._statements.renew,
                    {"ids": ids, "owner": self.worker_id, "expires": now + self.lease, "now": now},
                )
                return int(result.rowcount)

        renewed = self._attempt("renewing leases", renew)
        for message in held:
            message.lease_until = until
        return renewed

    def enqueue_recurring(self, now: datetime | None = None) -> list[uuid.UUID]:
        """Enqueue the current period's recurring jobs (deduplicated across workers)."""
        now = now or self.clock.now()
        ids = []
        for job_type, every, data, queue_name in self._recurring:
            period = every.total_seconds()
            start = datetime.fromtimestamp((now.timestamp() // period) * period, UTC)
            key = f"{job_type}@{start.isoformat()}"
            with _connection_errors(), self.engine.begin() as connection:
                queue = SqlJobQueue(connection, self.clock)
                queue.queue_name = queue_name
                ids.append(queue.enqueue(job_type, data, run_at=start, dedupe_key=key))
        return ids

    # --- background threads ------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        interval = self.lease.total_seconds() / 3
        backoff = Backoff(cap=min(2.0, interval))
        wait = interval
        while not self._closed.wait(wait):
            try:
                self.renew_leases()
                backoff.reset()
                wait = interval
            except ConnectionClosed:
                wait = backoff.delay()  # logged once by the outage; try again soon
            except Exception:
                log.exception("renewing job leases failed; will try again")
                wait = interval

    def _schedule_loop(self) -> None:
        done: set[str] = set()
        while not self._closed.is_set():
            now = self.clock.now()
            wait = 60.0
            for job_type, every, _data, _queue in self._recurring:
                period = every.total_seconds()
                start = (now.timestamp() // period) * period
                wait = min(wait, start + period - now.timestamp())
                key = f"{job_type}@{start}"
                if key in done or self._stopping:
                    continue
                try:
                    self.enqueue_recurring(now)
                    done.add(key)
                except ConnectionClosed as error:
                    self.outage.failed("scheduling recurring jobs", error.__cause__ or error)
                    wait = min(wait, 5.0)
                except Exception:
                    log.exception("scheduling %s failed; will try again", job_type)
                    wait = min(wait, 5.0)
            self._closed.wait(max(wait, 0.01) + 0.005)

    def _listen_loop(self) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        backoff = Backoff(first=0.1, cap=2.0)
        while not self._closed.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {signals.CHANNEL}")
                    self.listener_connected = True
                    self.outage.recovered()
                    backoff.reset()
                    self.wake_all()  # whatever was announced while we were not listening
                    while not self._closed.is_set():
                        for notice in conn.notifies(timeout=1.0):
                            queue_name, due = signals.parse(notice.payload)
                            self.wake(queue_name, due)
                            if self._closed.is_set():
                                break
            except Exception as error:
                self.listener_connected = False
                if self._closed.is_set():
                    break
                if is_connection_lost(error):
                    self.outage.failed("LISTEN", error)
                else:
                    log.exception("LISTEN failed; reconnecting")
                # Meanwhile consumers poll, so no job waits for the listener.
                self.wake_all()
                self._closed.wait(backoff.delay())
        self.listener_connected = False


class _Pending:
    __slots__ = ("done", "error", "message", "settled")

    def __init__(self, message: JobMessage) -> None:
        self.message = message
        self.done = threading.Event()
        self.settled = False
        self.error: BaseException | None = None


class _GroupCommit:
    """Acks from many worker threads written together, each caller still waiting for its own.

    The first thread to arrive writes every ack waiting at that moment in one transaction;
    threads arriving meanwhile queue up for the next write, done by the same thread. An ack
    returns only once its row is written (or raises the write's error), as if alone.
    """

    def __init__(self, write: Callable[[list[JobMessage]], set[uuid.UUID]]) -> None:
        self.write = write
        self.lock = threading.Lock()
        self.waiting: list[_Pending] = []
        self.writing = False

    def complete(self, message: JobMessage) -> bool:
        pending = _Pending(message)
        with self.lock:
            self.waiting.append(pending)
            lead = not self.writing
            self.writing = True
        if lead:
            self._drain()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.settled

    def _drain(self) -> None:
        while True:
            with self.lock:
                batch, self.waiting = self.waiting, []
                if not batch:
                    self.writing = False
                    return
            try:
                done = self.write([p.message for p in batch])
            except BaseException as error:
                for p in batch:
                    p.error = error
            else:
                for p in batch:
                    p.settled = p.message.job_id in done
            for p in batch:
                p.done.set()


class _WithPrevious:
    """A claimed row (SQLite) with the status and owner it had before the claim."""

    def __init__(self, row: Any, previous_status: str, previous_owner: str | None) -> None:
        self._row = row
        self.previous_status = previous_status
        self.previous_owner = previous_owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


class _Statements:
    """The broker's SQL, built once (SQLAlchemy caches their compiled forms)."""

    def __init__(self, dialect: str) -> None:
        j = _jobs
        now = bindparam("now", type_=UtcDateTime)
        self.due = func.coalesce(j.c.next_retry_at, j.c.created_at)
        self.claimable = and_(
            j.c.queue_name == bindparam("queue", type_=String),
            or_(
                and_(
                    j.c.status == _PENDING,
                    or_(j.c.next_retry_at.is_(None), j.c.next_retry_at <= now),
                ),
                and_(j.c.status == _PROCESSING, j.c.lease_expires_at < now),
            ),
        )
        self.claim_values = {
            "status": _PROCESSING,
            "execution_count": j.c.execution_count + 1,
            "lease_owner": bindparam("owner", type_=String),
            "lease_expires_at": bindparam("expires", type_=UtcDateTime),
            "updated_at": bindparam("now", type_=UtcDateTime),
        }
        self.returned = (
            j.c.id,
            j.c.type,
            j.c.queue_name,
            j.c.priority,
            j.c.data,
            j.c.execution_count,
            j.c.max_attempts,
            j.c.next_retry_at,
            j.c.created_at,
            j.c.errors,
        )
        self.take_sqlite = (
            update(j)
            .where(j.c.id.in_(bindparam("ids", expanding=True)))
            .values(**self.claim_values)
            .returning(*self.returned)
        )
        self.next_due = select(
            func.min(
                # Pending jobs become runnable when due; others' jobs when their lease ends.
                case((j.c.status == _PENDING, self.due), else_=j.c.lease_expires_at)
            ).label("next_due")
        ).where(
            j.c.queue_name == bindparam("queue", type_=String),
            or_(
                j.c.status == _PENDING,
                and_(j.c.status == _PROCESSING, j.c.lease_owner != bindparam("owner")),
            ),
        )
        self.complete = (
            update(j)
            .where(
                tuple_(j.c.id, j.c.execution_count).in_(bindparam("keys", expanding=True)),
                j.c.status == _PROCESSING,
                j.c.lease_owner == bindparam("owner", type_=String),
            )
            .values(
                status=_COMPLETED,
                completed_at=bindparam("now", type_=UtcDateTime),
                updated_at=bindparam("now", type_=UtcDateTime),
                lease_expires_at=None,
            )
            .returning(j.c.id)
        )
        self.renew = (
            update(j)
            .where(
                j.c.id.in_(bindparam("ids", expanding=True)),
                j.c.lease_owner == bindparam("owner", type_=String),
                j.c.status == _PROCESSING,
            )
            .values(
                lease_expires_at=bindparam("expires", type_=UtcDateTime),
                updated_at=bindparam("now", type_=UtcDateTime),
            )
        )
        self.orphans = (
            update(j)
            .where(
                j.c.queue_name == bindparam("queue", type_=String),
                j.c.status == _PROCESSING,
                j.c.lease_owner == bindparam("owner", type_=String),
                j.c.id.not_in(bindparam("held", expanding=True)),
            )
            .values(
                status=_PENDING,
                lease_owner=None,
                lease_expires_at=None,
                execution_count=j.c.execution_count - 1,
                updated_at=bindparam("now", type_=UtcDateTime),
            )
        )
        self._claims_pg: dict[int, Any] = {}
        self._picks: dict[int, Any] = {}

    def pick(self, limit: int) -> Any:
        statement = self._picks.get(limit)
        if statement is None:
            j = _jobs
            statement = (
                select(j.c.id, j.c.status, j.c.lease_owner)
                .where(self.claimable)
                .order_by(j.c.priority.desc(), self.due)
                .limit(limit)
            )
            self._picks[limit] = statement
        return statement

    def claim_pg(self, limit: int) -> Any:
        statement = self._claims_pg.get(limit)
        if statement is None:
            j = _jobs
            picked = (
                select(
                    j.c.id,
                    j.c.status.label("previous_status"),
                    j.c.lease_owner.label("previous_owner"),
                )
                .where(self.claimable)
                .order_by(j.c.priority.desc(), self.due)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            statement = (
                update(j)
                .where(j.c.id == picked.c.id)
                .values(**self.claim_values)
                .returning(*self.returned, picked.c.previous_status, picked.c.previous_owner)
            )
            self._claims_pg[limit] = statement
        return statement


class _JobConsumer(Consumer):
    """Hands out claimed jobs, one at a time, to Dramatiq's consumer thread.

    It claims again when at least a quarter of `prefetch` is free (so a busy worker claims in
    batches, not once per job), polls an idle queue with backoff, and wakes early when a job
    is announced, when a known due time arrives, or when settled jobs free room.
    """

    def __init__(
        self, broker: JobsBroker, state: _QueueState, *, prefetch: int, timeout_ms: int
    ) -> None:
        self.broker = broker
        self.state = state
        self.prefetch = prefetch
        self.low_water = max(1, prefetch // 2)
        self.timeout = timeout_ms / 1000
        self.buffer: deque[JobMessage] = deque()
        self.idle_delay = broker.poll_interval
        self.next_poll = 0.0
        self.full = False
        self.closed = False
        self.retry = Backoff(first=0.05, cap=2.0)

    def __next__(self) -> MessageProxy | None:
        broker, state = self.broker, self.state
        deadline = time.monotonic() + self.timeout
        while True:
            broker.last_loop_at = time.time()
            if broker.stopping or self.closed:
                # Shutting down: hand nothing more to the worker; close() gives jobs back.
                state.wake.wait(max(0.0, min(deadline - time.monotonic(), 0.1)))
                return None
            if self.buffer:
                return self.buffer.popleft()
            now = time.monotonic()
            with broker._lock:
                room = self.prefetch - len(state.in_hand)
                if state.ready:
                    state.ready = False
                    self.next_poll = now
                if state.due is not None:
                    self.next_poll = min(self.next_poll, now + state.due - time.time() + 0.001)
                    state.due = None
            if self.full and room >= self.low_water:
                self.full = False
                state.wake_below = None
                self.next_poll = now
            if now >= self.next_poll:
                if room >= self.low_water:
                    try:
                        claimed, next_due = broker.claim(state, room)
                    except ConnectionClosed:
                        # Logged once by the broker's outage; the consumer stays and retries.
                        self.next_poll = time.monotonic() + self.retry.delay()
                        continue
                    self.retry.reset()
                    if claimed:
                        self.buffer.extend(claimed)
                        self.idle_delay = broker.poll_interval
                        self.next_poll = time.monotonic()
                        continue
                    wait = self.idle_delay
                    # Without LISTEN (or while it reconnects) only polling finds new jobs.
                    listening = broker.listener_connected or not broker.listen
                    cap = broker.poll_cap if listening else broker.poll_interval
                    self.idle_delay = min(self.idle_delay * 2, cap)
                    if next_due is not None:
                        # Never sleep past a known due time (retries, delayed jobs, leases).
                        # One already past belongs to rows another claim holds locked.
                        until = next_due - time.time()
                        wait = min(wait, until + 0.001 if until > 0 else 0.05)
                    self.next_poll = time.monotonic() + wait
                else:
                    # Enough in hand: settled jobs wake us; look again now and then anyway.
                    self.full = True
                    with broker._lock:
                        state.wake_below = self.prefetch - self.low_water
                        if len(state.in_hand) <= state.wake_below:
                            continue  # room freed meanwhile
                    self.next_poll = now + broker.poll_interval
            remaining = min(deadline, self.next_poll) - time.monotonic()
            if remaining > 0 and state.wake.wait(remaining):
                # Every reason to wake is in the state folded above, so clearing is safe.
                state.wake.clear()
                continue
            if time.monotonic() >= deadline:
                return None

    def ack(self, message: MessageProxy) -> None:
        if not isinstance(message, JobMessage):
            raise TypeError("not a message of this broker")
        self.broker.settle(message, "retry" if message.retry_in is not None else "completed")

    def nack(self, message: MessageProxy) -> None:
        if not isinstance(message, JobMessage):
            raise TypeError("not a message of this broker")
        self.broker.settle(message, "failed")

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        self.broker.requeue([m for m in messages if isinstance(m, JobMessage)])

    def close(self) -> None:
        self.closed = True
        waiting, self.buffer = list(self.buffer), deque()
        if waiting:
            self.broker.requeue(waiting)


__all__ = ["JobMessage", "JobOutcomes", "JobsBroker", "describe", "job_payload"]
