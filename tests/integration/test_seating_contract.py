# ruff: noqa: F811 (the fixtures, imported, are test parameters here)
"""One set of assertions for the seating port and reserved checkout: memory, SQLite, Postgres."""

from __future__ import annotations

import pytest

from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.seating import SeatState
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import close_order, lock_order
from tests.catalog_builders import CatalogBuilder
from tests.integration.test_uow_contract import make_uow  # noqa: F401  (the fixture)
from tests.seating_builders import assert_counters_match_seats, reserved_performance, seat_counts


@pytest.fixture
def catalog(make_uow, clock) -> CatalogBuilder:
    return CatalogBuilder(make_uow, clock)


@pytest.fixture
def hall(catalog, make_uow, clock):
    def wheelchair(plan):
        seat = plan.seat_at("Zaal", "1", 1)
        return {seat.id: {"wheelchair": True}, plan.seats[-1].id: {"blocked": True}}

    return reserved_performance(
        catalog,
        make_uow,
        clock,
        rows=4,
        seats_per_row=6,
        zones=(("1", 2), ("2", 2)),
        adjust=wheelchair,
    )


def request(hall, *, seats=(), best=0, category=None):
    lines = [CartLine(performance_id=hall.performance.id, quantity=best, category_id=category)]
    return CheckoutRequest(
        email="bezoeker@example.nl",
        name="An Bezoeker",
        lines=lines if best else [],
        seats={hall.performance.id: tuple(s.id for s in seats)} if seats else {},
    )


def test_a_plan_version_comes_back_as_it_was_stored(hall, make_uow):
    with make_uow() as uow:
        plan = uow.seating.get_plan(hall.plan.id)
        versions = uow.seating.plans_of_hall(hall.plan.hall_id)
        hall_row = uow.seating.get_hall(hall.plan.hall_id)
        plan_of = uow.seating.plan_of(hall.performance.id)
    assert plan == hall.plan
    assert [p.version for p in versions] == [1, 2]
    assert hall_row is not None
    assert plan_of == hall.plan.id
    assert plan.seat_at("Zaal", "1", 1).wheelchair


def test_taking_counted_seats_says_which_performances_sell_numbered_ones(hall, make_uow, catalog):
    free = catalog.performance(capacity=5)
    with make_uow() as uow:
        plans = uow.seats.reserve({hall.performance.id: 1, free.id: 2})
        # not committed: rolled back
    assert plans == {hall.performance.id: hall.plan.id}


def test_take_changes_only_free_seats_and_says_how_many(hall, make_uow, catalog, clock):
    placed = checkout(make_uow(), clock, request(hall, seats=[hall.seat("2", 2)]))
    other = checkout(make_uow(), clock, request(hall, seats=[hall.seat("3", 3)]))
    with make_uow() as uow:
        ticket = uow.orders.get(other.order_id).tickets[0].id
        assert uow.seating.release(other.order_id) == 1
        # one seat taken by the first order, one still free: only the free one changes
        wanted = {hall.seat("2", 2).id: ticket, hall.seat("2", 3).id: ticket}
        assert uow.seating.take(hall.performance.id, wanted, other.order_id, SeatState.HELD) == 1
        # rolled back: not committed
    with make_uow() as uow:
        states = {s.seat_id: s for s in uow.seating.states(hall.performance.id)}
        assert states[hall.seat("2", 3).id].state is SeatState.FREE
        assert states[hall.seat("2", 2).id].order_id == placed.order_id
        assert uow.seating.sell(placed.order_id) == 1
        assert uow.seating.sell(placed.order_id) == 0
        uow.commit()
    with make_uow() as uow:
        by_ticket = uow.seating.seats_of_order(placed.order_id)
        order = uow.orders.get(placed.order_id)
    assert list(by_ticket.values()) == [hall.seat("2", 2)]
    assert set(by_ticket) == {order.tickets[0].id}
    assert seat_counts(make_uow, hall)[SeatState.SOLD] == 1


def test_release_frees_an_orders_seats_once(hall, make_uow, clock):
    placed = checkout(make_uow(), clock, request(hall, best=3))
    with make_uow() as uow:
        order = uow.orders.get(placed.order_id)
        first = order.tickets[0].id
        assert uow.seating.release(placed.order_id, [first]) == 1
        assert uow.seating.release(placed.order_id, [first]) == 0
        assert uow.seating.release(placed.order_id) == 2
        assert uow.seating.release(placed.order_id) == 0


def test_reserved_checkout_and_expiry_keep_counters_equal_to_seat_states(hall, make_uow, clock):
    second_zone = hall.zone_categories["2"]
    best = checkout(make_uow(), clock, request(hall, best=2, category=second_zone))
    chosen = checkout(
        make_uow(), clock, request(hall, seats=[hall.seat("1", 1), hall.seat("1", 2)])
    )
    assert seat_counts(make_uow, hall) == {
        SeatState.FREE: 19,
        SeatState.HELD: 4,
        SeatState.BLOCKED: 1,
    }
    assert_counters_match_seats(make_uow, hall)
    with make_uow() as uow:
        seats = uow.seating.seats_of_order(best.order_id)
    assert {s.zone for s in seats.values()} == {"2"}
    for order_id in (best.order_id, chosen.order_id, chosen.order_id):
        with make_uow() as uow:
            close_order(uow, lock_order(uow, order_id), OrderStatus.EXPIRED, clock.now())
            uow.commit()
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 23, SeatState.BLOCKED: 1}
    assert_counters_match_seats(make_uow, hall)


def test_a_refused_checkout_names_the_seats_and_holds_nothing(hall, make_uow, clock):
    checkout(make_uow(), clock, request(hall, seats=[hall.seat("3", 3)]))
    blocked = hall.plan.seats[-1]
    with pytest.raises(errors.SeatsUnavailable) as refused:
        checkout(
            make_uow(), clock, request(hall, seats=[hall.seat("3", 3), blocked, hall.seat("3", 4)])
        )
    assert refused.value.details == {
        "taken": ["Zaal, rij 3, stoel 3"],
        "blocked": ["Zaal, rij 4, stoel 6"],
    }
    assert seat_counts(make_uow, hall)[SeatState.HELD] == 1
    assert_counters_match_seats(make_uow, hall)


def test_every_hall_is_listed_once(hall, make_uow):
    from mierloos_core.model.seating import Hall

    other = Hall(name="Kleine zaal")
    with make_uow() as uow:
        uow.seating.add_hall(other)
        uow.commit()
    with make_uow() as uow:
        halls = uow.seating.halls()
    assert sorted(h.id for h in halls) == sorted([hall.plan.hall_id, other.id])
    assert next(h for h in halls if h.id == other.id).name == "Kleine zaal"
