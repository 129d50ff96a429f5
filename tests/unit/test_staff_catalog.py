"""Staff's catalogue service: shows, performances, capacity and the status rules."""

from __future__ import annotations

import contextlib
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance, PerformanceStatus
from mierloos_core.model.coupons import Coupon
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.timeutil import AMSTERDAM
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.staff_catalog import (
    PerformanceForm,
    ShowForm,
    StaffCatalog,
    from_amsterdam,
    slugify,
)
from tests.catalog_builders import CatalogBuilder

# 1 March 2026, 13:00 in Mierlo (winter time, UTC+1).
NEXT_WEEK = datetime(2026, 3, 8, 20, 15)


@pytest.fixture
def staff(store: MemoryStore, clock: FixedClock) -> StaffCatalog:
    return StaffCatalog(lambda: MemoryUnitOfWork(store, clock), clock)


def a_performance(**changes: object) -> PerformanceForm:
    values: dict[str, object] = {
        "starts_at": NEXT_WEEK,
        "price": Money(2250),
        "capacity": 100,
        "hall": "Grote zaal",
    }
    values.update(changes)
    return PerformanceForm(**values)  # type: ignore[arg-type]


def fields(error: pytest.ExceptionInfo[errors.ValidationError]) -> set[str]:
    found = error.value.details["fields"]
    assert isinstance(found, dict)
    return set(found)


def buy(
    store: MemoryStore,
    clock: FixedClock,
    performance: Performance,
    seats: int,
    email: str = "jan@example.nl",
) -> uuid.UUID:
    placed = checkout(
        MemoryUnitOfWork(store, clock),
        clock,
        CheckoutRequest(
            email=email,
            name="Jan",
            lines=[CartLine(performance_id=performance.id, quantity=seats, added_at=clock.now())],
        ),
    )
    return placed.order_id


def buy_many(store: MemoryStore, clock: FixedClock, performance: Performance, seats: int) -> None:
    """`seats` seats in orders of at most 10 (the limits per line and per buyer)."""
    while seats > 0:
        buy(store, clock, performance, min(seats, 10), f"koper{seats}@example.nl")
        seats -= 10


def pay(store: MemoryStore, clock: FixedClock, order_id: uuid.UUID) -> None:
    with MemoryUnitOfWork(store, clock) as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        order.mark_paid(clock.now())
        uow.orders.update(order)
        uow.commit()


# --- slugs and times -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("De Gebroeders Mierlo", "de-gebroeders-mierlo"),
        ("Café & Crème", "cafe-en-creme"),
        ("Tsjaikovski's Zwanenmeer", "tsjaikovskis-zwanenmeer"),
        ("\u0132sselmeer \u2013 \u2019s avonds", "ijsselmeer-s-avonds"),
        ("Één, twee... drie!", "een-twee-drie"),
        ("!!!", "voorstelling"),
        ("x" * 300, "x" * 120),
    ],
)
def test_slugs_are_dutch_friendly(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_local_times_are_stored_in_utc() -> None:
    assert from_amsterdam(datetime(2026, 3, 8, 20, 15)) == datetime(2026, 3, 8, 19, 15, tzinfo=UTC)
    assert from_amsterdam(datetime(2026, 7, 1, 20, 0)) == datetime(2026, 7, 1, 18, 0, tzinfo=UTC)


def test_the_hour_skipped_by_summer_time_is_refused() -> None:
    with pytest.raises(errors.ValidationError) as refused:
        from_amsterdam(datetime(2026, 3, 29, 2, 30))
    assert fields(refused) == {"starts_at"}


def test_the_doubled_hour_when_summer_time_ends_means_the_first() -> None:
    assert from_amsterdam(datetime(2026, 10, 25, 2, 30)) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


# --- shows -----------------------------------------------------------------------------------


def test_a_new_show_gets_a_slug_from_its_title(staff: StaffCatalog, clock: FixedClock) -> None:
    show = staff.create_show(ShowForm(title="  Het   Zwanenmeer ", description="Ballet."))

    stored = staff.show(show.id).show
    assert (stored.title, stored.slug, stored.description) == (
        "Het Zwanenmeer",
        "het-zwanenmeer",
        "Ballet.",
    )
    assert stored.created_at == clock.now()


def test_a_derived_slug_that_is_taken_gets_a_number(staff: StaffCatalog) -> None:
    first = staff.create_show(ShowForm(title="Zwanenmeer"))
    second = staff.create_show(ShowForm(title="Zwanenmeer"))
    third = staff.create_show(ShowForm(title="Zwanenmeer!"))

    assert [first.slug, second.slug, third.slug] == ["zwanenmeer", "zwanenmeer-2", "zwanenmeer-3"]


def test_a_chosen_slug_that_is_taken_is_refused(staff: StaffCatalog) -> None:
    staff.create_show(ShowForm(title="Zwanenmeer"))

    with pytest.raises(errors.ValidationError) as refused:
        staff.create_show(ShowForm(title="Ander ballet", slug="zwanenmeer"))

    assert fields(refused) == {"slug"}
    assert len(staff.overview()) == 1


@pytest.mark.parametrize(
    ("form", "bad"),
    [
        (ShowForm(title=""), {"title"}),
        (ShowForm(title="x" * 201), {"title"}),
        (ShowForm(title="Tab\tin titel"), set()),  # whitespace is folded to one space
        (ShowForm(title="ok", slug="Hoofd Letters"), {"slug"}),
        (ShowForm(title="ok", slug="-begint-met-streepje"), {"slug"}),
        (ShowForm(title="ok", description="d" * 4001), {"description"}),
        (
            ShowForm(title="", slug="x" * 121, description="d" * 4001),
            {"title", "slug", "description"},
        ),
    ],
)
def test_show_input_is_checked_field_by_field(
    staff: StaffCatalog, form: ShowForm, bad: set[str]
) -> None:
    if not bad:
        assert staff.create_show(form).title == "Tab in titel"
        return
    with pytest.raises(errors.ValidationError) as refused:
        staff.create_show(form)
    assert fields(refused) == bad


def test_editing_a_show_keeps_its_own_slug(staff: StaffCatalog) -> None:
    show = staff.create_show(ShowForm(title="Zwanenmeer"))

    edited = staff.edit_show(show.id, ShowForm(title="Het Zwanenmeer", slug="zwanenmeer"))

    assert (edited.title, edited.slug) == ("Het Zwanenmeer", "zwanenmeer")
    assert staff.show(show.id).show.title == "Het Zwanenmeer"


def test_editing_a_show_to_another_shows_slug_is_refused(staff: StaffCatalog) -> None:
    staff.create_show(ShowForm(title="Zwanenmeer"))
    other = staff.create_show(ShowForm(title="Notenkraker"))

    with pytest.raises(errors.ValidationError):
        staff.edit_show(other.id, ShowForm(title="Notenkraker", slug="zwanenmeer"))

    assert staff.show(other.id).show.slug == "notenkraker"


def test_an_unknown_show_is_not_found(staff: StaffCatalog) -> None:
    with pytest.raises(errors.NotFound):
        staff.edit_show(uuid.uuid4(), ShowForm(title="x"))
    with pytest.raises(errors.NotFound):
        staff.add_performance(uuid.uuid4(), a_performance())


# --- performances ----------------------------------------------------------------------------


def test_a_new_performance_is_a_concept_at_the_local_time_given(staff: StaffCatalog) -> None:
    show = staff.create_show(ShowForm(title="Zwanenmeer"))

    added = staff.add_performance(show.id, a_performance(hall="  "))

    stored = staff.performance(added.id).performance
    assert stored.status is PerformanceStatus.DRAFT
    assert stored.starts_at == datetime(2026, 3, 8, 19, 15, tzinfo=UTC)
    assert (stored.price, stored.capacity, stored.available_seats, stored.hall) == (
        Money(2250),
        100,
        100,
        None,
    )
    assert [p.id for p in staff.overview()[0].performances] == [added.id]


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"price": Money(0)}, {"price"}),
        ({"price": Money(-100)}, {"price"}),
        ({"price": Money(100_001)}, {"price"}),
        ({"capacity": 0}, {"capacity"}),
        ({"capacity": -5}, {"capacity"}),
        ({"capacity": 10_001}, {"capacity"}),
        ({"hall": "z" * 101}, {"hall"}),
        ({"starts_at": datetime(2026, 3, 1, 13, 0)}, {"starts_at"}),  # exactly now
        ({"starts_at": datetime(2026, 3, 29, 2, 15)}, {"starts_at"}),
        ({"price": Money(-1), "capacity": 0}, {"price", "capacity"}),
    ],
)
def test_performance_input_is_checked_field_by_field(
    staff: StaffCatalog, changes: dict[str, object], bad: set[str]
) -> None:
    show = staff.create_show(ShowForm(title="Zwanenmeer"))

    with pytest.raises(errors.ValidationError) as refused:
        staff.add_performance(show.id, a_performance(**changes))

    assert fields(refused) == bad
    assert staff.show(show.id).performances == []


def test_editing_changes_date_price_and_hall(staff: StaffCatalog) -> None:
    show = staff.create_show(ShowForm(title="Zwanenmeer"))
    added = staff.add_performance(show.id, a_performance())

    staff.edit_performance(
        added.id,
        a_performance(starts_at=datetime(2026, 7, 1, 20, 0), price=Money(1999), hall="Kleine zaal"),
    )

    stored = staff.performance(added.id).performance
    assert stored.starts_at == datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
    assert (stored.price, stored.hall) == (Money(1999), "Kleine zaal")


def test_a_past_performance_can_be_edited_without_moving_it(
    staff: StaffCatalog, catalog: CatalogBuilder, clock: FixedClock
) -> None:
    performance = catalog.performance(starts_in=timedelta(days=1))
    clock.advance(timedelta(days=2))
    local_start = performance.starts_at.astimezone(AMSTERDAM)

    staff.edit_performance(
        performance.id,
        a_performance(starts_at=local_start.replace(tzinfo=None), price=Money(1000)),
    )

    assert staff.performance(performance.id).performance.price == Money(1000)


def test_capacity_moves_the_free_seats_along(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance(capacity=100)
    buy_many(store, clock, performance, 30)

    staff.edit_performance(performance.id, a_performance(capacity=120))
    assert staff.performance(performance.id).performance.available_seats == 90

    staff.edit_performance(performance.id, a_performance(capacity=30))
    stored = staff.performance(performance.id).performance
    assert (stored.capacity, stored.available_seats) == (30, 0)


def test_capacity_below_the_seats_taken_is_refused(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance(capacity=100)
    buy_many(store, clock, performance, 30)

    with pytest.raises(errors.ValidationError) as refused:
        staff.edit_performance(performance.id, a_performance(capacity=29, price=Money(1)))

    assert fields(refused) == {"capacity"}
    assert "30" in refused.value.message
    stored = staff.performance(performance.id).performance
    assert (stored.capacity, stored.available_seats, stored.price) == (100, 70, Money(2500))


def test_capacity_decrease_between_checkouts_never_oversells(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance(capacity=50)
    sold: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def buyer(number: int) -> None:
        start.wait()
        for attempt in range(10):
            try:
                # One address per order: the cap on unpaid tickets per buyer stays out of it.
                buy(store, clock, performance, 2, f"koper{number}-{attempt}@example.nl")
                sold.append(2)
            except errors.NotEnoughSeats:
                pass
            except BaseException as error:  # reported below
                failures.append(error)

    def shrink() -> None:
        start.wait()
        for capacity in range(50, 9, -5):
            with contextlib.suppress(errors.ValidationError):
                staff.edit_performance(performance.id, a_performance(capacity=capacity))

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(5)]
    threads.append(threading.Thread(target=shrink))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stored = staff.performance(performance.id).performance
    with MemoryUnitOfWork(store, clock) as uow:
        held = uow.orders.seats_held(performance.id)
    assert failures == []
    assert held == sum(sold) <= stored.capacity
    assert stored.available_seats == stored.capacity - held


def test_cancelled_and_archived_performances_cannot_be_edited(
    staff: StaffCatalog, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance()
    staff.cancel(performance.id)

    with pytest.raises(errors.InvalidTransition):
        staff.edit_performance(performance.id, a_performance())


# --- status ----------------------------------------------------------------------------------


def test_publish_and_unpublish_a_concept(staff: StaffCatalog) -> None:
    show = staff.create_show(ShowForm(title="Zwanenmeer"))
    added = staff.add_performance(show.id, a_performance())

    assert staff.publish(added.id).status is PerformanceStatus.PUBLISHED
    assert staff.unpublish(added.id).status is PerformanceStatus.DRAFT
    assert staff.performance(added.id).performance.status is PerformanceStatus.DRAFT


def test_publishing_twice_is_an_invalid_transition(
    staff: StaffCatalog, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance()

    with pytest.raises(errors.InvalidTransition) as refused:
        staff.publish(performance.id)

    assert "concept" in refused.value.message


def test_unpublish_is_refused_once_seats_were_sold_or_held(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance()
    buy(store, clock, performance, 1)

    with pytest.raises(errors.InvalidTransition):
        staff.unpublish(performance.id)

    assert staff.performance(performance.id).performance.status is PerformanceStatus.PUBLISHED


def test_unpublish_is_refused_after_a_sale_even_when_refunded(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance()
    order_id = buy(store, clock, performance, 1)
    with MemoryUnitOfWork(store, clock) as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        order.status = OrderStatus.REFUNDED
        order.tickets[0].status = TicketStatus.REFUNDED
        uow.orders.update(order)
        uow.seats.release({performance.id: 1})
        uow.commit()

    with pytest.raises(errors.InvalidTransition):
        staff.unpublish(performance.id)


def test_a_performance_still_to_come_is_cancelled_not_archived(
    staff: StaffCatalog, catalog: CatalogBuilder, clock: FixedClock
) -> None:
    performance = catalog.performance(starts_in=timedelta(days=1))

    with pytest.raises(errors.InvalidTransition):
        staff.archive(performance.id)

    clock.advance(timedelta(days=1))
    assert staff.archive(performance.id).status is PerformanceStatus.ARCHIVED
    with pytest.raises(errors.InvalidTransition):
        staff.publish(performance.id)


def test_a_concept_and_a_cancelled_performance_can_be_archived(
    staff: StaffCatalog, catalog: CatalogBuilder
) -> None:
    concept = catalog.performance(status=PerformanceStatus.DRAFT)
    cancelled = catalog.performance()
    staff.cancel(cancelled.id)

    assert staff.archive(concept.id).status is PerformanceStatus.ARCHIVED
    assert staff.archive(cancelled.id).status is PerformanceStatus.ARCHIVED


def test_a_concept_cannot_be_cancelled(staff: StaffCatalog, catalog: CatalogBuilder) -> None:
    concept = catalog.performance(status=PerformanceStatus.DRAFT)

    with pytest.raises(errors.InvalidTransition):
        staff.cancel(concept.id)


def test_cancel_is_refused_while_there_are_paid_orders(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance()
    pay(store, clock, buy(store, clock, performance, 2))
    pay(store, clock, buy(store, clock, performance, 1))
    pending = buy(store, clock, performance, 1)

    with pytest.raises(errors.InvalidTransition) as refused:
        staff.cancel(performance.id)

    assert "2 betaalde bestellingen" in refused.value.message
    assert refused.value.details["paid_orders"] == 2
    details = staff.performance(performance.id)
    assert details.performance.status is PerformanceStatus.PUBLISHED
    assert (details.paid_orders, details.pending_orders) == (2, 1)
    with MemoryUnitOfWork(store, clock) as uow:
        order = uow.orders.get(pending)
        assert order is not None
        assert order.status is OrderStatus.PENDING


def test_cancel_cancels_pending_orders_and_gives_back_their_seats_and_coupon(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance(capacity=10)
    other = catalog.performance(capacity=10)
    coupon = catalog.coupon("KORTING")
    placed = checkout(
        MemoryUnitOfWork(store, clock),
        clock,
        CheckoutRequest(
            email="an@example.nl",
            name="An",
            coupon_code="korting",
            lines=[
                CartLine(performance_id=performance.id, quantity=3, added_at=clock.now()),
                CartLine(performance_id=other.id, quantity=2, added_at=clock.now()),
            ],
        ),
    )

    result = staff.cancel(performance.id)

    assert result.cancelled_orders == 1
    assert result.performance.status is PerformanceStatus.CANCELLED
    with MemoryUnitOfWork(store, clock) as uow:
        order = uow.orders.get(placed.order_id)
        assert order is not None
        assert order.status is OrderStatus.CANCELLED
        assert uow.performances.get(performance.id).available_seats == 10  # type: ignore[union-attr]
        assert uow.performances.get(other.id).available_seats == 10  # type: ignore[union-attr]
        stored_coupon = uow.coupons.get(coupon.id)
        assert isinstance(stored_coupon, Coupon)
        assert stored_coupon.usage_count == 0
        mails = [job.data for job in uow.jobs.list(job_type="email")]
    assert {"template": "order_cancelled", "to": "an@example.nl"}.items() <= mails[0].items()


def test_after_cancelling_nothing_more_is_sold(
    staff: StaffCatalog, catalog: CatalogBuilder, store: MemoryStore, clock: FixedClock
) -> None:
    performance = catalog.performance()
    staff.cancel(performance.id)

    with pytest.raises(errors.PerformanceUnavailable):
        buy(store, clock, performance, 1)


def test_unknown_performances_are_not_found(staff: StaffCatalog) -> None:
    for action in (staff.publish, staff.unpublish, staff.archive, staff.cancel, staff.performance):
        with pytest.raises(errors.UnknownPerformance):
            action(uuid.uuid4())
