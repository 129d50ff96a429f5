"""The demo catalogue a new user sees first: every kind of sale, numbered seats included."""

from __future__ import annotations

from collections import Counter

from mierloos_adapters.memory import FixedClock, MemoryUnitOfWork
from mierloos_core.model.seating import SeatState
from mierloos_entrypoints.demo import load_demo_data


def test_one_demo_performance_sells_numbered_seats_in_two_zones_at_two_prices(
    uow: MemoryUnitOfWork, clock: FixedClock
) -> None:
    def make_uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(uow.store, clock)

    assert load_demo_data(make_uow, clock.now())
    assert not load_demo_data(make_uow, clock.now())  # only into an empty catalogue

    with make_uow() as work:
        show = work.shows.get_by_slug("gebroeders-mierlo")
        assert show is not None
        performances = sorted(work.performances.for_show(show.id), key=lambda p: p.starts_at)
        plans = [work.seating.plan_of(p.id) for p in performances]
        assert plans[:2] == [None, None]
        assert plans[2] is not None
        reserved = performances[2]
        seats = work.seating.states(reserved.id)
        categories = {c.id: c for c in work.price_categories.for_performance(reserved.id)}
    assert reserved.capacity == reserved.available_seats == len(seats) == 120
    assert Counter(seat.state for seat in seats) == {SeatState.FREE: 120}
    by_price = Counter(categories[seat.category_id].price.cents for seat in seats)
    assert by_price == {2750: 48, 2250: 72}
    assert {c.name_en for c in categories.values()} == {"Regular", "First rank"}
