"""A job's outcome: deciding it after an attempt, and writing it under the job's lease.

`JobOutcomes` replaces Dramatiq's Retries middleware with our RetryPolicy. `Settling` writes
each outcome (completed, retry, failed, handed back) only while the row is still `processing`
under the message's lease, so a job taken over after its lease expired is never completed by
the worker that lost it. Completions from many worker threads are written together by
`GroupCommit`'s writer thread; the worker threads hand them over without waiting.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from dramatiq.broker import Broker, MessageProxy
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Middleware
from sqlalchemy import update

from mierloos_adapters.jobqueue import signals
from mierloos_adapters.jobqueue.base import BrokerBase
from mierloos_adapters.jobqueue.messages import MAX_ERROR_TEXT, JobMessage, describe
from mierloos_adapters.jobqueue.statements import COMPLETED, FAILED, PENDING, PROCESSING
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.jobs import RetryPolicy

log = logging.getLogger(__name__)

_jobs = t.jobs


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


class Settling(BrokerBase):
    """The broker's settles: outcomes written under the lease, and hand-backs."""

    _completions: GroupCommit

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
        if outcome == "completed" and not message.errors_changed:
            try:
                return self._completions.complete(message)
            except ConnectionClosed:
                return False  # logged by `_completions_written`
        deadline = time.monotonic() + 5.0 if outcome == "handed_back" else message.lease_until
        try:
            settled, due = self._attempt(
                f"writing a job's outcome ({outcome})",
                lambda: self._write_outcome(message, outcome),
                deadline=deadline,
            )
        except ConnectionClosed:
            if outcome == "handed_back":
                raise
            self._release(message, None)
            self._warn_unwritten(message, outcome)
            return False
        self._release(message, due)
        if not settled:
            self._warn_lost(message, outcome)
        return settled

    def settle_soon(self, message: JobMessage, outcome: str) -> None:
        """Like `settle`, but a plain completion is only handed to the completions' writer:
        the worker thread does not wait for it. The job stays in hand (its lease held, no
        room freed for claims) until its row is written; a completion that cannot be
        written leaves the job to be taken over once its lease runs out, as with `settle`.
        """
        if outcome == "completed" and not message.errors_changed:
            message.finished = True
            self._completions.submit(message)
        else:
            self.settle(message, outcome)

    def _completions_written(self, batch: list[_Pending]) -> None:
        """After a write of completions: the jobs leave our hands; what was not written, or
        no longer ours, is logged."""
        for pending in batch:
            message = pending.message
            self._release(message, None)
            if isinstance(pending.error, ConnectionClosed):
                self._warn_unwritten(message, "completed")
            elif pending.error is not None:
                log.error(
                    "job %s (%s): writing its completion failed; it will run again when taken over",
                    message.job_id,
                    message.actor_name,
                    exc_info=pending.error,
                    extra={"job_id": str(message.job_id), "job_type": message.actor_name},
                )
            elif not pending.settled:
                self._warn_lost(message, "completed")

    def _write_outcome(self, message: JobMessage, outcome: str) -> tuple[bool, datetime | None]:
        now = self.clock.now()
        values: dict[str, Any] = {"updated_at": now}
        due: datetime | None = None
        if outcome in ("retry", "failed") and message.error:
            message.record_error(message.attempt, now, message.error, self.worker_id)
            values["error_message"] = (message.error_detail or message.error)[:MAX_ERROR_TEXT]
        if message.errors_changed:
            values["errors"] = message.errors
        if outcome == "completed":
            values |= {"status": COMPLETED, "completed_at": now, "lease_expires_at": None}
        elif outcome == "failed":
            values |= {"status": FAILED, "lease_expires_at": None}
        elif outcome == "retry":
            due = now + (message.retry_in or timedelta(0))
            values |= {
                "status": PENDING,
                "next_retry_at": due,
                "lease_owner": None,
                "lease_expires_at": None,
            }
        elif outcome == "handed_back":
            values |= {
                "status": PENDING,
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
                _jobs.c.status == PROCESSING,
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
    def _warn_unwritten(message: JobMessage, outcome: str) -> None:
        log.warning(
            "job %s (%s): %s could not be written before its lease ran out; it will run"
            " again when taken over",
            message.job_id,
            message.actor_name,
            outcome,
            extra={"job_id": str(message.job_id), "job_type": message.actor_name},
        )

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


class _Pending:
    __slots__ = ("done", "error", "message", "settled")

    def __init__(self, message: JobMessage) -> None:
        self.message = message
        self.done = threading.Event()
        self.settled = False
        self.error: BaseException | None = None


class GroupCommit:
    """Completions from many worker threads, written together by one writer thread.

    `submit` hands a completion over and returns at once, so the worker thread goes on to
    its next job; `complete` waits for its own row, as if alone. The writer takes every
    completion waiting when it looks into one write and starts as soon as one waits: none
    is held back to fill a batch. Each written batch goes to `written` (on the writer
    thread), errors included, which releases the jobs from the broker's hands. `close`
    writes what is waiting, then stops the writer; after it, completions are written on
    the caller's thread.
    """

    def __init__(
        self,
        write: Callable[[list[JobMessage]], set[uuid.UUID]],
        written: Callable[[list[_Pending]], None],
    ) -> None:
        self.write = write
        self.written = written
        self.changed = threading.Condition(threading.Lock())
        self.waiting: list[_Pending] = []
        self.writer: threading.Thread | None = None
        self.closed = False

    def submit(self, message: JobMessage) -> _Pending:
        pending = _Pending(message)
        with self.changed:
            inline = self.closed
            if not inline:
                self.waiting.append(pending)
                if self.writer is None:
                    self.writer = threading.Thread(
                        target=self._write_forever, name="jobs-completions", daemon=True
                    )
                    self.writer.start()
                self.changed.notify()
        if inline:
            self._write([pending])
        return pending

    def complete(self, message: JobMessage) -> bool:
        pending = self.submit(message)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.settled

    def close(self, timeout: float) -> None:
        """Write the completions waiting (up to `timeout` seconds), then stop the writer."""
        with self.changed:
            self.closed = True
            self.changed.notify()
            writer = self.writer
        if writer is not None:
            writer.join(timeout)
            if writer.is_alive():
                log.warning("completed jobs not written in time; they will run again")

    def _write_forever(self) -> None:
        while True:
            with self.changed:
                while not self.waiting and not self.closed:
                    self.changed.wait()
                batch, self.waiting = self.waiting, []
                if not batch:
                    return  # closed, and nothing left to write
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            done = self.write([p.message for p in batch])
        except BaseException as error:
            for p in batch:
                p.error = error
        else:
            for p in batch:
                p.settled = p.message.job_id in done
        try:
            self.written(batch)
        except Exception:  # the writer thread must go on; the jobs' leases will run out
            log.exception("releasing written completions failed")
        finally:
            for p in batch:
                p.done.set()
