"""Seed data for the reports: refunds (whole, per ticket, an amount, a failed one), coupons,
price categories (a free one among them), cancelled, expired and unpaid orders, an order over
two shows with different VAT rates, and an order in an earlier month.

Written straight through the unit of work's repositories, in the states the services leave.
All orders are placed in February 2026 (`PERIOD`) but the one of `EARLY` (January 2026).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketStatus
from mierloos_core.model.payments import Payment, PaymentStatus, Refund, RefundStatus
from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.reports import parse_period

PERIOD = parse_period("month", "2026-02")
EARLY = datetime(2026, 1, 20, 10, 0, tzinfo=UTC)
FEB = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


@attrs.define
class Seeded:
    shows: dict[str, Show] = attrs.Factory(dict)
    performances: dict[str, Performance] = attrs.Factory(dict)
    categories: dict[str, PriceCategory] = attrs.Factory(dict)
    orders: dict[str, Order] = attrs.Factory(dict)


def seed(make_uow: Callable[[], UnitOfWork]) -> Seeded:
    seeded = Seeded()
    seeded.shows["a"] = Show(title="Hamlet", slug="hamlet")
    seeded.shows["b"] = Show(title="Cabaret <Avond>", slug="cabaret", vat_rate=Decimal("21.00"))
    starts = datetime(2026, 2, 20, 19, 30, tzinfo=UTC)
    plan = {  # key: (show, start, capacity, seats still free)
        "a1": ("a", starts, 50, 43),
        "a2": ("a", starts + timedelta(days=30), 30, 27),
        "b1": ("b", starts + timedelta(days=2), 20, 18),
    }
    for key, (show, at, capacity, free) in plan.items():
        seeded.performances[key] = Performance(
            show_id=seeded.shows[show].id,
            starts_at=at,
            price=Money(2500),
            capacity=capacity,
            available_seats=free,
            status=PerformanceStatus.PUBLISHED,
        )
    prices = {"a1": 2500, "a1-kind": 1250, "a1-vrij": 0, "a2": 2500, "b1": 3000}
    for key, cents in prices.items():
        name = {"kind": "Kind", "vrij": "Vrijkaart"}.get(key.partition("-")[2], "Regulier")
        seeded.categories[key] = PriceCategory(
            performance_id=seeded.performances[key[:2]].id,
            name_nl=name,
            name_en=name,
            price=Money(cents),
            position=1 if name != "Regulier" else 0,
        )
    _orders(seeded)
    with make_uow() as uow:
        for show in seeded.shows.values():
            uow.shows.add(show)
        for performance in seeded.performances.values():
            uow.performances.add(performance)
        for category in seeded.categories.values():
            uow.price_categories.add(category)
        for order in seeded.orders.values():
            uow.orders.add(order)
        _money(uow, seeded)
        uow.commit()
    return seeded


def _order(
    seeded: Seeded,
    key: str,
    lines: list[tuple[str, TicketStatus]],
    *,
    status: OrderStatus,
    at: datetime,
    discount: int = 0,
    coupon: str | None = None,
) -> None:
    order = Order(
        email=f"{key}@example.nl",
        name=f"Klant {key}",
        subtotal=Money(0),
        discount=Money(discount),
        created_at=at,
        expires_at=at + timedelta(minutes=15),
        status=status,
        coupon_code=coupon,
        paid_at=at + timedelta(minutes=2)
        if status in (OrderStatus.PAID, OrderStatus.REFUNDED)
        else None,
    )
    for category_key, ticket_status in lines:
        category = seeded.categories[category_key]
        order.tickets.append(
            Ticket(
                order_id=order.id,
                performance_id=category.performance_id,
                category_id=category.id,
                category_name=category.name_nl,
                price=category.price,
                status=ticket_status,
            )
        )
    order.subtotal = Money(sum(t.price.cents for t in order.tickets))
    seeded.orders[key] = order


V, R, H, C = (
    TicketStatus.VALID,
    TicketStatus.REFUNDED,
    TicketStatus.RESERVED,
    TicketStatus.CANCELLED,
)


def _orders(seeded: Seeded) -> None:
    paid, day = OrderStatus.PAID, timedelta(days=1)
    # 6250 less 10 %: 5625 (2500 2500 1250 -> 2250 2250 1125)
    _order(
        seeded,
        "coupon",
        [("a1", V), ("a1", V), ("a1-kind", V)],
        status=paid,
        at=FEB,
        discount=625,
        coupon="KORT10",
    )
    # two shows; one ticket of Cabaret refunded on its own
    _order(seeded, "two-shows", [("a1", V), ("b1", V), ("b1", R)], status=paid, at=FEB + day)
    _order(
        seeded,
        "whole-refund",
        [("a1", R), ("a1", R)],
        status=OrderStatus.REFUNDED,
        at=FEB + 2 * day,
    )
    _order(
        seeded,
        "unpaid",
        [("a1-kind", H), ("a1-kind", H)],
        status=OrderStatus.PENDING,
        at=FEB + 3 * day,
    )
    _order(seeded, "expired", [("a1", C)], status=OrderStatus.EXPIRED, at=FEB + 4 * day)
    _order(seeded, "cancelled", [("b1", C)], status=OrderStatus.CANCELLED, at=FEB + 5 * day)
    # 7500 less 333: 7167, shared 2389 2389 2389; an amount refunded and a failed refund
    _order(
        seeded,
        "odd-coupon",
        [("a2", V), ("a2", V), ("a2", V)],
        status=paid,
        at=FEB + 6 * day,
        discount=333,
        coupon="MIN333",
    )
    _order(seeded, "free", [("a1-vrij", V)], status=paid, at=FEB + 7 * day)
    _order(seeded, "january", [("b1", V)], status=paid, at=EARLY)


def _money(uow: UnitOfWork, seeded: Seeded) -> None:
    methods = {
        "coupon": "mollie",
        "two-shows": "fake",
        "whole-refund": "mollie",
        "odd-coupon": "mollie",
        "january": "fake",
    }
    payments = {}
    for key, provider in methods.items():
        order = seeded.orders[key]
        payment = Payment(
            order_id=order.id,
            provider=provider,
            amount=order.total,
            created_at=order.created_at,
            status=PaymentStatus.PAID,
            provider_payment_id=f"tr_{key}",
        )
        payments[key] = payment
        uow.payments.add(payment)
    # An abandoned earlier payment of the same order must not count twice.
    uow.payments.add(
        Payment(
            order_id=seeded.orders["coupon"].id,
            provider="mollie",
            amount=Money(5625),
            created_at=FEB,
            status=PaymentStatus.CANCELED,
            provider_payment_id="tr_first",
        )
    )
    later = timedelta(days=3)

    def refund(key: str, cents: int, status: RefundStatus, **extra: object) -> None:
        order = seeded.orders[key]
        uow.refunds.add(
            Refund(
                order_id=order.id,
                payment_id=payments[key].id,
                amount=Money(cents),
                created_at=order.created_at + later,
                status=status,
                provider_refund_id=f"re_{key}_{cents}",
                **extra,
            )  # type: ignore[arg-type]
        )

    two = seeded.orders["two-shows"]
    refund("two-shows", 3000, RefundStatus.REFUNDED, ticket_ids=(two.tickets[2].id,))
    refund("whole-refund", 5000, RefundStatus.REFUNDED, whole=True)
    refund("odd-coupon", 1000, RefundStatus.PENDING)
    refund("odd-coupon", 500, RefundStatus.FAILED)


def ids(seeded: Seeded, key: str) -> uuid.UUID:
    return seeded.performances[key].id
