"""The order in which a worker runs the jobs it holds follows the jobs' priorities."""

from __future__ import annotations

from dramatiq.brokers.stub import StubBroker

from mierloos_core.model.jobs import JOB_PRIORITIES, JobType
from mierloos_entrypoints.worker.actors import declare_actors


def test_a_worker_runs_the_jobs_that_finish_paid_orders_before_new_payment_syncs():
    broker = StubBroker()
    try:
        actors = declare_actors(broker)
    finally:
        broker.close()
    # Dramatiq takes the lowest actor priority first; the claims take the highest job priority.
    first = {t for t in JobType if JOB_PRIORITIES.get(t, 0) == max(JOB_PRIORITIES.values())}
    assert first == {JobType.PDF_GENERATION, JobType.EMAIL}
    for job_type in first:
        assert actors[job_type].priority < actors[JobType.PAYMENT_WEBHOOK].priority
    assert actors[JobType.PAYMENT_WEBHOOK].priority == actors[JobType.PAYMENT_CREATION].priority
