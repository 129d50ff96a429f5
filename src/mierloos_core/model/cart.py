"""The cart: lines of (performance, quantity, added_at) and the outcome of validating them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import attrs

from mierloos_core.model.catalog import Performance, Show, UnavailableReason
from mierloos_core.model.money import Money
from mierloos_core.model.timeutil import require_aware


@attrs.frozen(kw_only=True)
class CartLine:
    performance_id: uuid.UUID
    quantity: int
    added_at: datetime | None = attrs.field(default=None, validator=require_aware)


def merge_lines(lines: Iterable[CartLine]) -> list[CartLine]:
    """One line per performance, quantities added up, first `added_at` kept, order preserved."""
    merged: dict[uuid.UUID, CartLine] = {}
    for line in lines:
        earlier = merged.get(line.performance_id)
        if earlier is None:
            merged[line.performance_id] = line
        else:
            merged[line.performance_id] = attrs.evolve(
                earlier, quantity=earlier.quantity + line.quantity
            )
    return list(merged.values())


@attrs.frozen(kw_only=True)
class ValidLine:
    line: CartLine
    performance: Performance
    show: Show

    @property
    def total(self) -> Money:
        return self.performance.price * self.line.quantity


@attrs.frozen(kw_only=True)
class UnavailableLine:
    line: CartLine
    reason: UnavailableReason
    performance: Performance | None = None
    show: Show | None = None


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
