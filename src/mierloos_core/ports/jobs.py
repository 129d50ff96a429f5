"""Background jobs: the queue a unit of work writes to, and the ledger staff read."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from mierloos_core.model.jobs import Job
from mierloos_core.model.pages import Page


class JobQueue(Protocol):
    """Jobs enqueued here are written in the caller's unit of work: they exist iff it commits."""

    def enqueue(
        self,
        job_type: str,
        data: Mapping[str, Any],
        *,
        priority: int = 0,
        run_at: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> uuid.UUID:
        """Add a job; with a `dedupe_key` already present, return that job's id instead."""
        ...

    def get(self, job_id: uuid.UUID) -> Job | None: ...
    def list(self, *, job_type: str | None = None, status: str | None = None) -> list[Job]: ...


@attrs.frozen(kw_only=True)
class JobSummary:
    """The job dashboard's numbers, counted over the whole jobs table."""

    by_status: Mapping[str, int]
    """Every JobStatus, with 0 for those that have no job."""
    by_type: Mapping[str, Mapping[str, int]]
    """Job type -> status -> count, for the types that have jobs."""
    total: int
    oldest_pending_age: timedelta | None
    """How long the oldest pending job has existed; None when nothing is pending."""
    failed_last_hour: int
    """Jobs that ended `failed` within the last hour."""


@attrs.frozen(kw_only=True)
class JobAttemptError:
    """What one failed (or lost) attempt of a job left behind."""

    attempt: int
    at: datetime
    error: str
    worker: str | None = None


@attrs.frozen(kw_only=True)
class JobDetails:
    job: Job
    errors: tuple[JobAttemptError, ...] = ()


@attrs.frozen(kw_only=True)
class JobPage(Page):
    jobs: tuple[Job, ...]


class JobLedger(Protocol):
    """The jobs table as staff see it: the dashboard's summary, pages of jobs, and retries."""

    def summary(self) -> JobSummary: ...
    def page(
        self,
        *,
        status: str | None = None,
        job_type: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> JobPage:
        """Newest first, filtered by status and/or type; `page` counts from 1."""
        ...

    def get(self, job_id: uuid.UUID) -> JobDetails | None: ...
    def retry(self, job_id: uuid.UUID) -> bool:
        """Put a `failed` job back to pending, due now, with one more attempt allowed.

        False (and nothing changed) when the job does not exist or is not failed.
        """
        ...

    def purge_completed(self, finished_before: datetime) -> int:
        """Delete `completed` jobs that completed before that moment; how many went.

        A completed job without `completed_at` (written by hand) counts from its last update.

        Pending, processing and failed jobs are never touched, however old; nor is the newest
        job of each type with a dedupe key, which keeps recurring work to once per period.
        """
        ...
