from datetime import timedelta

import pytest

from mierloos_core.errors import NotEnoughSeats, NotFound
from mierloos_core.model.catalog import PerformanceStatus, UnavailableReason
from mierloos_core.services.catalog import show_page, upcoming_shows


def test_a_performance_starting_exactly_now_is_not_sellable(catalog, clock):
    performance = catalog.performance(starts_at=clock.now())
    assert performance.unavailable_reason(clock.now()) is UnavailableReason.PAST


def test_a_performance_one_second_ahead_is_sellable(catalog, clock):
    performance = catalog.performance(starts_at=clock.now() + timedelta(seconds=1))
    assert performance.is_available(clock.now())


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (PerformanceStatus.CANCELLED, UnavailableReason.CANCELLED),
        (PerformanceStatus.DRAFT, UnavailableReason.NOT_PUBLISHED),
        (PerformanceStatus.ARCHIVED, UnavailableReason.NOT_PUBLISHED),
    ],
)
def test_only_published_performances_are_sellable(catalog, clock, status, reason):
    performance = catalog.performance(status=status)
    assert performance.unavailable_reason(clock.now()) is reason


def test_seat_reasons_tell_sold_out_from_too_few(catalog, clock):
    sold_out = catalog.performance(capacity=10, available=0)
    two_left = catalog.performance(capacity=10, available=2)
    assert sold_out.unavailable_reason(clock.now()) is UnavailableReason.SOLD_OUT
    assert two_left.unavailable_reason(clock.now(), 3) is UnavailableReason.NOT_ENOUGH_SEATS
    assert two_left.unavailable_reason(clock.now(), 2) is None


def test_reserving_more_than_available_raises_and_keeps_the_count(catalog):
    performance = catalog.performance(capacity=10, available=2)
    with pytest.raises(NotEnoughSeats):
        performance.reserve(3)
    assert performance.available_seats == 2


def test_upcoming_shows_lists_published_future_performances_by_first_date(catalog, clock):
    later = catalog.show("Later")
    sooner = catalog.show("Eerder")
    hidden = catalog.show("Verborgen")
    catalog.performance(later, starts_in=timedelta(days=20))
    catalog.performance(sooner, starts_in=timedelta(days=3))
    catalog.performance(sooner, starts_in=timedelta(days=-1))
    catalog.performance(hidden, status=PerformanceStatus.DRAFT)

    listings = upcoming_shows(catalog.make_uow(), clock.now())

    assert [listing.show.title for listing in listings] == ["Eerder", "Later"]
    assert listings[0].first_date == clock.now() + timedelta(days=3)


def test_a_show_is_sold_out_only_when_every_coming_performance_is(catalog, clock):
    show = catalog.show()
    catalog.performance(show, available=0)
    assert upcoming_shows(catalog.make_uow(), clock.now())[0].sold_out
    catalog.performance(show, available=5)
    assert not upcoming_shows(catalog.make_uow(), clock.now())[0].sold_out


def test_show_page_offers_only_sellable_performances(catalog, clock):
    show = catalog.show()
    sellable = catalog.performance(show)
    catalog.performance(show, available=0)
    catalog.performance(show, starts_at=clock.now())
    catalog.performance(show, status=PerformanceStatus.CANCELLED)

    page = show_page(catalog.make_uow(), clock.now(), show.slug)

    assert [p.id for p in page.sellable] == [sellable.id]


def test_show_page_of_unknown_slug_is_not_found(catalog, clock):
    with pytest.raises(NotFound):
        show_page(catalog.make_uow(), clock.now(), "bestaat-niet")
