"""Orders as staff handle them: search, the detail view, resending tickets, clearing a flag.

Resending is idempotent per request: the caller passes a `request_key` (the web page puts a
fresh one in each rendered form), and a second request with the same key, say a double click,
finds the job the first one queued instead of queueing another.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import attrs

from mierloos_core import errors
from mierloos_core.model.commands import Command, GenerateTickets, SendEmail
from mierloos_core.model.jobs import JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketStatus
from mierloos_core.model.payments import Payment, PaymentEvent
from mierloos_core.ports import Links, OrderSearch, OrderSearchPage, UnitOfWork
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.order_lifecycle import get_order, lock_order
from mierloos_core.services.tickets import TICKETS_READY_TEMPLATE

MAX_QUERY_LENGTH = 100
MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 25

_REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


class InvalidSearch(errors.ValidationError):
    code = "invalid_search"
    message = f"Zoek op hoogstens {MAX_QUERY_LENGTH} tekens."


@attrs.frozen(kw_only=True)
class StaffOrderLine:
    """The tickets of one performance and price category in an order."""

    performance_id: uuid.UUID
    show_title: str
    starts_at: datetime | None
    hall: str | None
    category: str  # its name as sold, in the buyer's language
    unit_price: Money
    quantity: int
    total: Money
    ticket_statuses: tuple[tuple[TicketStatus, int], ...]
    tickets: tuple[Ticket, ...]  # for refunds of chosen tickets


@attrs.frozen(kw_only=True)
class StaffOrderDetail:
    order: Order
    lines: tuple[StaffOrderLine, ...]
    payment: Payment | None
    payment_events: tuple[PaymentEvent, ...]
    order_url: str
    tickets_url: str | None

    @property
    def can_resend_tickets(self) -> bool:
        return self.order.status is OrderStatus.PAID


@attrs.frozen(kw_only=True)
class ResendOutcome:
    """What a resend queued: a new PDF (`pdf_generation`) or the tickets e-mail again."""

    job_id: uuid.UUID
    job_type: JobType
    to: str


class StaffOrders:
    def __init__(self, uow: Callable[[], UnitOfWork], links: Links) -> None:
        self.uow = uow
        self.links = links

    def search(
        self,
        text: str = "",
        *,
        status: OrderStatus | None = None,
        needs_attention: bool = False,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> OrderSearchPage:
        """Newest first; `text` is a whole order number or part of an e-mail address, a name or
        a phone booking's phone number."""
        text = text.strip()
        if len(text) > MAX_QUERY_LENGTH or "\x00" in text:
            raise InvalidSearch()
        query = OrderSearch(
            text=text,
            status=status,
            needs_attention=needs_attention,
            page=max(1, page),
            per_page=min(max(1, per_page), MAX_PER_PAGE),
        )
        with self.uow() as uow:
            return uow.orders.search(query)

    def detail(self, order_id: uuid.UUID) -> StaffOrderDetail:
        with self.uow() as uow:
            order = get_order(uow, order_id)
            lines = self._lines(uow, order)
            payment = uow.payments.latest_for_order(order.id)
            events = uow.payments.events(payment.id) if payment is not None else []
        ready = order.status is OrderStatus.PAID and order.tickets_pdf is not None
        return StaffOrderDetail(
            order=order,
            lines=lines,
            payment=payment,
            payment_events=tuple(sorted(events, key=lambda event: event.at)),
            order_url=self.links.order_page(order.secret),
            tickets_url=self.links.tickets_download(order.secret) if ready else None,
        )

    def resend_tickets(self, order_id: uuid.UUID, *, request_key: str) -> ResendOutcome:
        """Queue the PDF when the order has none yet, else the tickets e-mail once more.

        Paid orders only (InvalidTransition otherwise). The same `request_key` queues once.
        """
        if not _REQUEST_KEY.fullmatch(request_key):
            raise errors.ValidationError("Dit formulier is ongeldig. Laad de pagina opnieuw.")
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            if order.status is not OrderStatus.PAID:
                raise errors.InvalidTransition(
                    "Alleen voor betaalde bestellingen kunnen kaarten worden verstuurd.",
                    order_id=str(order_id),
                )
            if not order.email:
                raise errors.InvalidTransition(
                    "Deze bestelling heeft geen e-mailadres: druk de kaarten af aan de kassa.",
                    order_id=str(order_id),
                )
            command: Command
            if order.tickets_pdf is None:
                # The PDF job queues the tickets e-mail itself once the file is recorded.
                command = GenerateTickets(order_id=order.id, resend_key=request_key)
            else:
                once_key = f"{order.tickets_pdf.key}:resend:{request_key}"
                command = SendEmail.to_buyer(order, TICKETS_READY_TEMPLATE, once_key=once_key)
            job_id = enqueue(uow, command)
            uow.commit()
        return ResendOutcome(job_id=job_id, job_type=command.job_type, to=order.email)

    def mark_handled(self, order_id: uuid.UUID) -> bool:
        """Clear the order's needs-attention note; False when there was none (nothing changed)."""
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            if not order.needs_attention:
                return False
            order.needs_attention = None
            uow.orders.update(order)
            uow.commit()
        return True

    @staticmethod
    def _lines(uow: UnitOfWork, order: Order) -> tuple[StaffOrderLine, ...]:
        groups: dict[tuple[uuid.UUID, str], list[Ticket]] = {}
        for ticket in order.tickets:
            groups.setdefault((ticket.performance_id, ticket.category_name), []).append(ticket)
        performances = uow.performances.get_many(sorted({key[0] for key in groups}))
        titles: dict[uuid.UUID, str] = {}
        lines = []
        for (performance_id, category), tickets in groups.items():
            performance = performances.get(performance_id)
            title = "Onbekende voorstelling"
            if performance is not None:
                if performance.show_id not in titles:
                    show = uow.shows.get(performance.show_id)
                    titles[performance.show_id] = show.title if show else title
                title = titles[performance.show_id]
            lines.append(
                StaffOrderLine(
                    performance_id=performance_id,
                    show_title=title,
                    starts_at=performance.starts_at if performance else None,
                    hall=performance.hall if performance else None,
                    category=category,
                    unit_price=tickets[0].price,
                    quantity=len(tickets),
                    total=sum((t.price for t in tickets), Money(0)),
                    ticket_statuses=tuple(sorted(Counter(t.status for t in tickets).items())),
                    tickets=tuple(tickets),
                )
            )
        lines.sort(key=lambda line: (line.starts_at is None, line.starts_at or order.created_at))
        return tuple(lines)
