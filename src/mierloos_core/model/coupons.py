"""Coupons: percentage or fixed discounts with a validity window, a usage limit and a minimum."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from mierloos_core import errors
from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.timeutil import require_aware


class DiscountKind(enum.StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


def normalize_code(code: str) -> str:
    return code.strip().upper()


def category_key(name: str) -> str:
    """A category name as coupons compare it: case and spacing do not count."""
    return " ".join(name.split()).casefold()


def _category_names(names: Iterable[str] | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    return tuple(sorted({category_key(name) for name in names if name.strip()}))


@attrs.define(kw_only=True)
class Coupon:
    code: str = attrs.field(converter=normalize_code)
    kind: DiscountKind
    # PERCENTAGE: percent off (0 < value <= 100, may have decimals); FIXED: cents off.
    value: Decimal = attrs.field(converter=Decimal)
    valid_from: datetime | None = attrs.field(default=None, validator=require_aware)
    valid_until: datetime | None = attrs.field(default=None, validator=require_aware)
    max_usages: int | None = None
    usage_count: int = 0
    minimum_order: Money = attrs.field(factory=Money.zero)
    active: bool = True
    description: str = ""
    # The Dutch names of the price categories it discounts, across every show ("CJP", "65+");
    # None: all of them. Names, not ids: one coupon serves every performance's "CJP".
    category_names: tuple[str, ...] | None = attrs.field(default=None, converter=_category_names)
    id: uuid.UUID = attrs.field(factory=new_id)

    def __attrs_post_init__(self) -> None:
        if self.category_names == ():
            raise ValueError("a coupon for chosen categories names at least one")
        if not self.code:
            raise ValueError("a coupon needs a code")
        if self.kind is DiscountKind.PERCENTAGE and not 0 < self.value <= 100:
            raise ValueError("a percentage lies in (0, 100]")
        if self.kind is DiscountKind.FIXED and (self.value <= 0 or self.value % 1):
            raise ValueError("a fixed discount is a positive whole number of cents")
        if self.max_usages is not None and self.max_usages < 0:
            raise ValueError("max_usages cannot be negative")

    @property
    def exhausted(self) -> bool:
        return self.max_usages is not None and self.usage_count >= self.max_usages

    def check(self, now: datetime, subtotal: Money) -> None:
        """Raise the domain error that says why this coupon cannot be used now for `subtotal`."""
        if not self.active or (self.valid_from is not None and now < self.valid_from):
            raise errors.CouponNotActive(code=self.code)
        if self.valid_until is not None and now >= self.valid_until:
            raise errors.CouponExpired(code=self.code)
        if self.exhausted:
            raise errors.CouponExhausted(code=self.code)
        if subtotal < self.minimum_order:
            raise errors.CouponMinimumNotMet(code=self.code, minimum=self.minimum_order.display())

    def applies_to(self, category_name_nl: str) -> bool:
        """Whether it discounts tickets of the category with this Dutch name."""
        return self.category_names is None or category_key(category_name_nl) in self.category_names

    def discount_for(self, subtotal: Money) -> Money:
        """The discount on `subtotal`; never more than the subtotal itself."""
        if self.kind is DiscountKind.PERCENTAGE:
            discount = subtotal.percentage(self.value)
        else:
            discount = Money(int(self.value))
        return min(discount, subtotal)


@attrs.define(kw_only=True)
class CouponUsage:
    """One use of a coupon by one order. Released (not deleted) when the order does not go on."""

    coupon_id: uuid.UUID
    order_id: uuid.UUID
    discount: Money
    created_at: datetime = attrs.field(validator=require_aware)
    released_at: datetime | None = attrs.field(default=None, validator=require_aware)
    id: uuid.UUID = attrs.field(factory=new_id)
