"""The job queue and the job ledger over a `MemoryStore`'s jobs."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.memory.store import MemoryStore, TableRepository, detached_copy
from mierloos_core.model.jobs import Job, JobStatus, released_key
from mierloos_core.ports import Clock, JobDetails, JobPage, JobSearch, JobSummary, NewJob


class MemoryJobQueue(TableRepository[Job]):
    """Jobs written to the store in the caller's unit of work; nothing runs them here."""

    _table = "jobs"

    def __init__(self, store: MemoryStore, clock: Clock) -> None:
        super().__init__(store)
        self._clock = clock

    def enqueue(self, job: NewJob) -> uuid.UUID:
        if job.dedupe_key is not None:
            existing = self._find(lambda row: row.dedupe_key == job.dedupe_key)
            if existing is not None:
                return existing.id
        now = self._clock.now()
        row = Job(
            type=job.type,
            data=json.loads(json.dumps(dict(job.data))),  # payloads must survive JSON, as in SQL
            priority=job.priority,
            created_at=now,
            updated_at=now,
            next_retry_at=job.run_at,
            dedupe_key=job.dedupe_key,
        )
        self._rows[row.id] = row
        return row.id

    def release_key(self, job_id: uuid.UUID) -> bool:
        job = self._rows.get(job_id)
        if job is None or job.dedupe_key is None or job.status is JobStatus.PENDING:
            return False
        job.dedupe_key = released_key(job.dedupe_key, job_id)
        return True

    def skip_pending(self, dedupe_key: str, reason: str) -> bool:
        job = next((row for row in self._rows.values() if row.dedupe_key == dedupe_key), None)
        if job is None or job.status is not JobStatus.PENDING:
            return False
        now = self._clock.now()
        job.status = JobStatus.COMPLETED
        job.result = {"skipped": reason}
        job.updated_at = job.completed_at = now
        return True

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

    def page(self, search: JobSearch) -> JobPage:
        with self._store.lock:
            found = [
                detached_copy(job)
                for job in self._store.jobs.values()
                if (search.status is None or job.status == search.status)
                and (search.job_type is None or job.type == search.job_type)
            ]
        found.sort(key=lambda job: (job.created_at, str(job.id)), reverse=True)
        start = search.offset
        return JobPage(
            jobs=tuple(found[start : start + search.per_page]),
            total=len(found),
            page=search.page,
            per_page=search.per_page,
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
