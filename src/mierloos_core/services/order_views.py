"""The order as its visitor sees it: read models built from one unit of work, changing nothing.

`OrderViews.find` reads the order behind a secret link, `OrderViews.current` asks the provider
first when its payment is still open, and `OrderViews.account_orders` lists a logged-in
visitor's own orders. The web renders these views as pages, JSON and calendar files.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import attrs

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.model.payments import Payment, PaymentStatus
from mierloos_core.model.records import copied
from mierloos_core.model.seating import Seat
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.ordering import OrderContext, no_order_context
from mierloos_core.services.payments import Payments

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class OrderLineView:
    performance_id: uuid.UUID
    show_title: str
    starts_at: datetime | None
    hall: str | None
    quantity: int
    unit_price: Money
    duration_minutes: int | None = None
    category_name: str = ""  # as the tickets were sold, in the order's language
    seats: tuple[str, ...] = ()  # reserved seating: "Zaal, rij 3, stoel 4" per seat held

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@attrs.frozen(kw_only=True)
class OrderView:
    order_id: uuid.UUID
    number: str
    status: OrderStatus
    name: str
    email: str
    subtotal: Money
    discount: Money
    total: Money
    coupon_code: str | None
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    lines: list[OrderLineView]
    has_payment: bool
    payment_url: str | None  # the open payment's checkout page, while it can still be used
    tickets_ready: bool
    language: str = "nl"  # the one the order was placed in
    performance_cancelled: bool = False  # a performance of the order was cancelled
    paid_too_late: bool = False  # closed, yet money arrived: it goes back automatically

    @property
    def is_pending(self) -> bool:
        return self.status is OrderStatus.PENDING


def _order_view(uow: UnitOfWork, secret: str, now: datetime) -> OrderView | None:
    """The order with this secret, or None. Never looked up by id or number."""
    with uow:
        order = uow.orders.get_by_secret(secret)
        if order is None:
            return None
        payment = uow.payments.latest_for_order(order.id)
        paid_payment = uow.payments.paid_for_order(order.id)
        counts = Counter(ticket.performance_id for ticket in order.tickets)
        performances = uow.performances.get_many(list(counts))
        shows: dict[uuid.UUID, Show | None] = {}
        for known in performances.values():
            if known.show_id not in shows:
                shows[known.show_id] = uow.shows.get(known.show_id)
        seats = uow.seating.seats_of_order(order.id)
    # One line per performance, category and price, in the order the tickets were sold.
    kinds = Counter((t.performance_id, t.category_name, t.price) for t in order.tickets)
    seated: dict[tuple[object, ...], list[Seat]] = {}
    for ticket in order.tickets:
        if ticket.id in seats:
            kind = (ticket.performance_id, ticket.category_name, ticket.price)
            seated.setdefault(kind, []).append(seats[ticket.id])
    lines = [
        attrs.evolve(
            _line(performance_id, quantity, price, performances, shows, category_name),
            seats=_seat_names(seated.get((performance_id, category_name, price), []), order),
        )
        for (performance_id, category_name, price), quantity in kinds.items()
    ]
    lines.sort(key=lambda line: (line.starts_at is None, line.starts_at or now))
    return copied(
        OrderView,
        order,
        order_id=order.id,
        lines=lines,
        has_payment=payment is not None,
        payment_url=_payment_url(order, payment, now),
        tickets_ready=order.status is OrderStatus.PAID and order.tickets_pdf is not None,
        performance_cancelled=any(
            p.status is PerformanceStatus.CANCELLED for p in performances.values()
        ),
        paid_too_late=paid_payment is not None
        and order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED),
    )


def _seat_names(seats: list[Seat], order: Order) -> tuple[str, ...]:
    ordered = sorted(seats, key=lambda seat: (seat.section, seat.row_index, seat.column))
    return tuple(seat.ref.describe(order.language) for seat in ordered)


def _line(
    performance_id: uuid.UUID,
    quantity: int,
    unit_price: Money,
    performances: Mapping[uuid.UUID, Performance],
    shows: Mapping[uuid.UUID, Show | None],
    category_name: str = "",
) -> OrderLineView:
    """One performance of the order; a performance or show since deleted keeps a plain title."""
    performance = performances.get(performance_id)
    show = shows.get(performance.show_id) if performance else None
    return OrderLineView(
        performance_id=performance_id,
        show_title=show.title if show else "Voorstelling",
        starts_at=performance.starts_at if performance else None,
        hall=performance.hall if performance else None,
        quantity=quantity,
        unit_price=unit_price,
        duration_minutes=show.duration_minutes if show else None,
        category_name=category_name,
    )


def _payment_url(order: Order, payment: Payment | None, now: datetime) -> str | None:
    """The open payment's checkout page, while the order waits for it and it has not expired."""
    if (
        order.status is OrderStatus.PENDING
        and payment is not None
        and payment.status is PaymentStatus.OPEN
        and payment.checkout_url
        and (payment.expires_at is None or payment.expires_at > now)
    ):
        return payment.checkout_url
    return None


@attrs.frozen(kw_only=True)
class AccountOrderView:
    """One line of "Mijn account": an order placed while logged in."""

    order_id: uuid.UUID
    number: str
    secret: str = attrs.field(repr=False)
    status: OrderStatus
    created_at: datetime
    total: Money
    tickets: int
    tickets_ready: bool


@attrs.define(eq=False)
class OrderViews(Service):
    payments: Payments
    order_context: OrderContext = no_order_context

    def find(self, secret: str) -> OrderView | None:
        """The order with this secret, or None. Never looked up by id or number."""
        return _order_view(self.uow(), secret, self.clock.now())

    def current(self, secret: str) -> OrderView | None:
        """The order, after asking the provider about its payment when it is still pending."""
        view = self.find(secret)
        if view is None or not (view.is_pending and view.has_payment):
            return view
        with self.order_context(view.order_id):
            try:
                status = self.payments.refresh_order(view.order_id)
            except errors.MierloosError as error:  # busy: show what we know
                log.warning("could not refresh the order's payment: %s", error.code)
                return view
        if status is view.status:
            return view
        return self.find(secret)

    def account_orders(self, user_id: uuid.UUID, limit: int) -> list[AccountOrderView]:
        """The user's own orders, newest first."""
        with self.uow() as uow:
            orders = uow.orders.for_user(user_id, limit=limit)
        return [
            copied(
                AccountOrderView,
                order,
                order_id=order.id,
                tickets=len(order.tickets),
                tickets_ready=order.status is OrderStatus.PAID and order.tickets_pdf is not None,
            )
            for order in orders
        ]
