"""Many buyers racing for the last seats of a limited price category and of its performance:
neither is ever oversold, and the counters equal what the ticket rows say."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine, func, select

from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import OrderStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import close_order, lock_order
from mierloos_core.services.price_categories import change_limit
from tests.integration.test_checkout_concurrency import run_at_once

SEATS_REFUSED = (errors.NotEnoughSeats, errors.PriceCategorySoldOut)


def tickets_holding_seats(engine: Engine, column, value) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(t.tickets)
                .where(column == value, t.tickets.c.status.in_(["reserved", "valid"]))
            ).scalar_one()
        )


def available(engine: Engine, category_id) -> int | None:
    with engine.connect() as connection:
        return connection.execute(
            select(t.price_categories.c.available).where(t.price_categories.c.id == category_id)
        ).scalar_one()


# (capacity, CJP limit, the refusal that must come): first the category runs out, then the
# performance (its regular seats going too).
SCENARIOS = [(100, 12, errors.PriceCategorySoldOut), (20, 15, errors.NotEnoughSeats)]


@pytest.mark.parametrize(("capacity", "limit", "bottleneck"), SCENARIOS)
def test_buyers_racing_for_a_limited_category_and_the_last_seats(
    engine, sql_catalog, clock, capacity, limit, bottleneck
):
    performance = sql_catalog.performance(capacity=capacity)
    cjp = sql_catalog.category(performance, "CJP", limit=limit)
    wanted = [random.Random(i).randint(1, 3) for i in range(80)]
    in_cjp = [i % 2 == 0 for i in range(80)]

    def buy(i: int) -> tuple[bool, int]:
        line = CartLine(
            performance_id=performance.id,
            quantity=wanted[i],
            category_id=cjp.id if in_cjp[i] else None,
        )
        request = CheckoutRequest(email=f"koper{i}@example.nl", name="Koper", lines=[line])
        checkout(SqlUnitOfWork(engine, clock), clock, request)
        return in_cjp[i], wanted[i]

    outcomes = run_at_once(80, buy)

    assert [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, SEATS_REFUSED)
    ] == []
    placed = [o for o in outcomes if isinstance(o, tuple)]
    sold_cjp = sum(n for cjp_line, n in placed if cjp_line)
    sold = sum(n for _, n in placed)
    assert sold <= capacity
    assert sold_cjp <= limit
    assert sql_catalog.seats_left(performance) == capacity - sold
    assert available(engine, cjp.id) == limit - sold_cjp
    assert tickets_holding_seats(engine, t.tickets.c.performance_id, performance.id) == sold
    assert tickets_holding_seats(engine, t.tickets.c.category_id, cjp.id) == sold_cjp
    assert any(isinstance(o, bottleneck) for o in outcomes)


def test_closing_an_order_gives_seats_back_to_both(engine, sql_catalog, clock):
    performance = sql_catalog.performance(capacity=10)
    cjp = sql_catalog.category(performance, "CJP", limit=4)
    request = CheckoutRequest(
        email="an@example.nl",
        name="An",
        lines=[
            CartLine(performance_id=performance.id, quantity=3, category_id=cjp.id),
            CartLine(performance_id=performance.id, quantity=2),
        ],
    )
    placed = checkout(SqlUnitOfWork(engine, clock), clock, request)
    assert (sql_catalog.seats_left(performance), available(engine, cjp.id)) == (5, 1)

    with SqlUnitOfWork(engine, clock) as uow:
        order = lock_order(uow, placed.order_id)
        assert close_order(uow, order, OrderStatus.EXPIRED, clock.now())
        uow.commit()
    with SqlUnitOfWork(engine, clock) as uow:
        again = lock_order(uow, placed.order_id)
        assert not close_order(uow, again, OrderStatus.CANCELLED, clock.now())  # only once

    assert (sql_catalog.seats_left(performance), available(engine, cjp.id)) == (10, 4)


def test_staff_changing_a_limit_while_buyers_buy_never_oversell_it(engine, sql_catalog, clock):
    performance = sql_catalog.performance(capacity=200)
    [regular] = sql_catalog.categories(performance)
    limits = [None, 30, 20, 25, 15, None, 18, 12]

    def act(i: int) -> object:
        if i % 5 == 0:
            with SqlUnitOfWork(engine, clock) as uow:
                changed = change_limit(uow, regular.id, limits[(i // 5) % len(limits)])
                uow.commit()
            return changed
        line = CartLine(performance_id=performance.id, quantity=1 + i % 3)
        request = CheckoutRequest(email=f"koper{i}@example.nl", name="Koper", lines=[line])
        return checkout(SqlUnitOfWork(engine, clock), clock, request)

    outcomes = run_at_once(40, act)

    allowed = (*SEATS_REFUSED, errors.ValidationError)
    assert [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, allowed)] == []
    held = tickets_holding_seats(engine, t.tickets.c.category_id, regular.id)
    with SqlUnitOfWork(engine, clock) as uow:
        final = uow.price_categories.get(regular.id)
    assert final is not None
    if final.limit is not None:
        assert final.available == final.limit - held
    assert sql_catalog.seats_left(performance) == 200 - held
