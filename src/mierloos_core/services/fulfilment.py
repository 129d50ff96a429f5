"""What follows a paid order: its ticket PDF and the confirmation mail, queued once each."""

from __future__ import annotations

from mierloos_core.model.jobs import JobType
from mierloos_core.model.orders import Order
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.notifications import enqueue_email


def enqueue_fulfilment(uow: UnitOfWork, order: Order) -> None:
    uow.jobs.enqueue(
        JobType.PDF_GENERATION, {"order_id": str(order.id)}, dedupe_key=f"pdf:{order.id}"
    )
    enqueue_email(uow, "order_confirmed", to=order.email, order_id=order.id, once_key=str(order.id))
