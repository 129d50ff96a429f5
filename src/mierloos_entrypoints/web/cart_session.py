"""The visitor's cart, kept in the signed session cookie.

Stored compactly as ``[[performance id, quantity, added at, category id], ...]``, capped in
lines and quantities; an entry of three (a cookie from before price categories) buys the
performance's default category. Whatever the cookie holds is read defensively: an entry that
does not parse is dropped, never trusted. The server validates the lines against the catalogue
on every view.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from mierloos_core.model.cart import CartLine

CART_KEY = "cart"


def read_cart(session: dict[str, Any], *, max_lines: int, max_quantity: int) -> list[CartLine]:
    raw = session.get(CART_KEY)
    if not isinstance(raw, list):
        return []
    lines: list[CartLine] = []
    seen: set[tuple[uuid.UUID, uuid.UUID | None]] = set()
    for entry in raw[:max_lines]:
        line = _parse(entry, max_quantity)
        if line is not None and line.key not in seen:
            seen.add(line.key)
            lines.append(line)
    return lines


def write_cart(session: dict[str, Any], lines: list[CartLine]) -> None:
    if not lines:
        session.pop(CART_KEY, None)
        return
    session[CART_KEY] = [
        [
            str(line.performance_id),
            line.quantity,
            line.added_at.isoformat() if line.added_at else None,
            str(line.category_id) if line.category_id else None,
        ]
        for line in lines
    ]


def ticket_count(session: dict[str, Any]) -> int:
    raw = session.get(CART_KEY)
    if not isinstance(raw, list):
        return 0
    return sum(entry[1] for entry in raw if _parse(entry, 1000) is not None)


def add_line(
    lines: list[CartLine],
    performance_id: uuid.UUID,
    quantity: int,
    now: datetime,
    *,
    max_quantity: int,
    category_id: uuid.UUID | None = None,
) -> tuple[list[CartLine], CartLine, bool]:
    """The cart with `quantity` more tickets of the performance's category, capped at
    `max_quantity` per line.

    Returns the new lines, the changed line, and whether the cap cut the quantity down.
    """
    for index, line in enumerate(lines):
        if line.key == (performance_id, category_id):
            wanted = line.quantity + quantity
            changed = CartLine(
                performance_id=performance_id,
                category_id=category_id,
                quantity=min(wanted, max_quantity),
                added_at=line.added_at,
            )
            return [*lines[:index], changed, *lines[index + 1 :]], changed, wanted > max_quantity
    added = CartLine(
        performance_id=performance_id,
        category_id=category_id,
        quantity=min(quantity, max_quantity),
        added_at=now,
    )
    return [*lines, added], added, quantity > max_quantity


def remove_line(
    lines: list[CartLine], performance_id: uuid.UUID, category_id: uuid.UUID | None = None
) -> list[CartLine]:
    return [line for line in lines if line.key != (performance_id, category_id)]


def _parse(entry: object, max_quantity: int) -> CartLine | None:
    if not isinstance(entry, list) or len(entry) not in (3, 4):
        return None
    raw_id, quantity, raw_added, *rest = entry
    raw_category = rest[0] if rest else None
    if not isinstance(raw_id, str) or len(raw_id) != 36:
        return None
    if raw_category is not None and (not isinstance(raw_category, str) or len(raw_category) != 36):
        return None
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return None
    if not 1 <= quantity <= max_quantity:
        return None
    try:
        performance_id = uuid.UUID(raw_id)
        category_id = uuid.UUID(raw_category) if raw_category is not None else None
        added_at = datetime.fromisoformat(raw_added) if isinstance(raw_added, str) else None
    except ValueError:
        return None
    if added_at is not None and added_at.tzinfo is None:
        added_at = None
    return CartLine(
        performance_id=performance_id,
        category_id=category_id,
        quantity=quantity,
        added_at=added_at,
    )
