"""The order status as the visitor sees it: a read model built from one unit of work.

This is a query, not a use case (it changes nothing); it lives here until the core has an
order-status service (`services/orders.py`), where it belongs.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

import attrs

from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.ports import UnitOfWork


@attrs.frozen(kw_only=True)
class OrderLineView:
    performance_id: uuid.UUID
    show_title: str
    starts_at: datetime | None
    hall: str | None
    quantity: int
    unit_price: Money
    duration_minutes: int | None = None

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


def load_order_view(uow: UnitOfWork, secret: str, now: datetime) -> OrderView | None:
    """The order with this secret, or None. Never looked up by id or number."""
    with uow:
        order = uow.orders.get_by_secret(secret)
        if order is None:
            return None
        payment = uow.payments.latest_for_order(order.id)
        paid_payment = uow.payments.paid_for_order(order.id)
        counts = Counter(ticket.performance_id for ticket in order.tickets)
        prices = {ticket.performance_id: ticket.price for ticket in order.tickets}
        performances = uow.performances.get_many(list(counts))
        titles: dict[uuid.UUID, str] = {}
        durations: dict[uuid.UUID, int | None] = {}
        for known in performances.values():
            if known.show_id not in titles:
                show = uow.shows.get(known.show_id)
                titles[known.show_id] = show.title if show else "Voorstelling"
                durations[known.show_id] = show.duration_minutes if show else None
    lines = []
    for performance_id, quantity in counts.items():
        performance = performances.get(performance_id)
        lines.append(
            OrderLineView(
                performance_id=performance_id,
                show_title=titles.get(performance.show_id, "Voorstelling")
                if performance
                else "Voorstelling",
                starts_at=performance.starts_at if performance else None,
                hall=performance.hall if performance else None,
                quantity=quantity,
                unit_price=prices[performance_id],
                duration_minutes=durations.get(performance.show_id) if performance else None,
            )
        )
    lines.sort(key=lambda line: (line.starts_at is None, line.starts_at or now))
    payment_url = None
    if (
        order.status is OrderStatus.PENDING
        and payment is not None
        and payment.status is PaymentStatus.OPEN
        and payment.checkout_url
        and (payment.expires_at is None or payment.expires_at > now)
    ):
        payment_url = payment.checkout_url
    return OrderView(
        order_id=order.id,
        number=order.number,
        status=order.status,
        name=order.name,
        email=order.email,
        subtotal=order.subtotal,
        discount=order.discount,
        total=order.total,
        coupon_code=order.coupon_code,
        created_at=order.created_at,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        lines=lines,
        has_payment=payment is not None,
        payment_url=payment_url,
        tickets_ready=order.status is OrderStatus.PAID and order.tickets_pdf is not None,
        language=order.language,
        performance_cancelled=any(
            p.status is PerformanceStatus.CANCELLED for p in performances.values()
        ),
        paid_too_late=paid_payment is not None
        and order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED),
    )


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


def load_account_orders(uow: UnitOfWork, user_id: uuid.UUID, limit: int) -> list[AccountOrderView]:
    """The user's own orders, newest first."""
    with uow:
        orders = uow.orders.for_user(user_id, limit=limit)
    return [
        AccountOrderView(
            order_id=order.id,
            number=order.number,
            secret=order.secret,
            status=order.status,
            created_at=order.created_at,
            total=order.total,
            tickets=len(order.tickets),
            tickets_ready=order.status is OrderStatus.PAID and order.tickets_pdf is not None,
        )
        for order in orders
    ]
