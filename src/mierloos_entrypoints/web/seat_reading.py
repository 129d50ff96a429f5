"""The read side of reserved seating for the web pages: which performances sell seats, and a
performance's map as it stands now (one unit of work, nothing locked)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import attrs

from mierloos_core.model.price_categories import Visibility
from mierloos_core.model.seating import Hall, PerformanceSeat, Seat, SeatPlan, SeatState
from mierloos_core.ports.repositories import UnitOfWork
from mierloos_entrypoints.web.seat_map import SeatMap
from mierloos_entrypoints.web.seat_views import performance_map


@attrs.frozen
class PerformanceSeating:
    plan: SeatPlan
    seats: tuple[PerformanceSeat, ...]
    seat_map: SeatMap


def reserved_performances(uow: UnitOfWork, performance_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `performance_ids` that sell numbered seats."""
    with uow:
        return {pid for pid in performance_ids if uow.seating.plan_of(pid) is not None}


def performance_seating(
    uow: UnitOfWork, performance_id: uuid.UUID, language: str, *, staff: bool = False
) -> PerformanceSeating | None:
    """The performance's plan, seats and map; None for free seating.

    For visitors a seat of a category they may not buy online shows as not available; staff
    (the counter) see every category.
    """
    with uow:
        plan_id = uow.seating.plan_of(performance_id)
        if plan_id is None:
            return None
        plan = uow.seating.get_plan(plan_id)
        seats = tuple(uow.seating.states(performance_id))
        categories = uow.price_categories.for_performance(performance_id)
    if plan is None:
        return None
    shown = [c for c in categories if staff or c.visibility is Visibility.PUBLIC]
    sellable = {c.id for c in shown}
    visible = tuple(
        seat
        if seat.category_id in sellable or seat.state is not SeatState.FREE
        else attrs.evolve(seat, state=SeatState.BLOCKED)
        for seat in seats
    )
    return PerformanceSeating(
        plan=plan, seats=seats, seat_map=performance_map(plan, visible, shown, language)
    )


def chosen_seat_names(
    uow: UnitOfWork, chosen: Mapping[uuid.UUID, Mapping[uuid.UUID, uuid.UUID]], language: str
) -> dict[tuple[uuid.UUID, uuid.UUID], list[str]]:
    """(performance, category) -> "Zaal, rij 5, stoel 12" of each chosen seat still in its plan."""
    names: dict[tuple[uuid.UUID, uuid.UUID], list[str]] = {}
    with uow:
        for performance_id, seats in chosen.items():
            plan_id = uow.seating.plan_of(performance_id)
            plan = uow.seating.get_plan(plan_id) if plan_id else None
            if plan is None:
                continue
            by_id = plan.by_id
            for seat_id, category_id in sorted(
                seats.items(), key=lambda item: _place(by_id, item[0])
            ):
                if seat_id in by_id:
                    key = (performance_id, category_id)
                    names.setdefault(key, []).append(by_id[seat_id].ref.describe(language))
    return names


def _place(by_id: Mapping[uuid.UUID, Seat], seat_id: uuid.UUID) -> tuple[str, int, int]:
    seat = by_id.get(seat_id)
    return (seat.section, seat.row_index, seat.column) if seat else ("", 0, 0)


def hall_plans(uow: UnitOfWork) -> list[tuple[Hall, list[SeatPlan]]]:
    """Every hall with its plan versions, oldest first; halls by name."""
    with uow:
        halls = sorted(uow.seating.halls(), key=lambda hall: hall.name.lower())
        return [(hall, uow.seating.plans_of_hall(hall.id)) for hall in halls]


def plan_with_versions(
    uow: UnitOfWork, plan_id: uuid.UUID | None
) -> tuple[SeatPlan, list[SeatPlan]] | None:
    """A plan version and every version of its hall's plan; None when there is no such plan."""
    if plan_id is None:
        return None
    with uow:
        plan = uow.seating.get_plan(plan_id)
        if plan is None:
            return None
        return plan, uow.seating.plans_of_hall(plan.hall_id)
