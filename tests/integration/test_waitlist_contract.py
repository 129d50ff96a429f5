# ruff: noqa: F811 (the fixtures, imported, are test parameters here)
"""One set of assertions for the waiting lists port on the memory fake and SQL (SQLite,
Postgres): the seats held for a list, and its entries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.waitlist import EntryStatus, WaitlistEntry
from tests.integration.test_uow_contract import (
    make_uow,  # noqa: F401  (the fixture)
    pending_order,
    regular,
    stored,
)


def published(show_id, starts_at, *, available: int) -> Performance:
    return Performance(
        show_id=show_id,
        starts_at=starts_at,
        price=Money(2500),
        capacity=10,
        available_seats=available,
        status=PerformanceStatus.PUBLISHED,
    )


@pytest.fixture
def performance(make_uow, clock) -> Performance:
    show = Show(title="Carmen", slug="carmen")
    performance = published(show.id, clock.now() + timedelta(days=3), available=4)
    with make_uow() as uow:
        uow.shows.add(show)
        uow.performances.add(performance)
        uow.commit()
    return performance


def entry(performance: Performance, clock, email: str, minutes: int = 0) -> WaitlistEntry:
    return WaitlistEntry(
        performance_id=performance.id,
        email=email,
        quantity=2,
        created_at=clock.now() + timedelta(minutes=minutes),
        token_hash=f"hash-{email}",
    )


def seats(make_uow, performance: Performance) -> tuple[int, int, bool]:
    with make_uow() as uow:
        stored = uow.performances.get(performance.id)
        waitlist = uow.waitlists.get(performance.id)
    return stored.available_seats, waitlist.held, waitlist.enabled


def test_a_list_never_stored_is_enabled_and_holds_nothing(make_uow, performance) -> None:
    assert seats(make_uow, performance) == (4, 0, True)


def test_seats_move_to_the_list_and_back_only_when_there_are_enough(make_uow, performance) -> None:
    with make_uow() as uow:
        assert uow.waitlists.hold(performance.id, 3)
        assert not uow.waitlists.hold(performance.id, 2)  # one left
        assert not uow.waitlists.unhold(performance.id, 4)
        assert uow.waitlists.unhold(performance.id, 1)
        uow.commit()
    assert seats(make_uow, performance) == (2, 2, True)
    with make_uow() as uow:
        uow.waitlists.hold(performance.id, 2)  # rolled back: never committed
    assert seats(make_uow, performance) == (2, 2, True)


def test_a_list_turns_off_and_on(make_uow, performance) -> None:
    with make_uow() as uow:
        uow.waitlists.set_enabled(performance.id, False)
        uow.commit()
    assert seats(make_uow, performance)[2] is False
    with make_uow() as uow:
        uow.waitlists.set_enabled(performance.id, True)
        uow.commit()
    assert seats(make_uow, performance)[2] is True


def test_entries_are_found_by_email_token_and_offer_and_listed_oldest_first(
    make_uow, performance, clock
) -> None:
    later = entry(performance, clock, "later@example.nl", minutes=5)
    first = entry(performance, clock, "first@example.nl")
    with make_uow() as uow:
        uow.waitlists.add(later)
        uow.waitlists.add(first)
        uow.commit()
    with make_uow() as uow:
        assert uow.waitlists.find(performance.id, "FIRST@example.nl").id == first.id
        assert uow.waitlists.find(performance.id, "nobody@example.nl") is None
        assert uow.waitlists.by_token_hash("hash-later@example.nl").id == later.id
        assert uow.waitlists.by_token_hash("nope") is None
        assert [e.id for e in uow.waitlists.entries(performance.id)] == [first.id, later.id]
        assert uow.waitlists.has_waiting(performance.id)
        assert uow.waitlists.get_entry(first.id, for_update=True).email == "first@example.nl"


def test_an_updated_entry_keeps_what_it_was_given(make_uow, performance, clock) -> None:
    order = pending_order(clock, performance)
    stored(make_uow, regular(performance), order)
    one = entry(performance, clock, "one@example.nl")
    with make_uow() as uow:
        uow.waitlists.add(one)
        uow.commit()
    one.offer(order.id, clock.now())
    one.quantity = 3
    with make_uow() as uow:
        uow.waitlists.update(one)
        uow.commit()
    with make_uow() as uow:
        found = uow.waitlists.by_offer_order(order.id, for_update=True)
        assert (found.status, found.quantity, found.offered_at) == (
            EntryStatus.OFFERED,
            3,
            clock.now(),
        )
        assert not uow.waitlists.has_waiting(performance.id)


def test_one_entry_per_email_and_performance(make_uow, performance, clock) -> None:
    with make_uow() as uow:
        uow.waitlists.add(entry(performance, clock, "twice@example.nl"))
        uow.commit()
    twice = entry(performance, clock, "twice@example.nl")
    twice.token_hash = "other"

    def add_twice() -> None:
        with make_uow() as uow:
            uow.waitlists.add(twice)
            uow.commit()

    # The memory fake refuses at once; the database's unique index is a lost race (Busy).
    with pytest.raises((ValueError, errors.Busy)):
        add_twice()


def test_entries_of_performances_started_before_a_moment_are_forgotten(
    make_uow, performance, clock
) -> None:
    past = published(performance.show_id, clock.now() - timedelta(days=40), available=0)
    with make_uow() as uow:
        uow.performances.add(past)
        uow.waitlists.hold(past.id, 0)
        for email in ("old-a@example.nl", "old-b@example.nl"):
            uow.waitlists.add(entry(past, clock, email))
        uow.waitlists.add(entry(performance, clock, "coming@example.nl"))
        uow.waitlists.set_enabled(past.id, False)
        uow.commit()

    with make_uow() as uow:
        forgotten = uow.waitlists.forget_started_before(clock.now() - timedelta(days=30))
        uow.commit()

    assert forgotten == 2
    with make_uow() as uow:
        assert uow.waitlists.entries(past.id) == []
        assert uow.waitlists.find(past.id, "old-a@example.nl") is None
        assert [e.email for e in uow.waitlists.entries(performance.id)] == ["coming@example.nl"]
        assert uow.waitlists.get(past.id).enabled is False  # the list itself stays
        assert uow.waitlists.forget_started_before(clock.now() - timedelta(days=50)) == 0
