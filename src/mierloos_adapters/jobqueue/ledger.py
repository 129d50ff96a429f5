"""The JobLedger over the `jobs` table: the dashboard's summary, pages of jobs, staff retries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from mierloos_adapters.jobqueue import signals
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.jobs import job_from_row
from mierloos_core.model.jobs import JobStatus
from mierloos_core.ports import (
    Clock,
    JobAttemptError,
    JobDetails,
    JobPage,
    JobSearch,
    JobSummary,
)

_jobs = t.jobs


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def attempt_errors(entries: Any) -> tuple[JobAttemptError, ...]:
    found = []
    for entry in entries or []:
        try:
            found.append(
                JobAttemptError(
                    attempt=int(entry["attempt"]),
                    at=_aware(datetime.fromisoformat(entry["at"])),
                    error=str(entry["error"]),
                    worker=entry.get("worker"),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # an entry written by hand or by an older version: skip, never fail
    return tuple(found)


class SqlJobLedger:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def summary(self) -> JobSummary:
        now = self.clock.now()
        with self.engine.connect() as connection:
            counts = connection.execute(
                select(_jobs.c.type, _jobs.c.status, func.count()).group_by(
                    _jobs.c.type, _jobs.c.status
                )
            ).all()
            oldest = connection.execute(
                select(func.min(_jobs.c.created_at)).where(
                    _jobs.c.status == JobStatus.PENDING.value
                )
            ).scalar()
            failed_recently = connection.execute(
                select(func.count())
                .select_from(_jobs)
                .where(
                    _jobs.c.status == JobStatus.FAILED.value,
                    _jobs.c.updated_at >= now - timedelta(hours=1),
                )
            ).scalar_one()
        by_status = {status.value: 0 for status in JobStatus}
        by_type: dict[str, dict[str, int]] = {}
        for job_type, status, count in counts:
            by_status[status] = by_status.get(status, 0) + count
            by_type.setdefault(job_type, {})[status] = count
        if oldest is not None:
            oldest = _aware(oldest)
        return JobSummary(
            by_status=by_status,
            by_type=by_type,
            total=sum(by_status.values()),
            oldest_pending_age=max(now - oldest, timedelta(0)) if oldest is not None else None,
            failed_last_hour=int(failed_recently),
        )

    def page(self, search: JobSearch) -> JobPage:
        conditions = []
        if search.status is not None:
            conditions.append(_jobs.c.status == str(search.status))
        if search.job_type is not None:
            conditions.append(_jobs.c.type == str(search.job_type))
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(_jobs).where(*conditions)
            ).scalar_one()
            rows = connection.execute(
                select(_jobs)
                .where(*conditions)
                .order_by(_jobs.c.created_at.desc(), _jobs.c.id.desc())
                .limit(search.per_page)
                .offset(search.offset)
            ).all()
        return JobPage(
            jobs=tuple(job_from_row(row) for row in rows),
            total=int(total),
            page=search.page,
            per_page=search.per_page,
        )

    def get(self, job_id: uuid.UUID) -> JobDetails | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(_jobs).where(_jobs.c.id == job_id)).first()
        if row is None:
            return None
        return JobDetails(job=job_from_row(row), errors=attempt_errors(row.errors))

    def retry(self, job_id: uuid.UUID) -> bool:
        now = self.clock.now()
        with self.engine.begin() as connection:
            retried = connection.execute(
                update(_jobs)
                .where(_jobs.c.id == job_id, _jobs.c.status == JobStatus.FAILED.value)
                .values(
                    status=JobStatus.PENDING.value,
                    next_retry_at=now,
                    max_attempts=_jobs.c.execution_count + 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
                .returning(_jobs.c.queue_name)
            ).first()
            if retried is not None:
                signals.announce(connection, retried.queue_name)
        return retried is not None

    def purge_completed(self, finished_before: datetime) -> int:
        finished = func.coalesce(_jobs.c.completed_at, _jobs.c.updated_at, _jobs.c.created_at)
        # The newest deduplicated job of each type stays: it is what keeps a recurring job to
        # once per period when another worker (re)starts within the same period.
        same_type = _jobs.alias("same_type")
        newest_marker = (
            select(func.max(same_type.c.created_at))
            .where(same_type.c.type == _jobs.c.type, same_type.c.dedupe_key.is_not(None))
            .scalar_subquery()
        )
        is_marker = _jobs.c.dedupe_key.is_not(None) & (_jobs.c.created_at >= newest_marker)
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(_jobs).where(
                    _jobs.c.status == JobStatus.COMPLETED.value,
                    finished < finished_before,
                    ~is_marker,
                )
            )
        return int(result.rowcount)
