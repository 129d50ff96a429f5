"""The broker's SQL over the `jobs` table, built once (SQLAlchemy caches their compiled forms).

Claims (Postgres: one UPDATE over a ``FOR UPDATE SKIP LOCKED`` pick; SQLite: a pick, then an
UPDATE), the earliest due time, grouped completions, lease renewals and the hand-back of
orphaned claims. Outcomes other than completion are written by `outcomes.Settling` itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, bindparam, case, func, or_, select, tuple_, update
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_core.model.jobs import JobStatus

_jobs = t.jobs
PENDING = JobStatus.PENDING.value
PROCESSING = JobStatus.PROCESSING.value
COMPLETED = JobStatus.COMPLETED.value
FAILED = JobStatus.FAILED.value


class Statements:
    """The broker's SQL, built once (SQLAlchemy caches their compiled forms)."""

    def __init__(self, dialect: str) -> None:
        j = _jobs
        now = bindparam("now", type_=UtcDateTime)
        self.due = func.coalesce(j.c.next_retry_at, j.c.created_at)
        self.claimable = _claimable(now)
        self.claim_values = {
            "status": PROCESSING,
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
        self.next_due = _next_due(self.due)
        self.complete = _complete()
        self.renew = _renew()
        self.orphans = _orphans()
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


def _claimable(now: BindParameter[Any]) -> ColumnElement[bool]:
    """Jobs of the queue a claim may take: pending and due, or processing with a lapsed lease."""
    j = _jobs
    return and_(
        j.c.queue_name == bindparam("queue", type_=String),
        or_(
            and_(
                j.c.status == PENDING,
                or_(j.c.next_retry_at.is_(None), j.c.next_retry_at <= now),
            ),
            and_(j.c.status == PROCESSING, j.c.lease_expires_at < now),
        ),
    )


def _next_due(due: ColumnElement[Any]) -> Any:
    """When the queue's next job becomes runnable (jobs this worker holds left out)."""
    j = _jobs
    return select(
        func.min(
            # Pending jobs become runnable when due; others' jobs when their lease ends.
            case((j.c.status == PENDING, due), else_=j.c.lease_expires_at)
        ).label("next_due")
    ).where(
        j.c.queue_name == bindparam("queue", type_=String),
        or_(
            j.c.status == PENDING,
            and_(j.c.status == PROCESSING, j.c.lease_owner != bindparam("owner")),
        ),
    )


def _complete() -> Any:
    """Complete the (id, attempt) `keys` still held by `owner`; returns the ids completed."""
    j = _jobs
    return (
        update(j)
        .where(
            tuple_(j.c.id, j.c.execution_count).in_(bindparam("keys", expanding=True)),
            j.c.status == PROCESSING,
            j.c.lease_owner == bindparam("owner", type_=String),
        )
        .values(
            status=COMPLETED,
            completed_at=bindparam("now", type_=UtcDateTime),
            updated_at=bindparam("now", type_=UtcDateTime),
            lease_expires_at=None,
        )
        .returning(j.c.id)
    )


def _renew() -> Any:
    """Push the leases of the `ids` that `owner` still holds to `expires`."""
    j = _jobs
    return (
        update(j)
        .where(
            j.c.id.in_(bindparam("ids", expanding=True)),
            j.c.lease_owner == bindparam("owner", type_=String),
            j.c.status == PROCESSING,
        )
        .values(
            lease_expires_at=bindparam("expires", type_=UtcDateTime),
            updated_at=bindparam("now", type_=UtcDateTime),
        )
    )


def _orphans() -> Any:
    """Hand back the queue's jobs `owner` claimed but does not hold (`held`), attempt undone."""
    j = _jobs
    return (
        update(j)
        .where(
            j.c.queue_name == bindparam("queue", type_=String),
            j.c.status == PROCESSING,
            j.c.lease_owner == bindparam("owner", type_=String),
            j.c.id.not_in(bindparam("held", expanding=True)),
        )
        .values(
            status=PENDING,
            lease_owner=None,
            lease_expires_at=None,
            execution_count=j.c.execution_count - 1,
            updated_at=bindparam("now", type_=UtcDateTime),
        )
    )
