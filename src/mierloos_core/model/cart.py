"""The cart: lines of (performance, price category, quantity, added_at) and the outcome of
validating them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import attrs

from mierloos_core.model.catalog import Performance, Show, UnavailableReason
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.model.timeutil import require_aware


@attrs.frozen(kw_only=True)
class CartLine:
    performance_id: uuid.UUID
    quantity: int
    # None: the performance's first public category (what the site sold before categories).
    category_id: uuid.UUID | None = None
    added_at: datetime | None = attrs.field(default=None, validator=require_aware)

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID | None]:
        return self.performance_id, self.category_id


def merge_lines(lines: Iterable[CartLine]) -> list[CartLine]:
    """One line per (performance, category), quantities added up, first `added_at` kept, order
    preserved."""
    merged: dict[tuple[uuid.UUID, uuid.UUID | None], CartLine] = {}
    for line in lines:
        earlier = merged.get(line.key)
        if earlier is None:
            merged[line.key] = line
        else:
            merged[line.key] = attrs.evolve(earlier, quantity=earlier.quantity + line.quantity)
    return list(merged.values())


@attrs.frozen(kw_only=True)
class ValidLine:
    line: CartLine
    performance: Performance
    show: Show
    category: PriceCategory

    @property
    def unit_price(self) -> Money:
        return self.category.price

    @property
    def total(self) -> Money:
        return self.category.price * self.line.quantity


@attrs.frozen(kw_only=True)
class UnavailableLine:
    line: CartLine
    reason: UnavailableReason
    performance: Performance | None = None
    show: Show | None = None
    category: PriceCategory | None = None


@attrs.frozen(kw_only=True)
class CartValidation:
    valid: list[ValidLine]
    unavailable: list[UnavailableLine]

    @property
    def subtotal(self) -> Money:
        return sum((line.total for line in self.valid), Money.zero())

    @property
    def can_check_out(self) -> bool:
        return bool(self.valid)
