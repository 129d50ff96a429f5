"""Reserved seating through checkout and the order's life, on the memory fakes."""

from __future__ import annotations

import uuid

import pytest

from mierloos_adapters.email_templates import JinjaEmailTemplates
from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import MemoryStorage, MemoryUnitOfWork
from mierloos_adapters.memory.reports import MemoryReports
from mierloos_core import errors
from mierloos_core.model.accounts import Role, User
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import OrderStatus, PaymentMethod
from mierloos_core.model.seating import SeatState
from mierloos_core.model.timeutil import local
from mierloos_core.ports.reports import LineFilter
from mierloos_core.services.catalog import show_page
from mierloos_core.services.checkout import CheckoutPolicy, CheckoutRequest, checkout
from mierloos_core.services.counter import Counter, CounterSale
from mierloos_core.services.notifications import order_context
from mierloos_core.services.order_lifecycle import (
    close_order,
    close_refunded,
    lock_order,
    settle_paid,
)
from mierloos_core.services.staff_catalog import PerformanceForm, StaffCatalog
from mierloos_core.services.tickets import Tickets
from mierloos_core.services.waitlist import JoinRequest, WaitlistPolicy, Waitlists
from tests.seating_builders import assert_counters_match_seats, reserved_performance, seat_counts


@pytest.fixture
def make_uow(store, clock):
    return lambda: MemoryUnitOfWork(store, clock)


@pytest.fixture
def hall(catalog, make_uow, clock):
    return reserved_performance(catalog, make_uow, clock, rows=5, seats_per_row=10)


def buy(uow, clock, hall, *, seats=(), best=0, category=None, policy=None):
    lines = []
    if best:
        lines.append(
            CartLine(performance_id=hall.performance.id, quantity=best, category_id=category)
        )
    request = CheckoutRequest(
        email="bezoeker@example.nl",
        name="An Bezoeker",
        lines=lines,
        seats={hall.performance.id: tuple(s.id for s in seats)} if seats else {},
    )
    return checkout(uow, clock, request, policy or CheckoutPolicy())


def order_seats(make_uow, order_id):
    with make_uow() as uow:
        order = uow.orders.get(order_id)
        by_ticket = uow.seating.seats_of_order(order_id)
    return order, by_ticket


def test_putting_a_performance_on_a_plan_makes_its_seats_its_capacity(hall, make_uow):
    seat_map = hall.seating.seat_map(hall.performance.id)
    assert len(seat_map.seats) == 50
    assert seat_map.free == 50
    assert {s.category_name for s in seat_map.seats} == {"Regulier"}
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 50}
    assert_counters_match_seats(make_uow, hall)


def test_blocked_seats_are_not_sold_and_do_not_count(catalog, make_uow, clock):
    def block_two(plan):
        return {plan.seats[0].id: {"blocked": True}, plan.seats[1].id: {"blocked": True}}

    hall = reserved_performance(catalog, make_uow, clock, rows=2, seats_per_row=5, adjust=block_two)
    assert hall.plan.version == 2
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 8, SeatState.BLOCKED: 2}
    assert_counters_match_seats(make_uow, hall)
    with pytest.raises(errors.SeatsUnavailable) as refused:
        buy(make_uow(), clock, hall, seats=[hall.plan.seats[0]])
    assert refused.value.details == {"blocked": ["Zaal, rij 1, stoel 1"]}


def test_chosen_seats_are_held_for_the_order_and_named_on_its_tickets(
    hall, make_uow, clock, catalog
):
    chosen = [hall.seat("3", 4), hall.seat("3", 5)]
    placed = buy(make_uow(), clock, hall, seats=chosen)

    order, by_ticket = order_seats(make_uow, placed.order_id)
    assert placed.total == catalog.categories(hall.performance)[0].price * 2
    assert len(order.tickets) == 2
    assert sorted(by_ticket.values(), key=lambda s: s.number) == chosen
    assert {t.id for t in order.tickets} == set(by_ticket)
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 48, SeatState.HELD: 2}
    assert_counters_match_seats(make_uow, hall)


def test_best_available_gives_adjacent_seats_in_the_middle_a_third_back(hall, make_uow, clock):
    placed = buy(make_uow(), clock, hall, best=3)
    _, by_ticket = order_seats(make_uow, placed.order_id)
    seats = sorted(by_ticket.values(), key=lambda s: s.number)
    assert {s.row for s in seats} == {"2"}  # rows 1-5: a third back of 4 rows is row 2
    assert [s.number for s in seats] == [4, 5, 6]
    assert_counters_match_seats(make_uow, hall)


def test_chosen_and_best_available_of_one_performance_go_together(hall, make_uow, clock):
    chosen = [hall.seat("5", 1)]
    placed = buy(make_uow(), clock, hall, seats=chosen, best=2)
    order, by_ticket = order_seats(make_uow, placed.order_id)
    assert len(order.tickets) == 3
    assert hall.seat("5", 1) in by_ticket.values()
    assert seat_counts(make_uow, hall)[SeatState.HELD] == 3
    assert_counters_match_seats(make_uow, hall)


def test_a_taken_seat_refuses_the_whole_order_and_holds_nothing(hall, make_uow, clock):
    buy(make_uow(), clock, hall, seats=[hall.seat("1", 5)])
    before = seat_counts(make_uow, hall)
    stranger = uuid.uuid4()
    with pytest.raises(errors.SeatsUnavailable) as refused:
        buy(make_uow(), clock, hall, seats=[hall.seat("1", 4), hall.seat("1", 5)])
    assert refused.value.details == {"taken": ["Zaal, rij 1, stoel 5"]}
    with pytest.raises(errors.SeatsUnavailable) as refused:
        checkout(
            make_uow(),
            clock,
            CheckoutRequest(
                email="a@example.nl", name="A", lines=[], seats={hall.performance.id: (stranger,)}
            ),
        )
    assert refused.value.details == {"not_in_plan": [str(stranger)]}
    assert seat_counts(make_uow, hall) == before
    assert_counters_match_seats(make_uow, hall)
    with make_uow() as uow:
        assert len(uow.orders.list()) == 1


def test_more_seats_than_the_order_maximum_are_refused(hall, make_uow, clock):
    seats = [hall.seat("4", n) for n in range(1, 8)]
    with pytest.raises(errors.TooManySeats) as refused:
        buy(make_uow(), clock, hall, seats=seats, policy=CheckoutPolicy(max_tickets_per_line=6))
    assert refused.value.details == {"maximum": 6}
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 50}


def test_a_companion_seat_needs_its_wheelchair_place_when_the_rule_is_on(catalog, make_uow, clock):
    def wheelchair(plan):
        wheel, companion = plan.seat_at("Zaal", "1", 1), plan.seat_at("Zaal", "1", 2)
        return {wheel.id: {"wheelchair": True}, companion.id: {"companion": True}}

    hall = reserved_performance(
        catalog, make_uow, clock, rows=2, seats_per_row=6, adjust=wheelchair
    )
    companion, wheel = hall.seat("1", 2), hall.seat("1", 1)
    with pytest.raises(errors.SeatsUnavailable) as refused:
        buy(make_uow(), clock, hall, seats=[companion])
    assert refused.value.details == {"companion_without_wheelchair": ["Zaal, rij 1, stoel 2"]}
    assert seat_counts(make_uow, hall)[SeatState.HELD] == 0
    buy(make_uow(), clock, hall, seats=[companion], policy=CheckoutPolicy(companion_rule=False))
    buy(make_uow(), clock, hall, seats=[wheel])
    assert seat_counts(make_uow, hall)[SeatState.HELD] == 2
    assert_counters_match_seats(make_uow, hall)


def test_no_row_with_enough_seats_side_by_side_is_a_clear_refusal(catalog, make_uow, clock):
    hall = reserved_performance(catalog, make_uow, clock, rows=2, seats_per_row=4)
    buy(make_uow(), clock, hall, seats=[hall.seat("1", 2), hall.seat("2", 3)])
    with pytest.raises(errors.NoAdjacentSeats):
        buy(make_uow(), clock, hall, best=3)
    assert seat_counts(make_uow, hall)[SeatState.HELD] == 2
    assert_counters_match_seats(make_uow, hall)


def test_zones_sell_in_their_own_category(catalog, make_uow, clock):
    hall = reserved_performance(
        catalog, make_uow, clock, rows=4, seats_per_row=6, zones=(("1", 2), ("2", 2))
    )
    second = hall.zone_categories["2"]
    placed = buy(make_uow(), clock, hall, best=2, category=second)
    order, by_ticket = order_seats(make_uow, placed.order_id)
    assert {s.zone for s in by_ticket.values()} == {"2"}
    assert {t.category_id for t in order.tickets} == {second}
    chosen = buy(make_uow(), clock, hall, seats=[hall.seat("1", 1), hall.seat("4", 1)])
    order, _ = order_seats(make_uow, chosen.order_id)
    assert sorted(str(t.category_id) for t in order.tickets) == sorted(
        [str(hall.zone_categories["1"]), str(second)]
    )
    assert_counters_match_seats(make_uow, hall)


def test_seats_go_back_once_when_the_order_expires(hall, make_uow, clock):
    placed = buy(make_uow(), clock, hall, best=4)
    for _ in range(2):
        with make_uow() as uow:
            order = lock_order(uow, placed.order_id)
            close_order(uow, order, OrderStatus.EXPIRED, clock.now())
            uow.commit()
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 50}
    assert_counters_match_seats(make_uow, hall)
    again = buy(make_uow(), clock, hall, best=4)  # the same best seats are free again
    _, by_ticket = order_seats(make_uow, again.order_id)
    assert len(by_ticket) == 4


def test_a_paid_order_sells_its_seats_and_a_refund_frees_them(hall, make_uow, clock):
    placed = buy(make_uow(), clock, hall, seats=[hall.seat("2", 2)])
    with make_uow() as uow:
        order = lock_order(uow, placed.order_id)
        order.mark_paid(clock.now())
        uow.orders.update(order)
        assert uow.seating.sell(order.id) == 1
        uow.commit()
    assert seat_counts(make_uow, hall)[SeatState.SOLD] == 1
    for _ in range(2):
        with make_uow() as uow:
            order = lock_order(uow, placed.order_id)
            close_refunded(uow, order, clock.now())
            uow.commit()
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 50}
    assert_counters_match_seats(make_uow, hall)


def test_a_free_seating_performance_refuses_chosen_seats(catalog, make_uow, clock):
    performance = catalog.performance(capacity=20)
    with pytest.raises(errors.SeatsUnavailable):
        checkout(
            make_uow(),
            clock,
            CheckoutRequest(
                email="a@example.nl",
                name="A",
                lines=[],
                seats={performance.id: (uuid.uuid4(),)},
            ),
        )
    assert catalog.seats_left(performance) == 20


def test_a_plan_goes_on_a_performance_only_before_it_sold_anything(catalog, make_uow, clock):
    hall = reserved_performance(catalog, make_uow, clock, rows=2, seats_per_row=3)
    with pytest.raises(errors.InvalidTransition):
        hall.seating.put_on_sale(hall.performance.id, hall.plan.id, hall.zone_categories)
    sold = catalog.performance(capacity=10)
    checkout(
        make_uow(),
        clock,
        CheckoutRequest(
            email="a@example.nl", name="A", lines=[CartLine(performance_id=sold.id, quantity=1)]
        ),
    )
    with pytest.raises(errors.InvalidTransition):
        hall.seating.put_on_sale(sold.id, hall.plan.id, {"A": catalog.categories(sold)[0].id})
    fresh = catalog.performance(capacity=10)
    with pytest.raises(errors.ValidationError):
        hall.seating.put_on_sale(fresh.id, hall.plan.id, {})


def test_tickets_and_the_confirmation_mail_name_each_seat(hall, make_uow, clock):
    placed = buy(make_uow(), clock, hall, seats=[hall.seat("2", 7), hall.seat("2", 6)])
    with make_uow() as uow:
        settle_paid(uow, lock_order(uow, placed.order_id), clock.now())
        uow.commit()
    renderer = RecordingRenderer()
    tickets = Tickets(make_uow, clock, renderer, MemoryStorage(), SiteLinks("https://t.example"))
    tickets.generate_pdf(placed.order_id)
    [documents] = renderer.calls
    assert sorted(d.seat for d in documents) == ["Zaal, rij 2, stoel 6", "Zaal, rij 2, stoel 7"]
    with make_uow() as uow:
        context = order_context(
            uow, uow.orders.get(placed.order_id), SiteLinks("https://t.example")
        )
    [line] = context["lines"]
    assert sorted(line["seats"]) == ["Zaal, rij 2, stoel 6", "Zaal, rij 2, stoel 7"]
    mail = JinjaEmailTemplates().render("order_confirmed", to="a@example.nl", context=context)
    assert "Zaal, rij 2, stoel 7" in mail.text
    assert "Zaal, rij 2, stoel 7" in mail.html


class RecordingRenderer:
    def __init__(self):
        self.calls = []

    def render(self, tickets):
        self.calls.append(list(tickets))
        return b"%PDF-1.4 test"


def test_the_counter_sells_picked_seats_and_the_best_available(hall, make_uow, clock, store):
    staff = User(
        email="kassa@example.nl",
        name="Kassa",
        password_hash="x",
        created_at=clock.now(),
        role=Role.ADMIN,
    )
    store.users[staff.id] = staff
    counter = Counter(make_uow, clock)
    picked = counter.sell(
        CounterSale(
            lines=[CartLine(performance_id=hall.performance.id, quantity=2)],
            seats={hall.performance.id: (hall.seat("5", 1).id,)},
            method=PaymentMethod.CASH,
            staff_id=staff.id,
        )
    )
    _, by_ticket = order_seats(make_uow, picked.order_id)
    assert len(by_ticket) == 3
    assert hall.seat("5", 1) in by_ticket.values()
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 47, SeatState.SOLD: 3}
    with pytest.raises(errors.SeatsUnavailable):
        counter.sell(
            CounterSale(
                lines=[],
                seats={hall.performance.id: (hall.seat("5", 1).id,)},
                method=PaymentMethod.CASH,
                staff_id=staff.id,
            )
        )
    assert_counters_match_seats(make_uow, hall)


def test_staff_cannot_change_the_capacity_of_a_performance_on_a_plan(hall, make_uow, clock):
    staff = StaffCatalog(make_uow, clock)
    form = PerformanceForm(
        starts_at=local(hall.performance.starts_at).replace(tzinfo=None),
        price=hall.performance.price,
        capacity=60,
        hall="Grote zaal",
    )
    with pytest.raises(errors.ValidationError) as refused:
        staff.edit_performance(hall.performance.id, form)
    assert "zaalplan" in str(refused.value.details)
    assert_counters_match_seats(make_uow, hall)


def test_seats_that_come_back_go_to_the_waiting_list_as_numbered_seats(
    catalog, make_uow, clock, store
):
    hall = reserved_performance(catalog, make_uow, clock, rows=2, seats_per_row=3)
    first = buy(make_uow(), clock, hall, best=3)
    buy(make_uow(), clock, hall, best=3)
    lists = Waitlists(make_uow, clock, WaitlistPolicy(offer_hours=24))
    lists.join(
        JoinRequest(performance_id=hall.performance.id, email="wacht@example.nl", quantity=2)
    )
    with make_uow() as uow:
        close_order(uow, lock_order(uow, first.order_id), OrderStatus.EXPIRED, clock.now())
        uow.commit()
    assert seat_counts(make_uow, hall)[SeatState.FREE] == 3  # free, but held for the list
    assert_counters_match_seats(make_uow, hall)

    assert lists.offer_held_seats(hall.performance.id)["offered"] == 1
    offer = next(e for e in store.waitlist_entries.values() if e.offer_order_id is not None)
    _, by_ticket = order_seats(make_uow, offer.offer_order_id)
    assert len(by_ticket) == 2
    assert len({s.row for s in by_ticket.values()}) == 1
    assert seat_counts(make_uow, hall) == {SeatState.FREE: 1, SeatState.HELD: 5}
    assert_counters_match_seats(make_uow, hall)


def test_the_ticket_export_names_each_seat(hall, make_uow, clock, store):
    placed = buy(make_uow(), clock, hall, seats=[hall.seat("3", 5)], best=1)
    with make_uow() as uow:
        settle_paid(uow, lock_order(uow, placed.order_id), clock.now())
        uow.commit()

    lines = list(MemoryReports(store).ticket_lines(LineFilter()))

    _, seats = order_seats(make_uow, placed.order_id)
    assert sorted(line.seat for line in lines) == sorted(s.ref.describe() for s in seats.values())
    assert "Zaal, rij 3, stoel 5" in {line.seat for line in lines}


def test_the_show_page_tells_numbered_seating_and_open_waiting_lists_apart(
    hall, catalog, make_uow, clock
):
    with make_uow() as uow:
        show = uow.shows.get(hall.performance.show_id)
    free_seating = catalog.performance(show)
    Waitlists(make_uow, clock, WaitlistPolicy(offer_hours=24)).set_enabled(free_seating.id, False)

    page = show_page(make_uow(), clock.now(), show.slug)

    assert {p.id for p in page.upcoming} == {hall.performance.id, free_seating.id}
    assert page.numbered == {hall.performance.id}
    assert page.waitlists_open == {hall.performance.id}
