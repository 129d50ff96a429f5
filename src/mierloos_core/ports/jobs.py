"""Background jobs: the queue a unit of work writes to, and the ledger staff read."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from mierloos_core.model.jobs import Job
from mierloos_core.model.pages import Page


@attrs.frozen
class NewJob:
    """A job to enqueue: its type and JSON payload, and when and how it should run."""

    type: str
    data: Mapping[str, Any]
    priority: int = attrs.field(default=0, kw_only=True)
    run_at: datetime | None = attrs.field(default=None, kw_only=True)
    """Not before this moment; None: as soon as a worker is free."""
    dedupe_key: str | None = attrs.field(default=None, kw_only=True)
    """Set for jobs that must exist once only (a recurring job's period, say)."""


class JobQueue(Protocol):
    """Jobs enqueued here are written in the caller's unit of work: they exist iff it commits."""

    def enqueue(self, job: NewJob) -> uuid.UUID:
        """Add a job; with a `dedupe_key` already present, return that job's id instead."""
        ...

    def get(self, job_id: uuid.UUID) -> Job | None: ...
    def list(self, *, job_type: str | None = None, status: str | None = None) -> list[Job]: ...

    def release_key(self, job_id: uuid.UUID) -> bool:
        """Free the dedupe key of a job that is no longer pending, so the key can queue a new
        job; the job keeps its row under a key of its own. False (nothing changed) when the
        job is pending (again) or gone, or has no key."""
        ...

    def skip_pending(self, dedupe_key: str, reason: str) -> bool:
        """Complete the job holding `dedupe_key` without running it, while it waits (pending,
        not started): what it was queued to make sure of is done. Its result says `reason`;
        the job keeps its key, so enqueueing the key again finds it completed. False (nothing
        changed) when no job holds the key or it has started or ended."""
        ...


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


def _from_one(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError("pages count from 1 and hold at least one job")


@attrs.frozen(kw_only=True)
class JobSearch:
    """Staff's filter over the jobs (None: any status or type), and which page of it."""

    status: str | None = None
    job_type: str | None = None
    page: int = attrs.field(default=1, validator=_from_one)
    per_page: int = attrs.field(default=50, validator=_from_one)

    @property
    def offset(self) -> int:
        """How many jobs come before this page."""
        return (self.page - 1) * self.per_page


@attrs.frozen(kw_only=True)
class JobPage(Page):
    jobs: tuple[Job, ...]


class JobLedger(Protocol):
    """The jobs table as staff see it: the dashboard's summary, pages of jobs, and retries."""

    def summary(self) -> JobSummary: ...
    def page(self, search: JobSearch) -> JobPage:
        """Newest first, filtered by status and/or type."""
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
