"""From the core's seat plan and seat states to the map's `SeatMap` (web/seat_map.py).

For a performance a seat's zone is its price category (name and price in the page's
language, colours in the categories' order); for staff looking at a plan, the plan's own zone
names, without prices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.model.records import copied
from mierloos_core.model.seating import PerformanceSeat, Seat, SeatPlan, SeatState
from mierloos_entrypoints.web.seat_map import SeatMap, SeatView, ZoneView


def _seat_view(seat: Seat, zone: str, state: SeatState) -> SeatView:
    return copied(SeatView, seat, id=str(seat.id), number=str(seat.number), zone=zone, state=state)


def performance_map(
    plan: SeatPlan,
    seats: Iterable[PerformanceSeat],
    categories: Sequence[PriceCategory],
    language: str,
) -> SeatMap:
    """The performance's seats, coloured and priced by their price category."""
    ordered = sorted(categories, key=lambda c: (c.position, c.name_nl))
    zones = tuple(
        ZoneView(key=str(c.id), name=c.name(language), price=c.price, colour_index=index)
        for index, c in enumerate(ordered)
    )
    by_id = plan.by_id
    views = [
        _seat_view(by_id[s.seat_id], str(s.category_id), s.state)
        for s in sorted(
            (s for s in seats if s.seat_id in by_id), key=lambda s: _place(by_id[s.seat_id])
        )
    ]
    return SeatMap(seats=tuple(views), zones=zones)


def plan_map(plan: SeatPlan) -> SeatMap:
    """A plan as staff see it: zones by the plan's names, blocked seats blocked, others free."""
    zones = tuple(
        ZoneView(key=zone, name=zone, colour_index=index) for index, zone in enumerate(plan.zones)
    )
    views = [
        _seat_view(seat, seat.zone, SeatState.BLOCKED if seat.blocked else SeatState.FREE)
        for seat in plan.seats
    ]
    return SeatMap(seats=tuple(views), zones=zones)


def _place(seat: Seat) -> tuple[str, int, int]:
    """Front to back, left to right: the order a screen reader reads the seats in."""
    return (seat.section, seat.row_index, seat.column)
