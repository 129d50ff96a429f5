"""A JobsBroker from the worker's settings: retries, leases and the periodic jobs it queues."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from mierloos_adapters.jobqueue.broker import JobsBroker
from mierloos_adapters.sqlalchemy import make_engine
from mierloos_core.model.commands import (
    Command,
    ExpireOrders,
    FollowUpRefunds,
    PurgeJobs,
    PurgeWaitlists,
)
from mierloos_core.model.jobs import RetryPolicy
from mierloos_core.services.jobs import is_retryable
from mierloos_entrypoints.config import WorkerSettings
from mierloos_entrypoints.observability import JobLogContext
from mierloos_entrypoints.worker.handlers import give_up

#: How often completed jobs past JOBS_RETENTION_DAYS are purged.
PURGE_PERIOD = timedelta(days=1)


def retry_policy(settings: WorkerSettings) -> RetryPolicy:
    """WORKER_POLLING_INTERVAL is the base, doubling per attempt, capped at 5 minutes."""
    base = timedelta(seconds=settings.polling_interval)
    return RetryPolicy(
        base=base, cap=max(timedelta(minutes=5), base), max_attempts=settings.max_attempts
    )


def jobs_broker(database_url: str, settings: WorkerSettings) -> JobsBroker:
    """A JobsBroker over `database_url`, queueing the periodic jobs `settings` ask for."""
    # Worker threads settle their jobs concurrently; the consumer, heartbeat and scheduler
    # threads need one each. The pool keeps ten; an overflow connection beyond them closes as
    # soon as it is handed back.
    # No pre-ping: the broker turns a lost connection into Dramatiq's ConnectionError and the
    # pool replaces it, so testing every checkout would only add a round trip per claim/ack.
    engine: Engine = make_engine(database_url, pool_size=10, max_overflow=20, pre_ping=False)
    policy = retry_policy(settings)
    broker = JobsBroker(
        engine,
        policy=policy,
        poll_interval=policy.base,
        lease=timedelta(seconds=settings.lease_seconds),
        is_retryable=is_retryable,
        on_give_up=give_up,
        async_commit=True,  # its own engine; see JobsBroker
    )
    for command, every in _recurring_jobs(settings):
        broker.schedule(command.job_type, every, command.to_payload())
    broker.add_middleware(JobLogContext())
    return broker


def _recurring_jobs(settings: WorkerSettings) -> list[tuple[Command, timedelta]]:
    """The jobs every worker schedules, each with its period; a period of 0 turns it off."""
    jobs: list[tuple[Command, timedelta]] = []
    if settings.orphaned_order_cleanup_period > 0:
        every = timedelta(seconds=max(settings.orphaned_order_cleanup_period, 1))
        jobs.append((ExpireOrders(), every))
    if settings.refund_follow_up_period > 0:
        every = timedelta(seconds=max(settings.refund_follow_up_period, 1))
        jobs.append((FollowUpRefunds(), every))
    if settings.jobs_retention_days > 0:
        jobs.append((PurgeJobs(older_than_days=settings.jobs_retention_days), PURGE_PERIOD))
    if settings.waitlist_retention_days > 0:
        purge = PurgeWaitlists(older_than_days=settings.waitlist_retention_days)
        jobs.append((purge, PURGE_PERIOD))
    return jobs
