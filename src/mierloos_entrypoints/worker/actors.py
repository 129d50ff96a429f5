"""One thin Dramatiq actor per job type: it runs the registered handler in its log context."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from mierloos_core.model.jobs import JOB_PRIORITIES, JobType
from mierloos_entrypoints.observability import log_context, timed_job
from mierloos_entrypoints.worker.handlers import registry

#: How long one run of a job may take before Dramatiq's TimeLimit interrupts it (the attempt
#: then fails and is retried like any other failure): a minute, enough for a call to the payment
#: provider or the mail server, unless named here.
DEFAULT_TIME_LIMIT = timedelta(minutes=1)
TIME_LIMITS: dict[str, timedelta] = {
    JobType.PDF_GENERATION: timedelta(minutes=2),
    # Resizing a large upload, and the sweeps over whole tables.
    JobType.IMAGE_PROCESSING: timedelta(minutes=5),
    JobType.ORPHANED_ORDER_CLEANUP: timedelta(minutes=5),
    JobType.REFUND_FOLLOW_UP: timedelta(minutes=5),
    JobType.JOBS_PURGE: timedelta(minutes=5),
    JobType.WAITLIST_PURGE: timedelta(minutes=5),
}

QUEUE = "default"


def run_job(job_type: str, data: Any) -> None:
    """What every actor does: run the registered handler, with the job in the log context."""
    message = CurrentMessage.get_current_message()
    job_id = message.message_id if message is not None else None
    with log_context(job_id=job_id, job_type=job_type), timed_job(str(job_type)):
        registry().run(job_type, data)


def _limit(job_type: JobType) -> int:
    return int(TIME_LIMITS.get(job_type, DEFAULT_TIME_LIMIT).total_seconds() * 1000)


def _declare_actor(
    broker: dramatiq.Broker, job_type: JobType
) -> dramatiq.Actor[[dict[str, Any]], None]:
    def perform(data: dict[str, Any]) -> None:
        run_job(job_type, data)

    perform.__name__ = perform.__qualname__ = job_type.value
    return dramatiq.actor(
        actor_name=job_type.value,
        queue_name=QUEUE,
        time_limit=_limit(job_type),
        # The jobs a worker holds run in this order (Dramatiq: lower first), as the claims
        # take them from the table (higher JOB_PRIORITIES first).
        priority=-JOB_PRIORITIES.get(job_type, 0),
        broker=broker,
    )(perform)


def declare_actors(
    broker: dramatiq.Broker,
) -> dict[JobType, dramatiq.Actor[[dict[str, Any]], None]]:
    """The actor of every job type, declared on `broker`."""
    return {job_type: _declare_actor(broker, job_type) for job_type in JobType}
