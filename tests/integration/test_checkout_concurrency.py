"""Many buyers at once, each on its own connection: never an oversell, never a 500."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from sqlalchemy import Engine, func, select

from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.money import Money
from mierloos_core.services.checkout import CheckoutRequest, checkout


def run_at_once(count: int, attempt: Callable[[int], object]) -> list[object]:
    """Run `attempt(i)` on `count` threads released together; collect results or exceptions."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def worker(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = attempt(i)
        except Exception as error:  # collected and judged by the test
            outcomes[i] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a buyer hung (deadlock?)"
    return outcomes


def tickets_holding_seats(engine: Engine, performance_id: object) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(t.tickets)
                .where(
                    t.tickets.c.performance_id == performance_id,
                    t.tickets.c.status.in_(["reserved", "valid"]),
                )
            ).scalar_one()
        )


def test_200_buyers_for_100_seats_never_oversell(engine, sql_catalog, clock):
    performance = sql_catalog.performance(capacity=100, price=Money(1800))
    wanted = [random.Random(i).randint(1, 4) for i in range(200)]

    def buy(i: int) -> int:
        request = CheckoutRequest(
            email=f"koper{i}@example.nl",
            name=f"Koper {i}",
            lines=[CartLine(performance_id=performance.id, quantity=wanted[i])],
        )
        checkout(SqlUnitOfWork(engine, clock), clock, request)
        return wanted[i]

    outcomes = run_at_once(200, buy)

    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, errors.NotEnoughSeats)
    ]
    assert unexpected == []
    sold = sum(o for o in outcomes if isinstance(o, int))
    refused = [wanted[i] for i, o in enumerate(outcomes) if isinstance(o, errors.NotEnoughSeats)]
    left = sql_catalog.seats_left(performance)
    assert sold <= 100
    assert left == 100 - sold
    assert tickets_holding_seats(engine, performance.id) == sold
    assert refused, "demand was five times the supply; someone must have been refused"
    assert all(
        o.message == errors.NotEnoughSeats.message for o in outcomes if isinstance(o, Exception)
    )
    # Nobody was refused while their seats were still there at the end.
    assert all(quantity > left for quantity in refused)


def test_a_coupon_with_10_uses_and_50_concurrent_orders(engine, sql_catalog, clock):
    performance = sql_catalog.performance(capacity=500)
    coupon = sql_catalog.coupon("TIENKEER", max_usages=10)

    def buy(i: int) -> str:
        request = CheckoutRequest(
            email=f"koper{i}@example.nl",
            name=f"Koper {i}",
            lines=[CartLine(performance_id=performance.id, quantity=2)],
            coupon_code="tienkeer",
        )
        return checkout(SqlUnitOfWork(engine, clock), clock, request).number

    outcomes = run_at_once(50, buy)

    placed = [o for o in outcomes if isinstance(o, str)]
    exhausted = [o for o in outcomes if isinstance(o, errors.CouponExhausted)]
    assert (len(placed), len(exhausted)) == (10, 40)
    assert sql_catalog.coupon_usage_count(coupon) == 10
    assert sql_catalog.seats_left(performance) == 500 - 20
    with engine.connect() as connection:
        usages = connection.execute(select(func.count()).select_from(t.coupon_usages)).scalar()
    assert usages == 10


def test_two_hot_performances_in_opposite_cart_orders_do_not_deadlock(engine, sql_catalog, clock):
    a = sql_catalog.performance(capacity=40)
    b = sql_catalog.performance(capacity=40)

    def buy(i: int) -> int:
        pair = [a, b] if i % 2 else [b, a]
        request = CheckoutRequest(
            email=f"koper{i}@example.nl",
            name="Koper",
            lines=[CartLine(performance_id=p.id, quantity=1) for p in pair],
        )
        checkout(SqlUnitOfWork(engine, clock), clock, request)
        return 1

    outcomes = run_at_once(60, buy)

    assert [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, errors.NotEnoughSeats)
    ] == []
    sold = sum(o for o in outcomes if isinstance(o, int))
    assert sold == 40
    assert sql_catalog.seats_left(a) == sql_catalog.seats_left(b) == 0
