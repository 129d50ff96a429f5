"""The order in which a worker runs the jobs it holds follows the jobs' priorities; each
actor has its time limit."""

from __future__ import annotations

from typing import Any

from dramatiq.brokers.stub import StubBroker

from mierloos_core.model.jobs import JOB_PRIORITIES, JobType
from mierloos_entrypoints.worker.actors import declare_actors


def _actors() -> dict[JobType, Any]:
    broker = StubBroker()
    try:
        return declare_actors(broker)
    finally:
        broker.close()


def test_a_worker_runs_the_jobs_that_finish_paid_orders_before_new_payment_syncs():
    actors = _actors()
    # Dramatiq takes the lowest actor priority first; the claims take the highest job priority.
    first = {t for t in JobType if JOB_PRIORITIES.get(t, 0) == max(JOB_PRIORITIES.values())}
    assert first == {JobType.PDF_GENERATION, JobType.EMAIL}
    for job_type in first:
        assert actors[job_type].priority < actors[JobType.PAYMENT_WEBHOOK].priority
    assert actors[JobType.PAYMENT_WEBHOOK].priority == actors[JobType.PAYMENT_CREATION].priority


def test_every_actor_has_a_time_limit_a_minute_unless_its_job_takes_longer():
    actors = _actors()
    limits = {job_type: actor.options["time_limit"] for job_type, actor in actors.items()}
    assert set(limits) == set(JobType)
    assert limits[JobType.EMAIL] == limits[JobType.PAYMENT_WEBHOOK] == 60_000
    assert limits[JobType.PDF_GENERATION] == 120_000
    assert limits[JobType.JOBS_PURGE] == limits[JobType.IMAGE_PROCESSING] == 300_000
