"""Background jobs: the rows of the `jobs` table and the retry policy."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from typing import Any

import attrs

from mierloos_core.model.ids import new_id
from mierloos_core.model.timeutil import require_aware


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class JobType(enum.StrEnum):
    PDF_GENERATION = "pdf_generation"
    EMAIL = "email"
    IMAGE_PROCESSING = "image_processing"
    PAYMENT_CREATION = "payment_creation"
    PAYMENT_WEBHOOK = "payment_webhook"
    ORPHANED_ORDER_CLEANUP = "orphaned_order_cleanup"
    REFUND_FOLLOW_UP = "refund_follow_up"
    JOBS_PURGE = "jobs_purge"
    REFUND = "refund"
    PAYMENT_CANCEL = "payment_cancel"
    WAITLIST_OFFER = "waitlist_offer"
    WAITLIST_PURGE = "waitlist_purge"


JOB_PRIORITIES: dict[str, int] = {JobType.PDF_GENERATION: 1, JobType.EMAIL: 1}
"""Among the jobs that are due, higher goes first (0 for the types not named). A paid order's
PDF and mails finish the orders already underway before the next payment syncs of a backlog
start new ones: the first buyers get their tickets first, instead of every buyer late."""


@attrs.define(kw_only=True)
class Job:
    type: str
    data: dict[str, Any]
    created_at: datetime = attrs.field(validator=require_aware)
    status: JobStatus = JobStatus.PENDING
    priority: int = 0
    result: dict[str, Any] | None = None
    error_message: str | None = None
    execution_count: int = 0
    max_attempts: int | None = None
    next_retry_at: datetime | None = attrs.field(default=None, validator=require_aware)
    updated_at: datetime | None = attrs.field(default=None, validator=require_aware)
    completed_at: datetime | None = attrs.field(default=None, validator=require_aware)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = attrs.field(default=None, validator=require_aware)
    # Set for jobs that must exist once only (a recurring job's period, say).
    dedupe_key: str | None = None
    id: uuid.UUID = attrs.field(factory=new_id)


def released_key(dedupe_key: str, job_id: uuid.UUID) -> str:
    """The key a job keeps once its own was freed for a new job (`JobQueue.release_key`)."""
    return f"{dedupe_key}|released:{job_id.hex}"


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Exponential backoff: `base`, doubling each attempt, capped at `cap`, `max_attempts` in all.

    The delay after the n-th failed attempt (n >= 1) is ``min(base * 2**(n-1), cap)``: with
    the defaults 5 s, 10 s, 20 s, 40 s, after which the fifth failure marks the job failed.
    """

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=5)
    max_attempts: int = 5

    def __attrs_post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base or self.max_attempts < 1:
            raise ValueError("invalid retry policy")

    def delay_after(self, attempt: int) -> timedelta:
        if attempt < 1:
            raise ValueError("attempts count from 1")
        # Cap the exponent too, so a large attempt number cannot overflow.
        factor: int = 2 ** min(attempt - 1, 32)
        delay: timedelta = min(self.base * factor, self.cap)
        return delay

    def gives_up_after(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
