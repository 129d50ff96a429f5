"""A provider's webhook call: one sync job queued per payment while one waits.

Kept apart from `payments` (which re-exports it) because it is all the web request does: the
job does the rest (`Payments.sync`).
"""

from __future__ import annotations

from mierloos_core.model.commands import SyncPayment
from mierloos_core.model.jobs import JobStatus
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.jobs import enqueue


def queue_webhook(uow: UnitOfWork, provider_payment_id: str) -> bool:
    """Queue a sync for one of our payments; an id we never opened queues nothing, so forged
    webhook calls cost one indexed read each, never a job nor a provider call.

    While a sync for the payment waits to run, further calls add nothing: that job will read
    the provider's latest status anyway. The payment's newest sync job holds the command's
    dedupe key, so finding it is one keyed lookup however many jobs wait; once that job has
    started (or ended), its key is freed for a new one. The payment row's lock makes
    concurrent calls take turns, so they cannot both see no waiting job."""
    sync = SyncPayment(provider_payment_id=provider_payment_id)
    with uow:
        if uow.payments.get_by_provider_id(provider_payment_id, for_update=True) is None:
            return False
        job_id = enqueue(uow, sync)  # a new job, or the one holding the key
        job = uow.jobs.get(job_id)
        if job is None or job.status is not JobStatus.PENDING:
            # It has started or ended: free the key and queue a new one (enqueue finds the
            # job instead if a retry put it back to pending meanwhile).
            uow.jobs.release_key(job_id)
            enqueue(uow, sync)
        uow.commit()
    return True
