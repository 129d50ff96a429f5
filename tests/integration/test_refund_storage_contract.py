"""Refund storage, one set of assertions for the memory fake, SQLite and Postgres.

The refunds repository and the payment a refund gives money back from (the paid one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from mierloos_adapters.memory import MemoryStore, MemoryUnitOfWork
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, Ticket
from mierloos_core.model.payments import Payment, PaymentStatus
from mierloos_core.ports import UnitOfWork

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_uow(request: pytest.FixtureRequest, clock) -> MakeUow:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store, clock)
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return lambda: SqlUnitOfWork(engine, clock)


def an_order(make_uow: MakeUow, clock, email: str = "an@example.nl") -> Order:
    show = Show(title="Carmen", slug=f"carmen-{email[:2]}", description="", created_at=clock.now())
    performance = Performance(
        show_id=show.id,
        starts_at=clock.now() + timedelta(days=3),
        price=Money(2500),
        capacity=10,
        available_seats=8,
        status=PerformanceStatus.PUBLISHED,
        hall="Grote zaal",
    )
    order = Order(
        email=email,
        name="An",
        subtotal=Money(5000),
        discount=Money(0),
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(minutes=15),
    )
    order.tickets = [
        Ticket(order_id=order.id, performance_id=performance.id, price=performance.price)
        for _ in range(2)
    ]
    with make_uow() as uow:
        uow.shows.add(show)
        uow.performances.add(performance)
        uow.orders.add(order)
        uow.commit()
    return order


def a_payment(order: Order, at, provider_id: str, status: PaymentStatus) -> Payment:
    return Payment(
        order_id=order.id,
        provider="mollie",
        amount=order.total,
        created_at=at,
        provider_payment_id=provider_id,
        status=status,
    )


def test_the_paid_payment_is_found_even_when_a_later_one_was_opened(make_uow, clock):
    order = an_order(make_uow, clock)
    paid = a_payment(order, clock.now() - timedelta(minutes=2), "tr_paid", PaymentStatus.PAID)
    later = a_payment(order, clock.now(), "tr_later", PaymentStatus.OPEN)
    unpaid = an_order(make_uow, clock, "bo@example.nl")
    with make_uow() as uow:
        assert uow.payments.paid_for_order(order.id) is None
        uow.payments.add(paid)
        uow.payments.add(later)
        uow.commit()

    with make_uow() as uow:
        assert uow.payments.latest_for_order(order.id) == later
        assert uow.payments.paid_for_order(order.id) == paid
        assert uow.payments.paid_for_order(unpaid.id) is None
