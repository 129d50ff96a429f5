# ruff: noqa: F811 (the fixtures, imported, are test parameters here)
"""The door with reserved seating, on every store: a scan names the seat, and a seat let in
twice is noticed."""

from __future__ import annotations

import pytest

from mierloos_core.model.admissions import ScanResult, secret_hash
from mierloos_core.services.checkout import CheckoutPolicy, CheckoutRequest, checkout
from mierloos_core.services.door import Door, Entrance
from mierloos_core.services.door_offline import OfflineDoor
from mierloos_core.services.order_lifecycle import close_refunded, lock_order, settle_paid
from mierloos_entrypoints.web.checkin_models import check_in_answer
from tests.catalog_builders import CatalogBuilder
from tests.integration.test_uow_contract import make_uow  # noqa: F401  (the fixture)
from tests.seating_builders import reserved_performance


@pytest.fixture
def catalog(make_uow, clock) -> CatalogBuilder:
    return CatalogBuilder(make_uow, clock)


@pytest.fixture
def hall(catalog, make_uow, clock):
    return reserved_performance(catalog, make_uow, clock, rows=3, seats_per_row=6)


def paid_seat(make_uow, clock, hall, seat, email):
    request = CheckoutRequest(
        email=email, name=email.split("@")[0], lines=[], seats={hall.performance.id: (seat.id,)}
    )
    placed = checkout(make_uow(), clock, request, CheckoutPolicy())
    with make_uow() as uow:
        settle_paid(uow, lock_order(uow, placed.order_id), clock.now())
        uow.commit()
    with make_uow() as uow:
        return uow.orders.get(placed.order_id)


def test_a_scan_names_the_seat_and_warns_when_someone_else_is_in_on_it(hall, make_uow, clock):
    door = Door(make_uow, clock)
    entrance = Entrance(performance_id=hall.performance.id, door="Hoofdingang", staff="kassa")
    seat = hall.seat("2", 3)
    first = paid_seat(make_uow, clock, hall, seat, "eerste@example.nl")

    admitted = door.check_in(entrance, first.tickets[0].secret)

    assert admitted.result is ScanResult.ADMITTED
    assert admitted.seat == seat
    assert admitted.seat_taken is None
    assert "Zaal, rij 2, stoel 3" in check_in_answer(admitted).message
    again = door.check_in(entrance, first.tickets[0].secret)
    assert (again.result, again.seat) == (ScanResult.ALREADY_ADMITTED, seat)

    # The first ticket is refunded while its holder is inside; the seat is sold again.
    with make_uow() as uow:
        close_refunded(uow, lock_order(uow, first.id), clock.now())
        uow.commit()
    second = paid_seat(make_uow, clock, hall, seat, "tweede@example.nl")
    other = paid_seat(make_uow, clock, hall, hall.seat("2", 4), "derde@example.nl")

    warned = door.check_in(entrance, second.tickets[0].secret)

    assert warned.result is ScanResult.ADMITTED
    assert warned.seat_taken == admitted.admission
    answer = check_in_answer(warned)
    assert answer.seat_already_admitted is not None
    assert answer.ticket is not None
    assert answer.ticket.seat == "Zaal, rij 2, stoel 3"
    assert "Let op: op deze stoel is al iemand binnen" in answer.message
    # A neighbour's seat was never let in before: no warning.
    assert door.check_in(entrance, other.tickets[0].secret).seat_taken is None


def test_a_seat_whose_earlier_admission_was_taken_back_gives_no_warning(hall, make_uow, clock):
    door = Door(make_uow, clock)
    entrance = Entrance(performance_id=hall.performance.id, door="Zij", staff="deur")
    seat = hall.seat("1", 1)
    first = paid_seat(make_uow, clock, hall, seat, "eerste@example.nl")
    door.check_in(entrance, first.tickets[0].secret)
    assert door.undo_last(entrance) is not None
    with make_uow() as uow:
        close_refunded(uow, lock_order(uow, first.id), clock.now())
        uow.commit()
    second = paid_seat(make_uow, clock, hall, seat, "tweede@example.nl")

    assert door.check_in(entrance, second.tickets[0].secret).seat_taken is None


def test_the_offline_door_list_names_each_tickets_seat(hall, make_uow, clock):
    first = paid_seat(make_uow, clock, hall, hall.seat("1", 1), "eerste@example.nl")
    second = paid_seat(make_uow, clock, hall, hall.seat("3", 6), "tweede@example.nl")

    made = OfflineDoor(make_uow, clock).door_list(hall.performance.id)

    by_hash = {entry.secret_sha256: entry.seat for entry in made.entries}
    assert by_hash == {
        secret_hash(first.tickets[0].secret): "Zaal, rij 1, stoel 1",
        secret_hash(second.tickets[0].secret): "Zaal, rij 3, stoel 6",
    }
    with make_uow() as uow:
        assert uow.seating.seats_of_performance(hall.performance.id) == {
            first.tickets[0].id: hall.seat("1", 1),
            second.tickets[0].id: hall.seat("3", 6),
        }
