"""Cart validation: the server decides what can still be bought, never the browser."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mierloos_core.errors import InvalidQuantity
from mierloos_core.model.cart import (
    CartLine,
    CartValidation,
    UnavailableLine,
    ValidLine,
    merge_lines,
)
from mierloos_core.model.catalog import UnavailableReason
from mierloos_core.ports import UnitOfWork

MAX_TICKETS_PER_LINE = 10


def check_quantities(lines: Iterable[CartLine], maximum: int = MAX_TICKETS_PER_LINE) -> None:
    for line in lines:
        if isinstance(line.quantity, bool) or not 1 <= line.quantity <= maximum:
            raise InvalidQuantity(
                performance_id=str(line.performance_id), quantity=line.quantity, maximum=maximum
            )


def validate_lines(uow: UnitOfWork, now: datetime, lines: Iterable[CartLine]) -> CartValidation:
    """Split lines into valid ones and unavailable ones with a reason, inside an open `uow`."""
    merged = merge_lines(lines)
    performances = uow.performances.get_many([line.performance_id for line in merged])
    shows = {}
    valid: list[ValidLine] = []
    unavailable: list[UnavailableLine] = []
    for line in merged:
        performance = performances.get(line.performance_id)
        if performance is None:
            unavailable.append(UnavailableLine(line=line, reason=UnavailableReason.UNKNOWN))
            continue
        if performance.show_id not in shows:
            shows[performance.show_id] = uow.shows.get(performance.show_id)
        show = shows[performance.show_id]
        reason = performance.unavailable_reason(now, line.quantity)
        if show is None:
            reason = UnavailableReason.UNKNOWN
        if reason is None and show is not None:
            valid.append(ValidLine(line=line, performance=performance, show=show))
        else:
            unavailable.append(
                UnavailableLine(
                    line=line,
                    reason=reason or UnavailableReason.UNKNOWN,
                    performance=performance,
                    show=show,
                )
            )
    return CartValidation(valid=valid, unavailable=unavailable)


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
