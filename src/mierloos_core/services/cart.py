"""Cart validation: the server decides what can still be bought, never the browser."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from mierloos_core.errors import InvalidQuantity
from mierloos_core.model.cart import (
    CartLine,
    CartValidation,
    UnavailableLine,
    ValidLine,
    merge_lines,
)
from mierloos_core.model.catalog import Performance, Show, UnavailableReason
from mierloos_core.model.price_categories import PriceCategory, default_category
from mierloos_core.ports import UnitOfWork

MAX_TICKETS_PER_LINE = 10


def check_quantities(lines: Iterable[CartLine], maximum: int = MAX_TICKETS_PER_LINE) -> None:
    for line in lines:
        if isinstance(line.quantity, bool) or not 1 <= line.quantity <= maximum:
            raise InvalidQuantity(
                performance_id=str(line.performance_id), quantity=line.quantity, maximum=maximum
            )


def validate_lines(
    uow: UnitOfWork,
    now: datetime,
    lines: Iterable[CartLine],
    *,
    staff: bool = False,
    after_start: timedelta = timedelta(0),
) -> CartValidation:
    """Split lines into valid ones and unavailable ones with a reason, inside an open `uow`.

    A line without a category buys the performance's first public category. A visitor's line
    for an unknown or staff-only category, or for more seats than the performance or the
    category's own limit has left (all lines for it counted together), is unavailable.
    Staff (`staff`, at the counter) may sell staff-only categories too, and a performance
    until `after_start` past its start.
    """
    merged = merge_lines(lines)
    performance_ids = list(dict.fromkeys(line.performance_id for line in merged))
    found_with_shows = uow.performances.get_many_with_shows(performance_ids)
    performances = {i: performance for i, (performance, _) in found_with_shows.items()}
    shows: dict[uuid.UUID, Show | None] = {p.show_id: s for p, s in found_with_shows.values()}
    categories = uow.price_categories.for_performances(list(performances))
    chosen = {line.key: _category(line, categories.get(line.performance_id, [])) for line in merged}
    wanted: Counter[uuid.UUID] = Counter()
    for line in merged:
        wanted[line.performance_id] += line.quantity
        category = chosen[line.key]
        if category is not None:
            wanted[category.id] += line.quantity
    valid: list[ValidLine] = []
    unavailable: list[UnavailableLine] = []
    for line in merged:
        found = performances.get(line.performance_id)
        show = shows.get(found.show_id) if found else None
        category = chosen[line.key]
        reason = _reason(now - after_start, found, show, category, wanted, staff=staff)
        if reason is None and found and show and category:
            valid.append(ValidLine(line=line, performance=found, show=show, category=category))
        else:
            unavailable.append(
                UnavailableLine(
                    line=line,
                    reason=reason or UnavailableReason.UNKNOWN,
                    performance=found,
                    show=show,
                    category=category,
                )
            )
    return CartValidation(valid=valid, unavailable=unavailable)


def _category(line: CartLine, categories: list[PriceCategory]) -> PriceCategory | None:
    """The category the line buys: the one it names, else the first public one."""
    if line.category_id is None:
        return default_category(categories)
    return next((c for c in categories if c.id == line.category_id), None)


def _reason(
    now: datetime,
    performance: Performance | None,
    show: Show | None,
    category: PriceCategory | None,
    wanted: Counter[uuid.UUID],
    *,
    staff: bool,
) -> UnavailableReason | None:
    if performance is None or show is None:
        return UnavailableReason.UNKNOWN
    reason = performance.unavailable_reason(now, wanted[performance.id])
    if reason is not None:
        return reason
    if category is None:
        return UnavailableReason.UNKNOWN_CATEGORY
    if not category.public and not staff:
        return UnavailableReason.CATEGORY_NOT_FOR_SALE
    if not category.has_seats(wanted[category.id]):
        return UnavailableReason.CATEGORY_SOLD_OUT
    return None


def validate_cart(
    uow: UnitOfWork,
    now: datetime,
    lines: Iterable[CartLine],
    max_per_line: int = MAX_TICKETS_PER_LINE,
) -> CartValidation:
    """The cart as the visitor should see it: valid lines, and unavailable ones with reasons."""
    lines = list(lines)
    check_quantities(lines, max_per_line)
    with uow:
        return validate_lines(uow, now, lines)
