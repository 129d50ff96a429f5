"""What follows a paid order: its ticket PDF and the confirmation mail, queued once each.

An order sold at the counter or booked by phone may have no e-mail address: it gets its PDF
(staff print it or download it) and no mail; `mail_buyer` is the one place that says so.
"""

from __future__ import annotations

from typing import Any

from mierloos_core.model.commands import GenerateTickets, SendEmail
from mierloos_core.model.orders import Order
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.jobs import enqueue


def enqueue_fulfilment(uow: UnitOfWork, order: Order) -> None:
    enqueue(uow, GenerateTickets(order_id=order.id))
    mail_buyer(uow, order, "order_confirmed", once_key=str(order.id))


def mail_buyer(uow: UnitOfWork, order: Order, template: str, **options: Any) -> bool:
    """Queue a mail to the order's buyer (`options` as `SendEmail.to_buyer` takes them: its
    `once_key`, `context`, `attach_tickets`); False, and nothing queued, without an address."""
    if not order.email:
        return False
    enqueue(uow, SendEmail.to_buyer(order, template, **options))
    return True
