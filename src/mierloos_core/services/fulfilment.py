"""What follows a paid order: its ticket PDF and the confirmation mail, queued once each."""

from __future__ import annotations

from mierloos_core.model.commands import GenerateTickets, SendEmail
from mierloos_core.model.orders import Order
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.jobs import enqueue


def enqueue_fulfilment(uow: UnitOfWork, order: Order) -> None:
    enqueue(uow, GenerateTickets(order_id=order.id))
    enqueue(uow, SendEmail.to_buyer(order, "order_confirmed", once_key=str(order.id)))
