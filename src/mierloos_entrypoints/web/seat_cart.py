"""The seats a visitor chose, kept in the session beside the cart's lines.

Stored as ``{performance id: {seat id: category id}}``. The cart's lines of a reserved
performance are the count of its chosen seats per price category (written together, by
`choose_seats`), so the existing cart, checkout and counters keep working on lines, and the
checkout asks the core to hold exactly these seats. Read defensively like the cart: whatever
does not parse is dropped; the server checks every seat again when the order is placed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mierloos_core.model.cart import CartLine, CartValidation
from mierloos_entrypoints.web.inputs import parse_uuid

SEATS_KEY = "seats"
MAX_PERFORMANCES = 10


def read_seats(session: dict[str, Any]) -> dict[uuid.UUID, dict[uuid.UUID, uuid.UUID]]:
    raw = session.get(SEATS_KEY)
    if not isinstance(raw, dict):
        return {}
    chosen: dict[uuid.UUID, dict[uuid.UUID, uuid.UUID]] = {}
    for performance, seats in list(raw.items())[:MAX_PERFORMANCES]:
        performance_id = parse_uuid(performance)
        if performance_id is None or not isinstance(seats, dict):
            continue
        parsed = {
            seat_id: category_id
            for seat, category in list(seats.items())[:100]
            if (seat_id := parse_uuid(seat)) is not None and (category_id := parse_uuid(category))
        }
        if parsed:
            chosen[performance_id] = parsed
    return chosen


def seats_of(session: dict[str, Any], performance_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    return tuple(sorted(read_seats(session).get(performance_id, {})))


def choose_seats(
    session: dict[str, Any],
    lines: Sequence[CartLine],
    performance_id: uuid.UUID,
    seats: Mapping[uuid.UUID, uuid.UUID],
    now: datetime,
) -> list[CartLine]:
    """The cart's lines with the performance's seats (seat id -> category id) as the only
    tickets of that performance; stores the seats. Returns the new lines to write."""
    chosen = read_seats(session)
    chosen[performance_id] = dict(seats)
    _write(session, chosen)
    kept = [line for line in lines if line.performance_id != performance_id]
    per_category = Counter(seats.values())
    added = [
        CartLine(performance_id=performance_id, category_id=category, quantity=count, added_at=now)
        for category, count in sorted(per_category.items())
    ]
    return [*kept, *added]


def forget_seats(
    session: dict[str, Any], performance_id: uuid.UUID, category_id: uuid.UUID | None = None
) -> None:
    """Drop the performance's chosen seats (only those of `category_id` when given)."""
    chosen = read_seats(session)
    seats = chosen.get(performance_id, {})
    left = {s: c for s, c in seats.items() if category_id is not None and c != category_id}
    if left:
        chosen[performance_id] = left
    else:
        chosen.pop(performance_id, None)
    _write(session, chosen)


def chosen_seats(
    session: dict[str, Any], cart: CartValidation
) -> dict[uuid.UUID, tuple[uuid.UUID, ...]]:
    """The chosen seats of the performances the cart can still order, for the checkout."""
    orderable = {valid.line.performance_id for valid in cart.valid}
    return {
        performance_id: tuple(sorted(seats))
        for performance_id, seats in read_seats(session).items()
        if performance_id in orderable
    }


def clear_seats(session: dict[str, Any]) -> None:
    session.pop(SEATS_KEY, None)


def _write(
    session: dict[str, Any], chosen: Mapping[uuid.UUID, Mapping[uuid.UUID, uuid.UUID]]
) -> None:
    if not chosen:
        session.pop(SEATS_KEY, None)
        return
    session[SEATS_KEY] = {
        str(performance): {str(seat): str(category) for seat, category in seats.items()}
        for performance, seats in chosen.items()
    }
