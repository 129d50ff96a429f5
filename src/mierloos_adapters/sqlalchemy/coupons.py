"""Coupons and their usages: one usage per order, counted on the coupon under its limit."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import (
    RowMap,
    SqlRepository,
    Stored,
    cents,
    enum_value,
)
from mierloos_core.model.coupons import Coupon, CouponUsage, DiscountKind, normalize_code

COUPON_ROWS = RowMap(
    Coupon,
    t.coupons,
    kind=enum_value(DiscountKind),
    value=Stored(load=Decimal),
    minimum_order=cents("minimum_order_cents"),
    category_names=Stored(dump=lambda names: None if names is None else list(names)),
)
USAGE_ROWS = RowMap(CouponUsage, t.coupon_usages, discount=cents("discount_cents"))


class SqlCoupons(SqlRepository):
    def add(self, coupon: Coupon) -> None:
        self._insert(COUPON_ROWS, coupon)

    def get(self, coupon_id: uuid.UUID, *, for_update: bool = False) -> Coupon | None:
        return self._find(COUPON_ROWS, t.coupons.c.id == coupon_id, for_update=for_update)

    def get_by_code(self, code: str) -> Coupon | None:
        return self._find(COUPON_ROWS, t.coupons.c.code == normalize_code(code))

    def list(self) -> list[Coupon]:
        return self._all(COUPON_ROWS, select(t.coupons).order_by(t.coupons.c.code))

    def update(self, coupon: Coupon) -> None:
        # The usage count moves only through claim_usage and release_usage.
        self._update(COUPON_ROWS, coupon, without=["usage_count"])

    def claim_usage(self, usage: CouponUsage) -> bool:
        claimed = self.db.execute(
            update(t.coupons)
            .where(
                t.coupons.c.id == usage.coupon_id,
                or_(
                    t.coupons.c.max_usages.is_(None),
                    t.coupons.c.usage_count < t.coupons.c.max_usages,
                ),
            )
            .values(usage_count=t.coupons.c.usage_count + 1)
        )
        if claimed.rowcount != 1:
            return False
        self._insert(USAGE_ROWS, usage)
        return True

    def release_usage(self, order_id: uuid.UUID, at: datetime) -> bool:
        coupon_id = self.db.execute(
            update(t.coupon_usages)
            .where(t.coupon_usages.c.order_id == order_id, t.coupon_usages.c.released_at.is_(None))
            .values(released_at=at)
            .returning(t.coupon_usages.c.coupon_id)
        ).scalar()
        if coupon_id is None:
            return False
        self.db.execute(
            update(t.coupons)
            .where(t.coupons.c.id == coupon_id)
            .values(usage_count=t.coupons.c.usage_count - 1)
        )
        return True

    def usage_for_order(self, order_id: uuid.UUID) -> CouponUsage | None:
        return self._find(USAGE_ROWS, t.coupon_usages.c.order_id == order_id)
