"""Buyers racing for numbered seats on a 1,000-seat plan, on real threads against Postgres: no
seat is sold twice, none is lost, and the counters equal the seat states."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from sqlalchemy import select

from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.seating import SeatState
from mierloos_core.services.checkout import CheckoutPolicy, CheckoutRequest, checkout
from tests.catalog_builders import CatalogBuilder
from tests.integration.conftest import empty_all_tables
from tests.integration.test_checkout_concurrency import run_at_once
from tests.seating_builders import assert_counters_match_seats, reserved_performance

REFUSED = (errors.SeatsUnavailable, errors.NoAdjacentSeats, errors.NotEnoughSeats)
POLICY = CheckoutPolicy(max_unpaid_per_performance=0)
THREADS = 24  # under the test engine's 30 connections


@pytest.fixture
def make_uow(postgres_engine, clock):
    empty_all_tables(postgres_engine)
    return lambda: SqlUnitOfWork(postgres_engine, clock)


@pytest.fixture
def hall(make_uow, clock):
    catalog = CatalogBuilder(make_uow, clock)
    return reserved_performance(catalog, make_uow, clock, rows=25, seats_per_row=40)


def placed_seats(make_uow, hall):
    """Every order's seats as stored, and every held seat's order."""
    with make_uow() as uow:
        states = uow.seating.states(hall.performance.id)
        ids = uow.connection.execute(select(t.orders.c.id)).scalars().all()
        orders = [uow.orders.get(order_id) for order_id in ids]
        per_order = {order.id: uow.seating.seats_of_order(order.id) for order in orders}
    return states, orders, per_order


def check_nothing_sold_twice_or_lost(make_uow, hall, accepted):
    states, orders, per_order = placed_seats(make_uow, hall)
    held = [s for s in states if s.state is SeatState.HELD]
    # every accepted order has exactly a seat per ticket, and no other order holds a seat
    assert {order.id for order in orders} == set(accepted)
    for order in orders:
        assert set(per_order[order.id]) == {t.id for t in order.tickets}
    assert len(held) == sum(len(t) for t in per_order.values())
    assert len({s.ticket_id for s in held}) == len(held)
    assert Counter(s.order_id for s in held) == {o.id: len(o.tickets) for o in orders}
    assert_counters_match_seats(make_uow, hall)
    return per_order


def test_buyers_clicking_overlapping_seats_get_each_seat_once(make_uow, hall, clock):
    contested = [hall.seat(str(row), n) for row in (8, 9) for n in range(15, 26)]

    def buy(i: int):
        rng = random.Random(i)
        seats = rng.sample(contested, rng.randint(1, 4))
        request = CheckoutRequest(
            email=f"klant{i}@example.nl",
            name="Klant",
            lines=[],
            seats={hall.performance.id: tuple(s.id for s in seats)},
        )
        return checkout(make_uow(), clock, request, POLICY), seats

    outcomes = run_at_once(THREADS * 2, buy)

    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, REFUSED)]
    assert unexpected == []
    accepted = {o[0].order_id: o[1] for o in outcomes if not isinstance(o, Exception)}
    assert accepted, "nobody got seats"
    assert any(isinstance(o, errors.SeatsUnavailable) for o in outcomes)
    per_order = check_nothing_sold_twice_or_lost(make_uow, hall, accepted)
    for order_id, chosen in accepted.items():  # each got exactly the seats they clicked
        assert sorted(per_order[order_id].values(), key=lambda s: s.id) == sorted(
            chosen, key=lambda s: s.id
        )


def test_best_available_buyers_at_once_fill_the_hall_without_doubles(make_uow, hall, clock):
    counter = itertools.count()

    def buy(i: int):
        n = random.Random(i).randint(1, 6)
        line = CartLine(performance_id=hall.performance.id, quantity=n)
        request = CheckoutRequest(email=f"koper{i}@example.nl", name="Koper", lines=[line])
        return checkout(make_uow(), clock, request, POLICY)

    accepted: list = []
    while True:  # waves of buyers until a wave places nothing: the hall is (nearly) full
        wave = run_at_once(THREADS, lambda _: buy(next(counter)))
        unexpected = [o for o in wave if isinstance(o, Exception) and not isinstance(o, REFUSED)]
        assert unexpected == []
        placed = [o.order_id for o in wave if not isinstance(o, Exception)]
        if not placed:
            break
        accepted.extend(placed)

    per_order = check_nothing_sold_twice_or_lost(make_uow, hall, accepted)
    for seats in per_order.values():  # best available: side by side in one row
        ordered = sorted(seats.values(), key=lambda s: s.column)
        assert len({s.row_key for s in ordered}) == 1
        assert all(a.is_beside(b) for a, b in itertools.pairwise(ordered))
    free = sum(1 for s in placed_seats(make_uow, hall)[0] if s.state is SeatState.FREE)
    assert free < 60  # only what no buyer of 1 to 6 seats side by side could still use
