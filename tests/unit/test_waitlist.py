"""The waiting list against the memory fakes: joining, the matching rule, offers handed on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.waitlist import EntryStatus, WaitlistEntry, pick_entries
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import close_order, lock_order
from mierloos_core.services.performance_cancellation import cancel_performance
from mierloos_core.services.waitlist import JoinRequest, WaitlistPolicy, Waitlists
from tests.catalog_builders import CatalogBuilder

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _entry(quantity: int, minutes: int) -> WaitlistEntry:
    return WaitlistEntry(
        performance_id=uuid.uuid4(),
        email=f"e{minutes}@example.nl",
        quantity=quantity,
        created_at=T0 + timedelta(minutes=minutes),
        token_hash=str(minutes),
    )


def test_the_oldest_entries_that_fit_are_picked_and_smaller_ones_further_down_fill_up() -> None:
    first, big, small, smallest = _entry(2, 0), _entry(4, 1), _entry(1, 2), _entry(1, 3)

    picked = pick_entries([smallest, small, big, first], 3)

    assert picked == [first, small]  # big does not fit what is left: it keeps its place
    assert pick_entries([smallest, small, big, first], 6) == [first, big]
    assert pick_entries([big], 3) == []


def test_an_entry_that_is_not_waiting_is_never_picked() -> None:
    offered = _entry(1, 0)
    offered.status = EntryStatus.OFFERED
    assert pick_entries([offered], 5) == []


@pytest.fixture
def lists(store: MemoryStore, clock: FixedClock) -> Waitlists:
    return Waitlists(lambda: MemoryUnitOfWork(store, clock), clock, WaitlistPolicy(offer_hours=24))


def _buy(store: MemoryStore, clock: FixedClock, performance: Performance, n: int) -> uuid.UUID:
    line = CartLine(performance_id=performance.id, quantity=n, added_at=clock.now())
    request = CheckoutRequest(
        email=f"buyer{uuid.uuid4().hex[:6]}@example.nl", name="B", lines=[line]
    )
    return checkout(MemoryUnitOfWork(store, clock), clock, request).order_id


def _expire(store: MemoryStore, clock: FixedClock, order_id: uuid.UUID) -> None:
    with MemoryUnitOfWork(store, clock) as uow:
        close_order(uow, lock_order(uow, order_id), OrderStatus.EXPIRED, clock.now())
        uow.commit()


def _join(lists: Waitlists, performance: Performance, email: str, n: int = 1) -> str:
    return lists.join(JoinRequest(performance_id=performance.id, email=email, quantity=n)).token


def _counters_add_up(store: MemoryStore, performance: Performance) -> None:
    stored = store.performances[performance.id]
    held = store.waitlists[performance.id].held if performance.id in store.waitlists else 0
    tickets = sum(o.seats_held()[performance.id] for o in store.orders.values())
    assert stored.capacity == stored.available_seats + held + tickets


def _offer_jobs(store: MemoryStore) -> list[dict[str, object]]:
    return [job.data for job in store.jobs.values() if job.type == "waitlist_offer"]


def test_joining_a_performance_with_seats_is_refused(
    lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=5)
    with pytest.raises(errors.NotSoldOut):
        _join(lists, performance, "an@example.nl")


def test_a_second_join_with_the_same_email_updates_the_entry_and_keeps_its_place(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=2)
    _buy(store, clock, performance, 2)
    _join(lists, performance, "an@example.nl", 1)
    clock.advance(timedelta(minutes=1))
    _join(lists, performance, "bo@example.nl", 1)
    clock.advance(timedelta(minutes=1))
    again = lists.join(
        JoinRequest(performance_id=performance.id, email="AN@example.nl", quantity=2)
    )

    assert (again.updated, again.position, again.entry.quantity) == (True, 1, 2)
    assert len(store.waitlist_entries) == 1 + 1
    with pytest.raises(errors.InvalidQuantity):
        _join(lists, performance, "cy@example.nl", 0)
    with pytest.raises(errors.InvalidEmail):
        _join(lists, performance, "not an address")


def test_seats_that_come_back_are_held_for_the_list_and_offered_oldest_first(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=4)
    order = _buy(store, clock, performance, 3)
    _buy(store, clock, performance, 1)
    _join(lists, performance, "big@example.nl", 4)
    clock.advance(timedelta(minutes=1))
    _join(lists, performance, "two@example.nl", 2)
    clock.advance(timedelta(minutes=1))
    _join(lists, performance, "one@example.nl", 1)

    _expire(store, clock, order)

    assert store.performances[performance.id].available_seats == 0  # not on sale to the web
    assert store.waitlists[performance.id].held == 3
    assert len(_offer_jobs(store)) == 1
    _counters_add_up(store, performance)

    outcome = lists.offer_held_seats(performance.id)

    assert outcome == {"offered": 2, "returned": 0}
    statuses = {e.email: e.status for e in store.waitlist_entries.values()}
    assert statuses == {
        "big@example.nl": EntryStatus.WAITING,
        "two@example.nl": EntryStatus.OFFERED,
        "one@example.nl": EntryStatus.OFFERED,
    }
    offers = [o for o in store.orders.values() if o.email in ("two@example.nl", "one@example.nl")]
    assert sorted(len(o.tickets) for o in offers) == [1, 2]
    assert all(o.expires_at == clock.now() + timedelta(hours=24) for o in offers)
    mails = [j.data["template"] for j in store.jobs.values() if j.type == "email"]
    assert mails.count("waitlist_offer") == 2
    _counters_add_up(store, performance)
    assert lists.offer_held_seats(performance.id) == {"offered": 0, "returned": 0}


def test_an_offer_that_expires_passes_its_seats_to_the_next_entry(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=2)
    order = _buy(store, clock, performance, 2)
    _join(lists, performance, "first@example.nl", 2)
    clock.advance(timedelta(minutes=1))
    _join(lists, performance, "second@example.nl", 2)
    _expire(store, clock, order)
    lists.offer_held_seats(performance.id)
    first = next(e for e in store.waitlist_entries.values() if e.email.startswith("first"))
    assert first.offer_order_id is not None

    clock.advance(timedelta(hours=25))
    _expire(store, clock, first.offer_order_id)
    lists.offer_held_seats(performance.id)

    statuses = {e.email: e.status for e in store.waitlist_entries.values()}
    assert statuses == {
        "first@example.nl": EntryStatus.EXPIRED,
        "second@example.nl": EntryStatus.OFFERED,
    }
    _counters_add_up(store, performance)


def test_an_offer_never_lasts_past_the_performance_start(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=1, starts_in=timedelta(hours=3))
    order = _buy(store, clock, performance, 1)
    _join(lists, performance, "soon@example.nl")
    _expire(store, clock, order)
    lists.offer_held_seats(performance.id)
    offer = next(o for o in store.orders.values() if o.email == "soon@example.nl")
    assert offer.expires_at == performance.starts_at


def test_seats_no_entry_fits_go_back_on_sale(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=3)
    order = _buy(store, clock, performance, 1)
    _buy(store, clock, performance, 2)
    _join(lists, performance, "two@example.nl", 2)
    _expire(store, clock, order)

    assert lists.offer_held_seats(performance.id) == {"offered": 0, "returned": 1}
    assert store.performances[performance.id].available_seats == 1
    _counters_add_up(store, performance)


def test_leaving_with_an_offer_declines_it_and_the_next_entry_gets_the_seats(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=1)
    order = _buy(store, clock, performance, 1)
    token = _join(lists, performance, "first@example.nl")
    clock.advance(timedelta(minutes=1))
    _join(lists, performance, "second@example.nl")
    _expire(store, clock, order)
    lists.offer_held_seats(performance.id)

    lists.leave(token)
    lists.offer_held_seats(performance.id)

    statuses = {e.email: e.status for e in store.waitlist_entries.values()}
    assert statuses == {
        "first@example.nl": EntryStatus.LEFT,
        "second@example.nl": EntryStatus.OFFERED,
    }
    with pytest.raises(errors.NotFound):
        lists.view("not-a-token")
    _counters_add_up(store, performance)


def test_offer_links_say_when_the_offer_is_used_or_gone(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=1)
    order = _buy(store, clock, performance, 1)
    _join(lists, performance, "an@example.nl")
    _expire(store, clock, order)
    lists.offer_held_seats(performance.id)
    offer = next(o for o in store.orders.values() if o.email == "an@example.nl")

    assert lists.accept(offer.secret, "An Jansen") == offer.id
    assert store.orders[offer.id].name == "An Jansen"
    store.orders[offer.id].mark_paid(clock.now())
    with pytest.raises(errors.OfferUsed):
        lists.offer(offer.secret)
    store.orders[offer.id].status = OrderStatus.EXPIRED
    with pytest.raises(errors.OfferGone):
        lists.offer(offer.secret)


def test_staff_offer_by_hand_remove_and_turn_the_list_off(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=3)
    order = _buy(store, clock, performance, 2)
    _buy(store, clock, performance, 1)
    _join(lists, performance, "first@example.nl", 2)
    clock.advance(timedelta(minutes=1))
    _join(lists, performance, "second@example.nl", 1)
    _expire(store, clock, order)
    second = next(e for e in store.waitlist_entries.values() if e.email.startswith("second"))

    lists.offer_by_hand(performance.id, second.id)  # out of turn, from the held seats
    listing = lists.staff_list(performance.id)
    assert (listing.waiting, listing.offers_out, listing.held) == (1, 1, 1)
    first = next(r.entry for r in listing.rows if r.entry.email.startswith("first"))
    with pytest.raises(errors.NotEnoughSeats):
        lists.offer_by_hand(performance.id, first.id)
    lists.remove(performance.id, first.id)
    lists.set_enabled(performance.id, False)

    assert store.waitlists[performance.id].held == 0
    assert store.performances[performance.id].available_seats == 1
    with pytest.raises(errors.WaitlistClosed):
        _join(lists, performance, "late@example.nl")
    _counters_add_up(store, performance)


def test_cancelling_the_performance_closes_its_list_and_tells_whoever_waits(
    store: MemoryStore, clock: FixedClock, lists: Waitlists, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=3)
    order = _buy(store, clock, performance, 2)
    _buy(store, clock, performance, 1)
    _join(lists, performance, "offered@example.nl", 2)
    clock.advance(timedelta(minutes=1))
    waiting_token = _join(lists, performance, "waiting@example.nl", 3)
    _expire(store, clock, order)
    lists.offer_held_seats(performance.id)

    with MemoryUnitOfWork(store, clock) as uow:
        cancel_performance(uow, performance.id, clock.now())
        uow.commit()

    statuses = {e.email: e.status for e in store.waitlist_entries.values()}
    assert statuses == {
        "offered@example.nl": EntryStatus.REMOVED,
        "waiting@example.nl": EntryStatus.REMOVED,
    }
    mails = [(j.data["to"], j.data["template"]) for j in store.jobs.values() if j.type == "email"]
    told = [to for to, template in mails if template == "waitlist_cancelled"]
    assert sorted(told) == ["offered@example.nl", "waiting@example.nl"]
    # The offer's order closed with the performance, without a second mail about it.
    assert ("offered@example.nl", "order_cancelled") not in mails
    offer = next(o for o in store.orders.values() if o.email == "offered@example.nl")
    assert offer.status is OrderStatus.CANCELLED
    _counters_add_up(store, performance)
    assert store.waitlists[performance.id].held == 0
    assert lists.view(waiting_token).entry.status is EntryStatus.REMOVED
    # Nothing is offered on a cancelled performance, whatever job was still queued.
    assert lists.offer_held_seats(performance.id) == {"offered": 0, "returned": 0}
