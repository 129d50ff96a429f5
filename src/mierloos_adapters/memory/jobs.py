"""The job queue and the job ledger over a `MemoryStore`'s jobs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.memory.store import MemoryStore, TableRepository, detached_copy
from mierloos_core.model.jobs import Job, JobStatus
from mierloos_core.ports import Clock, JobDetails, JobPage, JobSummary


class MemoryJobQueue(TableRepository[Job]):
    """Jobs written to the store in the caller's unit of work; nothing runs them here."""

    _table = "jobs"

    def __init__(self, store: MemoryStore, clock: Clock) -> None:
        super().__init__(store)
        self._clock = clock

    def enqueue(
        self,
        job_type: str,
        data: Mapping[str, Any],
        *,
        priority: int = 0,
        run_at: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> uuid.UUID:
        if dedupe_key is not None:
            existing = self._find(lambda job: job.dedupe_key == dedupe_key)
            if existing is not None:
                return existing.id
        now = self._clock.now()
        job = Job(
            type=job_type,
            data=json.loads(json.dumps(dict(data))),  # payloads must survive JSON, as in SQL
            priority=priority,
            created_at=now,
            updated_at=now,
            next_retry_at=run_at,
            dedupe_key=dedupe_key,
        )
        self._rows[job.id] = job
        return job.id

    def list(self, *, job_type: str | None = None, status: str | None = None) -> list[Job]:
        return [
            detached_copy(job)
            for job in sorted(self._rows.values(), key=lambda j: j.created_at)
            if (job_type is None or job.type == job_type)
            and (status is None or job.status == status)
        ]


class MemoryJobLedger:
    """The JobLedger over a MemoryStore's jobs. No worker runs here, so no attempt errors."""

    def __init__(self, store: MemoryStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def summary(self) -> JobSummary:
        now = self._clock.now()
        with self._store.lock:
            jobs = list(self._store.jobs.values())
        by_status = {status.value: 0 for status in JobStatus}
        by_type: dict[str, dict[str, int]] = {}
        for job in jobs:
            by_status[job.status.value] += 1
            counts = by_type.setdefault(job.type, {})
            counts[job.status.value] = counts.get(job.status.value, 0) + 1
        pending = [job.created_at for job in jobs if job.status is JobStatus.PENDING]
        hour_ago = now - timedelta(hours=1)
        return JobSummary(
            by_status=by_status,
            by_type=by_type,
            total=len(jobs),
            oldest_pending_age=max(now - min(pending), timedelta(0)) if pending else None,
            failed_last_hour=sum(
                1
                for job in jobs
                if job.status is JobStatus.FAILED and (job.updated_at or job.created_at) >= hour_ago
            ),
        )

    def page(
        self,
        *,
        status: str | None = None,
        job_type: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> JobPage:
        if page < 1 or per_page < 1:
            raise ValueError("pages count from 1 and hold at least one job")
        with self._store.lock:
            found = [
                detached_copy(job)
                for job in self._store.jobs.values()
                if (status is None or job.status == status)
                and (job_type is None or job.type == job_type)
            ]
        found.sort(key=lambda job: (job.created_at, str(job.id)), reverse=True)
        start = (page - 1) * per_page
        return JobPage(
            jobs=tuple(found[start : start + per_page]),
            total=len(found),
            page=page,
            per_page=per_page,
        )

    def get(self, job_id: uuid.UUID) -> JobDetails | None:
        with self._store.lock:
            job = self._store.jobs.get(job_id)
            return JobDetails(job=detached_copy(job)) if job is not None else None

    def retry(self, job_id: uuid.UUID) -> bool:
        now = self._clock.now()
        with self._store.lock:
            job = self._store.jobs.get(job_id)
            if job is None or job.status is not JobStatus.FAILED:
                return False
            job.status = JobStatus.PENDING
            job.next_retry_at = now
            job.max_attempts = job.execution_count + 1
            job.lease_owner = None
            job.lease_expires_at = None
            job.updated_at = now
            return True

    def purge_completed(self, finished_before: datetime) -> int:
        with self._store.lock:
            markers: dict[str, datetime] = {}  # the newest deduplicated job per type stays
            for job in self._store.jobs.values():
                if job.dedupe_key is not None and job.created_at > markers.get(
                    job.type, job.created_at - timedelta(seconds=1)
                ):
                    markers[job.type] = job.created_at
            doomed = [
                job.id
                for job in self._store.jobs.values()
                if job.status is JobStatus.COMPLETED
                and (job.completed_at or job.updated_at or job.created_at) < finished_before
                and not (job.dedupe_key is not None and job.created_at >= markers[job.type])
            ]
            for job_id in doomed:
                del self._store.jobs[job_id]
        return len(doomed)
