"""Reserved-seating test data: a hall, a generated plan and a performance selling it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import attrs

from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.seating import SeatPlan, SeatState, SectionSpec
from mierloos_core.ports import Clock, UnitOfWork
from mierloos_core.services.seating import Seating
from tests.catalog_builders import CatalogBuilder


@attrs.frozen
class ReservedHall:
    performance: Performance
    plan: SeatPlan
    seating: Seating
    zone_categories: dict[str, object]

    def seat(self, row: str, number: int, section: str = "Zaal"):
        found = self.plan.seat_at(section, row, number)
        assert found is not None, (section, row, number)
        return found


def reserved_performance(
    catalog: CatalogBuilder,
    make_uow: Callable[[], UnitOfWork],
    clock: Clock,
    *,
    rows: int = 5,
    seats_per_row: int = 10,
    zones: tuple[tuple[str, int], ...] = (),
    adjust: Callable[[SeatPlan], dict] | None = None,
    hall_name: str | None = None,
) -> ReservedHall:
    """A published performance on a fresh hall's plan; zone "A" (or each zone of `zones`) in
    its own category: the first zone in "Regulier", the others in new categories."""
    seating = Seating(make_uow, clock)
    hall = seating.add_hall(hall_name or f"Zaal {id(seating)}")
    spec = SectionSpec(name="Zaal", rows=rows, seats_per_row=seats_per_row, zones=zones)
    plan = seating.generate(hall.id, "Grote zaal", [spec])
    if adjust is not None:
        plan = seating.adjust(plan.id, adjust(plan))
    performance = catalog.performance(capacity=rows * seats_per_row)
    regular = catalog.categories(performance)[0]
    zone_categories: dict[str, object] = {}
    for position, zone in enumerate(plan.zones):
        if position == 0:
            zone_categories[zone] = regular.id
        else:
            extra = catalog.category(
                performance, f"Zone {zone}", price=Money(1000 + 500 * position), position=position
            )
            zone_categories[zone] = extra.id
    seating.put_on_sale(performance.id, plan.id, zone_categories)
    return ReservedHall(performance, plan, seating, zone_categories)


def seat_counts(make_uow: Callable[[], UnitOfWork], hall: ReservedHall) -> Counter[SeatState]:
    with make_uow() as uow:
        return Counter(seat.state for seat in uow.seating.states(hall.performance.id))


def assert_counters_match_seats(make_uow: Callable[[], UnitOfWork], hall: ReservedHall) -> None:
    """The performance's and every limited category's counters equal the seat states."""
    with make_uow() as uow:
        performance = uow.performances.get(hall.performance.id)
        states = uow.seating.states(hall.performance.id)
        held = uow.waitlists.get(hall.performance.id).held
        categories = uow.price_categories.for_performance(hall.performance.id)
    free = sum(1 for seat in states if seat.state is SeatState.FREE)
    sellable = sum(1 for seat in states if seat.state is not SeatState.BLOCKED)
    assert performance.capacity == sellable
    assert performance.available_seats + held == free
    for category in categories:
        if category.limit is not None:
            taken = sum(1 for s in states if s.category_id == category.id and s.state.taken)
            assert category.available == category.limit - taken
