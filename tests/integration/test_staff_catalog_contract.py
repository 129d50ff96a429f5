# ruff: noqa: F811 (the contract fixtures, imported, are test parameters here)
"""The staff catalogue's port methods on the memory fake, SQLite and Postgres, and the races.

Capacity decreases race checkouts through the SQL repository: whatever the interleaving, the
seats held never exceed the capacity and `available_seats = capacity - held` holds after.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.files import Image
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.timeutil import AMSTERDAM
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.staff_catalog import PerformanceForm, StaffCatalog
from tests.integration.test_checkout_concurrency import run_at_once, tickets_holding_seats
from tests.integration.test_uow_contract import (  # noqa: F401 (fixtures)
    make_uow,
    pending_order,
    show_and_performance,
    stored,
)


def test_capacity_changes_move_the_free_seats_and_never_below_the_taken(
    make_uow, show_and_performance, clock
):
    _, performance = show_and_performance
    stored(make_uow, pending_order(clock, performance, seats=4))
    with make_uow() as uow:
        uow.seats.reserve({performance.id: 4})
        uow.commit()

    with make_uow() as uow:
        assert uow.performances.change_capacity(performance.id, 12) is True
        assert uow.performances.change_capacity(performance.id, 3) is False
        uow.commit()
    with make_uow() as uow:
        grown = uow.performances.get(performance.id)
        assert (grown.capacity, grown.available_seats) == (12, 8)
        assert uow.performances.change_capacity(performance.id, 4) is True
        uow.commit()
    with make_uow() as uow:
        shrunk = uow.performances.get(performance.id)
        assert (shrunk.capacity, shrunk.available_seats) == (4, 0)
        assert uow.performances.change_capacity(uuid.uuid4(), 10) is False


def test_orders_are_found_by_performance_and_status(make_uow, show_and_performance, clock):
    _, performance = show_and_performance
    paid = pending_order(clock, performance, seats=1, email="paid@example.nl")
    paid.mark_paid(clock.now())
    waiting = pending_order(clock, performance, seats=2)
    stored(make_uow, paid, waiting)

    with make_uow() as uow:
        assert uow.orders.ids_for_performance(performance.id, [OrderStatus.PAID]) == [paid.id]
        assert set(
            uow.orders.ids_for_performance(performance.id, [OrderStatus.PAID, OrderStatus.PENDING])
        ) == {paid.id, waiting.id}
        assert uow.orders.ids_for_performance(performance.id, [OrderStatus.REFUNDED]) == []
        assert uow.orders.ids_for_performance(performance.id, []) == []


def test_the_latest_upload_of_a_show(make_uow, show_and_performance, clock):
    show, _ = show_and_performance
    older = Image(
        show_id=show.id,
        original_key="images/a/original.png",
        content_type="image/png",
        created_at=clock.now(),
    )
    newer = Image(
        show_id=show.id,
        original_key="images/b/original.jpg",
        content_type="image/jpeg",
        created_at=clock.now() + timedelta(minutes=1),
    )
    with make_uow() as uow:
        assert uow.images.latest_for_show(show.id) is None
        uow.images.add(newer)
        uow.images.add(older)
        uow.commit()

    with make_uow() as uow:
        assert uow.images.latest_for_show(show.id) == newer


def _wall_time(moment: datetime) -> datetime:
    return moment.astimezone(AMSTERDAM).replace(tzinfo=None)


def test_capacity_decreases_racing_checkouts_never_oversell(engine, sql_catalog, clock):
    performance = sql_catalog.performance(capacity=60, price=Money(1500))
    staff = StaffCatalog(lambda: SqlUnitOfWork(engine, clock), clock)
    form = PerformanceForm(
        starts_at=_wall_time(performance.starts_at), price=Money(1500), capacity=60
    )
    shrinking = list(range(58, 10, -4))

    def attempt(i: int) -> object:
        if i % 4 == 0:  # every fourth thread is staff lowering the capacity
            capacity = shrinking[(i // 4) % len(shrinking)]
            staff.edit_performance(
                performance.id,
                PerformanceForm(starts_at=form.starts_at, price=form.price, capacity=capacity),
            )
            return ("capacity", capacity)
        request = CheckoutRequest(
            email=f"koper{i}@example.nl",
            name=f"Koper {i}",
            lines=[CartLine(performance_id=performance.id, quantity=3)],
        )
        checkout(SqlUnitOfWork(engine, clock), clock, request)
        return 3

    outcomes = run_at_once(48, attempt)

    unexpected = [
        o
        for o in outcomes
        if isinstance(o, Exception)
        and not isinstance(o, errors.NotEnoughSeats | errors.ValidationError | errors.Busy)
    ]
    assert unexpected == []
    with SqlUnitOfWork(engine, clock) as uow:
        final = uow.performances.get(performance.id)
    held = tickets_holding_seats(engine, performance.id)
    assert held == sum(o for o in outcomes if isinstance(o, int))
    assert held <= final.capacity
    assert final.available_seats == final.capacity - held
    assert final.status is PerformanceStatus.PUBLISHED
