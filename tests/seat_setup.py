"""Putting a performance on reserved seating for the web and browser tests, through the core's
own service, as staff would on the plan pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from mierloos_core.model.seating import SeatPlan, SectionSpec
from mierloos_core.ports import Clock, UnitOfWork
from mierloos_core.services.seating import Seating


def reserve(
    uow: Callable[[], UnitOfWork],
    clock: Clock,
    performance_id: uuid.UUID,
    *,
    rows: int = 5,
    seats_per_row: int = 8,
    zones: tuple[tuple[str, int], ...] = (("Voorin", 2), ("Achterin", 3)),
    categories: dict[str, uuid.UUID] | None = None,
    adjust: dict[tuple[str, int], dict[str, object]] | None = None,
) -> SeatPlan:
    """A hall of `rows` x `seats_per_row` (an aisle in the middle) on sale for the performance.

    Every zone gets the performance's first price category unless `categories` says otherwise;
    `adjust` changes seats by (row, number) first (wheelchair, blocked, ...).
    """
    seating = Seating(uow=uow, clock=clock)
    hall = seating.add_hall(f"Zaal {uuid.uuid4().hex[:6]}")
    spec = SectionSpec(
        name="Zaal",
        rows=rows,
        seats_per_row=seats_per_row,
        aisles_after=(seats_per_row // 2,),
        zones=zones,
    )
    plan = seating.generate(hall.id, hall.name, [spec])
    if adjust:
        changes = {
            plan.seat_at("Zaal", row, number).id: change for (row, number), change in adjust.items()
        }  # type: ignore[union-attr]
        plan = seating.adjust(plan.id, changes)
    if categories is None:
        with uow() as work:
            first = min(
                work.price_categories.for_performance(performance_id), key=lambda c: c.position
            )
        categories = {zone: first.id for zone, _ in zones}
    seating.put_on_sale(performance_id, plan.id, categories)
    return plan
