"""The SQL job queue: services enqueue jobs in their own transaction; the broker runs them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as _pg_insert
from sqlalchemy.dialects.sqlite import insert as _sqlite_insert

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.job_wakeups import CHANNEL, announce, payload
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, enum_value
from mierloos_core.model.jobs import Job, JobStatus, released_key
from mierloos_core.ports import Clock, NewJob

JOB_ROWS = RowMap(Job, t.jobs, status=enum_value(JobStatus))


def job_from_row(row: Row[Any]) -> Job:
    return JOB_ROWS.load(row)


_JOB_COLUMNS = (
    "id",
    "type",
    "queue_name",
    "status",
    "priority",
    "data",
    "execution_count",
    "next_retry_at",
    "created_at",
    "updated_at",
    "dedupe_key",
)


def _job_insert(dml: Any) -> Any:
    """INSERT of one job that steps aside (no error) for a row with the same dedupe key."""
    return (
        dml(t.jobs)
        .values({name: bindparam(name, type_=t.jobs.c[name].type) for name in _JOB_COLUMNS})
        .on_conflict_do_nothing(index_elements=[t.jobs.c.dedupe_key])
        .returning(t.jobs.c.id)
    )


_ENQUEUE_SQLITE = _job_insert(_sqlite_insert)
_inserted_job = _job_insert(_pg_insert).cte("inserted_job")
_ENQUEUE_AND_NOTIFY_PG = select(
    _inserted_job.c.id, func.pg_notify(CHANNEL, bindparam("wake"))
).select_from(_inserted_job)


class SqlJobQueue(SqlRepository):
    """Writes jobs in the caller's transaction. The broker (jobqueue package) runs them.

    On Postgres the enqueue also sends a NOTIFY in that transaction: idle workers wake when it
    commits, and never for a transaction that rolls back.
    """

    queue_name = "default"

    def __init__(self, connection: Connection, clock: Clock) -> None:
        super().__init__(connection)
        self.clock = clock

    def enqueue(self, job: NewJob) -> uuid.UUID:
        now = self.clock.now()
        job_id = uuid.uuid4()
        values = {
            "id": job_id,
            "type": str(job.type),
            "queue_name": self.queue_name,
            "status": JobStatus.PENDING.value,
            "priority": job.priority,
            "data": dict(job.data),
            "execution_count": 0,
            "next_retry_at": job.run_at,
            "created_at": now,
            "updated_at": now,
            "dedupe_key": job.dedupe_key,
        }
        if self.db.dialect.name == "postgresql":
            # Insert and NOTIFY in one round trip; the NOTIFY only when a row went in.
            values["wake"] = payload(self.queue_name, job.run_at)
            inserted = self.db.execute(_ENQUEUE_AND_NOTIFY_PG, values).first() is not None
        else:
            inserted = self.db.execute(_ENQUEUE_SQLITE, values).first() is not None
            if inserted:
                announce(self.db, self.queue_name, job.run_at)
        if inserted:
            return job_id
        # Only a dedupe key can keep a row out: a transaction enqueueing the same key (workers
        # scheduling a recurring job) inserted it first, or finished earlier.
        existing = self._dedupe(job.dedupe_key) if job.dedupe_key is not None else None
        if existing is None:  # pragma: no cover - the conflicting row must be there
            raise RuntimeError(f"job {job.dedupe_key!r} neither inserted nor found")
        return existing

    def _dedupe(self, dedupe_key: str) -> uuid.UUID | None:
        existing = self.db.execute(
            select(t.jobs.c.id).where(t.jobs.c.dedupe_key == dedupe_key)
        ).scalar()
        return None if existing is None else uuid.UUID(str(existing))

    def get(self, job_id: uuid.UUID) -> Job | None:
        return self._find(JOB_ROWS, t.jobs.c.id == job_id)

    def release_key(self, job_id: uuid.UUID) -> bool:
        # Conditional: a job put back to pending (a retry) keeps its key, and needs no new one.
        released = self.db.execute(
            update(t.jobs)
            .where(
                t.jobs.c.id == job_id,
                t.jobs.c.dedupe_key.is_not(None),
                t.jobs.c.status != JobStatus.PENDING.value,
            )
            .values(dedupe_key=t.jobs.c.dedupe_key + released_key("", job_id))
        )
        return bool(released.rowcount == 1)

    def skip_pending(self, dedupe_key: str, reason: str) -> bool:
        # One keyed, conditional update: a worker that claimed the job first holds its row
        # (processing) and the update then finds nothing to do.
        now = self.clock.now()
        skipped = self.db.execute(
            update(t.jobs)
            .where(t.jobs.c.dedupe_key == dedupe_key, t.jobs.c.status == JobStatus.PENDING.value)
            .values(
                status=JobStatus.COMPLETED.value,
                result={"skipped": reason},
                updated_at=now,
                completed_at=now,
            )
        )
        return bool(skipped.rowcount == 1)

    def list(self, *, job_type: str | None = None, status: str | None = None) -> list[Job]:
        query = select(t.jobs).order_by(t.jobs.c.created_at)
        conditions = []
        if job_type is not None:
            conditions.append(t.jobs.c.type == job_type)
        if status is not None:
            conditions.append(t.jobs.c.status == status)
        if conditions:
            query = query.where(and_(*conditions))
        return self._all(JOB_ROWS, query)
