"""Refunds on real databases: the refunds table round trip and ten staff pressing at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.payments import PaymentStatus, RefundStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.payments import Payments
from mierloos_core.services.refunds import Refunds

CAPACITY = 10
TICKETS = 3


def paid_order(engine, clock, sql_catalog):
    performance = sql_catalog.performance(capacity=CAPACITY)
    gateway = MemoryPaymentGateway()
    make_uow = lambda: SqlUnitOfWork(engine, clock)  # noqa: E731
    payments = Payments(make_uow, clock, gateway, SiteLinks("http://x"))
    placed = checkout(
        make_uow(),
        clock,
        CheckoutRequest(
            email="terug@example.nl",
            name="Terug",
            lines=[CartLine(performance_id=performance.id, quantity=TICKETS)],
        ),
    )
    payments.start(placed.order_id)
    with make_uow() as uow:
        provider_id = uow.payments.latest_for_order(placed.order_id).provider_payment_id
    gateway.set_status(provider_id, PaymentStatus.PAID)
    payments.sync(provider_id)
    return performance, gateway, Refunds(make_uow, clock, gateway), placed


def test_refunds_are_stored_and_read_back_with_every_field(engine, clock, sql_catalog):
    _, gateway, refunds, placed = paid_order(engine, clock, sql_catalog)
    gateway.refuse = True
    with pytest.raises(errors.RefundRefused):
        refunds.refund(placed.order_id, amount=Money(1000), reason="Zicht", requested_by="a@b.nl")
    gateway.refuse = False
    clock.advance(timedelta(minutes=1))
    made = refunds.refund(placed.order_id, amount=Money(500), reason="Koffie koud")

    with SqlUnitOfWork(engine, clock) as uow:
        failed, accepted = uow.refunds.for_order(placed.order_id)
        again = uow.refunds.get(made.id)

    assert again == made
    assert (failed.status, failed.amount, failed.reason) == (
        RefundStatus.FAILED,
        Money(1000),
        "Zicht",
    )
    assert failed.requested_by == "a@b.nl"
    assert failed.error
    assert failed.provider_refund_id is None
    assert accepted.status is RefundStatus.PENDING
    assert accepted.provider_refund_id == made.provider_refund_id
    assert accepted.created_at == clock.now()
    assert failed.created_at == clock.now() - timedelta(minutes=1)
    assert not accepted.whole


def test_orders_with_open_refunds_are_found_oldest_first_until_they_finish(
    engine, clock, sql_catalog
):
    _, gateway, refunds, first = paid_order(engine, clock, sql_catalog)
    clock.advance(timedelta(minutes=1))
    _, _, second_refunds, second = paid_order(engine, clock, sql_catalog)
    open_refund = refunds.refund(first.order_id, amount=Money(500))
    clock.advance(timedelta(minutes=1))
    second_refunds.refund(second.order_id, amount=Money(500))

    with SqlUnitOfWork(engine, clock) as uow:
        assert uow.refunds.orders_with_open_refunds(10) == [first.order_id, second.order_id]
        assert uow.refunds.orders_with_open_refunds(1) == [first.order_id]

    gateway.set_refund_status(open_refund.provider_refund_id, RefundStatus.REFUNDED)
    refunds.refresh(first.order_id)
    with SqlUnitOfWork(engine, clock) as uow:
        assert uow.refunds.orders_with_open_refunds(10) == [second.order_id]


def test_ten_simultaneous_whole_refunds_refund_once_and_free_seats_once(engine, clock, sql_catalog):
    performance, gateway, refunds, placed = paid_order(engine, clock, sql_catalog)
    barrier = threading.Barrier(10)
    outcomes: list[object] = []

    def press() -> None:
        barrier.wait()
        try:
            outcomes.append(refunds.refund(placed.order_id, reason="dubbel geklikt"))
        except errors.MierloosError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=press) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    made = [o for o in outcomes if not isinstance(o, errors.MierloosError)]
    losers = [o for o in outcomes if isinstance(o, errors.MierloosError)]
    assert len(made) == 1
    # Losers saw the refund in flight, or (SQLite) could not get the lock in time.
    assert all(isinstance(e, errors.RefundNotAllowed | errors.Busy) for e in losers)
    assert len(gateway.refunds) == 1
    with engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(t.refunds)).scalar_one()
    assert rows == 1
    assert sql_catalog.seats_left(performance) == CAPACITY
    with SqlUnitOfWork(engine, clock) as uow:
        order = uow.orders.get(placed.order_id)
    assert order.status is OrderStatus.REFUNDED
    assert {ticket.status for ticket in order.tickets} == {TicketStatus.REFUNDED}


def test_ten_presses_of_one_partial_refund_form_refund_once(engine, clock, sql_catalog):
    _, gateway, refunds, placed = paid_order(engine, clock, sql_catalog)
    barrier = threading.Barrier(10)
    outcomes: list[object] = []

    def press() -> None:
        barrier.wait()
        try:
            outcomes.append(
                refunds.refund(placed.order_id, amount=Money(500), request_key="een-formulier")
            )
        except errors.MierloosError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=press) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    made = [o for o in outcomes if not isinstance(o, errors.MierloosError)]
    assert len(outcomes) == 10
    assert made, "at least one press got through"
    assert {refund.id for refund in made} == {made[0].id}
    # SQLite answers Busy to presses that could not get the lock in time; nothing else fails.
    assert all(isinstance(o, errors.Busy) for o in outcomes if o not in made)
    assert len(gateway.refunds) == 1
    with SqlUnitOfWork(engine, clock) as uow:
        [refund] = uow.refunds.for_order(placed.order_id)
    assert (refund.amount, refund.request_key) == (Money(500), "een-formulier")
