"""Claiming jobs: taking runnable rows under a lease and turning them into messages.

A claim takes up to `limit` jobs in one statement on Postgres (``FOR UPDATE SKIP LOCKED``)
and in two inside ``BEGIN IMMEDIATE`` on SQLite. A job taken over from a worker whose lease
ran out gets that lost attempt written to its `errors`; one that keeps killing its workers
is failed rather than run again. A claim cut off by a lost connection may have taken rows
nobody holds: the next claim on that queue hands them back.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

from mierloos_adapters.jobqueue.base import BrokerBase, QueueState
from mierloos_adapters.jobqueue.messages import JobData, JobMessage
from mierloos_adapters.jobqueue.statements import PROCESSING

log = logging.getLogger(__name__)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class _WithPrevious:
    """A claimed row (SQLite) with the status and owner it had before the claim."""

    def __init__(self, row: Any, previous_status: str, previous_owner: str | None) -> None:
        self._row = row
        self.previous_status = previous_status
        self.previous_owner = previous_owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


class Claiming(BrokerBase):
    """The broker's claims: rows of a queue taken under this worker's lease, put in hand."""

    def claim(self, state: QueueState, limit: int) -> tuple[list[JobMessage], float | None]:
        """Take up to `limit` runnable jobs; when it took none, also the earliest time (epoch)
        one becomes runnable, if any will."""
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
        self, state: QueueState, limit: int, params: dict[str, Any]
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
            if not rows:
                # Only when nothing was taken: a claim that took jobs hands them out at once,
                # and the consumer claims again right after, which finds the due time then.
                found = connection.execute(s.next_due, params).scalar()
                next_due = _utc(found).timestamp() if found is not None else None
        return rows, next_due

    def _hand_back_orphans(
        self, connection: Any, state: QueueState, params: dict[str, Any]
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
        if row.previous_status == PROCESSING:
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
