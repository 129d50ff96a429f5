"""Many releases of seats (orders expiring, refunds), joins and offer jobs at once on Postgres:
no seat is offered twice, none is lost, and the counters always equal tickets plus holds."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import Engine, func, select

from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.waitlist import EntryStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import close_order, close_refunded, lock_order
from mierloos_core.services.waitlist import JoinRequest, Waitlists
from tests.integration.test_checkout_concurrency import run_at_once

CAPACITY = 30


@pytest.fixture
def pg(postgres_engine: Engine) -> Engine:
    from tests.integration.conftest import empty_all_tables

    empty_all_tables(postgres_engine)
    return postgres_engine


def patiently(action):
    """Run `action`, again when the database said Busy (a lock wait ran out)."""
    for _ in range(50):
        try:
            return action()
        except errors.Busy:
            continue
    raise AssertionError("busy fifty times")


def counters(engine: Engine, performance_id: uuid.UUID) -> tuple[int, int, int, int]:
    """(capacity, available, held for the list, tickets holding a seat)."""
    with engine.connect() as db:
        capacity, available = db.execute(
            select(t.performances.c.capacity, t.performances.c.available_seats).where(
                t.performances.c.id == performance_id
            )
        ).one()
        held = db.execute(
            select(t.waitlists.c.held).where(t.waitlists.c.performance_id == performance_id)
        ).scalar()
        tickets = db.execute(
            select(func.count())
            .select_from(t.tickets)
            .where(
                t.tickets.c.performance_id == performance_id,
                t.tickets.c.status.in_(["reserved", "valid"]),
            )
        ).scalar_one()
    return capacity, available, held or 0, tickets


def test_releases_joins_and_offer_jobs_racing(pg, clock) -> None:
    from tests.catalog_builders import CatalogBuilder

    catalog = CatalogBuilder(lambda: SqlUnitOfWork(pg, clock), clock)
    performance = catalog.performance(capacity=CAPACITY)
    lists = Waitlists(lambda: SqlUnitOfWork(pg, clock), clock)

    def buy(i: int) -> uuid.UUID:
        line = CartLine(performance_id=performance.id, quantity=1 + i % 2)
        request = CheckoutRequest(email=f"koper{i}@example.nl", name="Koper", lines=[line])
        return checkout(SqlUnitOfWork(pg, clock), clock, request).order_id

    orders = [buy(i) for i in range(20)]  # 30 seats: sold out
    paid = orders[::3]
    with SqlUnitOfWork(pg, clock) as uow:
        for order_id in paid:
            order = lock_order(uow, order_id)
            order.mark_paid(clock.now())
            uow.orders.update(order)
        uow.commit()
    for i in range(15):
        lists.join(
            JoinRequest(
                performance_id=performance.id,
                email=f"wacht{i}@example.nl",
                quantity=random.Random(i).randint(1, 3),
            )
        )

    def release(order_id: uuid.UUID) -> None:
        def once() -> None:
            with SqlUnitOfWork(pg, clock) as uow:
                order = lock_order(uow, order_id)
                if order.status is OrderStatus.PAID:
                    close_refunded(uow, order, clock.now())
                else:
                    close_order(uow, order, OrderStatus.EXPIRED, clock.now())
                uow.commit()

        patiently(once)

    def act(i: int) -> object:
        if i < len(orders):
            return release(orders[i])
        if i < len(orders) + 10:
            return patiently(lambda: lists.offer_held_seats(performance.id))
        request = JoinRequest(
            performance_id=performance.id, email=f"laat{i}@example.nl", quantity=1
        )
        return patiently(lambda: lists.join(request))

    outcomes = run_at_once(len(orders) + 20, act)

    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, errors.NotSoldOut)
    ]
    assert unexpected == []
    capacity, available, held, tickets = counters(pg, performance.id)
    assert capacity == available + held + tickets
    lists.offer_held_seats(performance.id)  # the jobs queued by the last releases

    capacity, available, held, tickets = counters(pg, performance.id)
    assert held == 0
    assert capacity == available + tickets
    with SqlUnitOfWork(pg, clock) as uow:
        entries = uow.waitlists.entries(performance.id)
        offers = {e.id: uow.orders.get(e.offer_order_id) for e in entries if e.offer_order_id}
    offered = [e for e in entries if e.status is EntryStatus.OFFERED]
    assert offered, "the seats that came back went to the list"
    # Every offer holds exactly its entry's seats, in an order of its own: none offered twice.
    assert len({o.id for o in offers.values()}) == len(offers)
    for entry in offered:
        assert len(offers[entry.id].seats_held() and offers[entry.id].tickets) == entry.quantity
    assert tickets == sum(e.quantity for e in offered)
    # None lost: whatever is on sale again is fewer seats than any waiting entry asks.
    waiting = [e for e in entries if e.status is EntryStatus.WAITING]
    assert all(e.quantity > available for e in waiting)
    with pg.connect() as db:
        jobs = db.execute(
            select(func.count()).select_from(t.jobs).where(t.jobs.c.type == "waitlist_offer")
        ).scalar_one()
    assert jobs >= 1
