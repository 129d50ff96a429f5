"""Refund storage, one set of assertions for the memory fake, SQLite and Postgres.

The refunds repository (round trip, order of an order's refunds, the follow-up's list of
orders with open refunds) and the payment a refund gives money back from (the paid one).
The unique (order, request_key) constraint is the database's backstop only: the service
checks the key under the order lock, which is what the memory fake relies on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from mierloos_adapters.memory import MemoryStore, MemoryUnitOfWork
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, Ticket
from mierloos_core.model.payments import Payment, PaymentStatus, Refund, RefundStatus
from mierloos_core.model.price_categories import PriceCategory
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
    regular = PriceCategory.regular(performance.id, performance.price)
    order.tickets = [
        Ticket(
            order_id=order.id,
            performance_id=performance.id,
            category_id=regular.id,
            category_name=regular.name_nl,
            price=performance.price,
        )
        for _ in range(2)
    ]
    with make_uow() as uow:
        uow.shows.add(show)
        uow.performances.add(performance)
        uow.price_categories.add(regular)
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


def paid_payment(make_uow: MakeUow, order: Order, clock, provider_id: str) -> Payment:
    payment = a_payment(order, clock.now(), provider_id, PaymentStatus.PAID)
    with make_uow() as uow:
        uow.payments.add(payment)
        uow.commit()
    return payment


def a_refund(order: Order, payment: Payment, at, cents: int = 1000, **fields) -> Refund:
    return Refund(
        order_id=order.id, payment_id=payment.id, amount=Money(cents), created_at=at, **fields
    )


def test_a_refund_comes_back_with_every_field_and_its_updates(make_uow, clock):
    order = an_order(make_uow, clock)
    payment = paid_payment(make_uow, order, clock, "tr_1")
    refund = a_refund(
        order,
        payment,
        clock.now(),
        reason="Eén kaart terug",
        requested_by="kassa@example.org",
        request_key="formulier-1",
        ticket_ids=[order.tickets[1].id],
    )
    with make_uow() as uow:
        uow.refunds.add(refund)
        uow.commit()
    with make_uow() as uow:
        assert uow.refunds.get(refund.id) == refund
        assert uow.refunds.get(uuid.uuid4()) is None
        refund.status = RefundStatus.FAILED
        refund.provider_refund_id = "re_1"
        refund.error = "geweigerd"
        refund.whole = True
        refund.updated_at = clock.now() + timedelta(minutes=1)
        uow.refunds.update(refund)
        uow.commit()

    with make_uow() as uow:
        assert uow.refunds.get(refund.id) == refund
        assert uow.refunds.for_order(order.id) == [refund]


def test_a_refund_added_without_commit_is_not_kept(make_uow, clock):
    order = an_order(make_uow, clock)
    payment = paid_payment(make_uow, order, clock, "tr_1")
    with make_uow() as uow:
        uow.refunds.add(a_refund(order, payment, clock.now()))

    with make_uow() as uow:
        assert uow.refunds.for_order(order.id) == []
        assert uow.refunds.orders_with_open_refunds(10) == []


def test_an_orders_refunds_come_oldest_first_ties_by_id(make_uow, clock):
    order = an_order(make_uow, clock)
    other = an_order(make_uow, clock, "bo@example.nl")
    payment = paid_payment(make_uow, order, clock, "tr_1")
    other_payment = paid_payment(make_uow, other, clock, "tr_2")
    later = a_refund(order, payment, clock.now() + timedelta(minutes=1))
    tied = [a_refund(order, payment, clock.now()) for _ in range(3)]
    with make_uow() as uow:
        for refund in [later, *tied, a_refund(other, other_payment, clock.now())]:
            uow.refunds.add(refund)
        uow.commit()

    with make_uow() as uow:
        found = uow.refunds.for_order(order.id)

    assert found == [*sorted(tied, key=lambda r: r.id), later]


def test_orders_with_open_refunds_oldest_refund_first_each_once(make_uow, clock):
    first, second, done = (
        an_order(make_uow, clock, email) for email in ("an@x.nl", "bo@x.nl", "cor@x.nl")
    )
    payments = {
        o.id: paid_payment(make_uow, o, clock, f"tr_{n}")
        for n, o in enumerate((first, second, done))
    }
    start = clock.now()

    def at(minutes):
        return start + timedelta(minutes=minutes)

    refunds = [
        a_refund(second, payments[second.id], at(1), status=RefundStatus.PENDING),
        a_refund(first, payments[first.id], at(2), status=RefundStatus.REQUESTED),
        a_refund(first, payments[first.id], at(0), status=RefundStatus.PROCESSING),
        a_refund(second, payments[second.id], at(3), status=RefundStatus.QUEUED),
        a_refund(done, payments[done.id], at(-5), status=RefundStatus.REFUNDED),
        a_refund(done, payments[done.id], at(-4), status=RefundStatus.FAILED),
        a_refund(done, payments[done.id], at(-3), status=RefundStatus.CANCELED),
    ]
    with make_uow() as uow:
        for refund in refunds:
            uow.refunds.add(refund)
        uow.commit()

    with make_uow() as uow:
        assert uow.refunds.orders_with_open_refunds(10) == [first.id, second.id]
        assert uow.refunds.orders_with_open_refunds(1) == [first.id]
        oldest = refunds[2]
        oldest.status = RefundStatus.REFUNDED
        uow.refunds.update(oldest)
        uow.commit()

    with make_uow() as uow:
        # The first order's open refund (minute 2) is now younger than the second's (minute 1).
        assert uow.refunds.orders_with_open_refunds(10) == [second.id, first.id]
