"""Price categories of performances, the default set of each show, and the seats a category
has left under its own limit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TypeVar

from sqlalchemy import Table, bindparam, delete, func, or_, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, Stored, cents, enum_value
from mierloos_core import errors
from mierloos_core.model.orders import TicketStatus
from mierloos_core.model.price_categories import (
    CategoryTemplate,
    PriceCategory,
    Visibility,
    in_order,
)

T = TypeVar("T", PriceCategory, CategoryTemplate)


def _terms_rows(item_type: type[T], table: Table) -> RowMap[T]:
    """A performance's categories and a show's default set store their terms alike."""
    return RowMap(
        item_type,
        table,
        price=cents("price_cents"),
        limit=Stored(column="seat_limit"),
        visibility=enum_value(Visibility),
    )


CATEGORY_ROWS = _terms_rows(PriceCategory, t.price_categories)
TEMPLATE_ROWS = _terms_rows(CategoryTemplate, t.show_price_categories)

_categories = t.price_categories.c
_HOLDING = [status.value for status in TicketStatus if status.holds_seat]
# Built once: they run on the checkout path.
_BY_PERFORMANCES = select(t.price_categories).where(
    _categories.performance_id.in_(bindparam("ids", expanding=True))
)
# A category without a limit has NULL seats and keeps them: the row is only checked to exist.
_TAKE = (
    update(t.price_categories)
    .where(
        _categories.id == bindparam("category_id"),
        or_(_categories.available.is_(None), _categories.available >= bindparam("seats")),
    )
    .values(available=_categories.available - bindparam("seats"))
)
_GIVE_BACK = (
    update(t.price_categories)
    .where(
        _categories.id == bindparam("category_id"),
        or_(
            _categories.available.is_(None),
            _categories.available + bindparam("seats") <= _categories.seat_limit,
        ),
    )
    .values(available=_categories.available + bindparam("seats"))
)


class SqlPriceCategories(SqlRepository):
    def add(self, category: PriceCategory) -> None:
        self._insert(CATEGORY_ROWS, category)

    def get(self, category_id: uuid.UUID, *, for_update: bool = False) -> PriceCategory | None:
        return self._find(CATEGORY_ROWS, _categories.id == category_id, for_update=for_update)

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PriceCategory]:
        return self._by_ids(CATEGORY_ROWS, ids)

    def for_performance(self, performance_id: uuid.UUID) -> list[PriceCategory]:
        return self.for_performances([performance_id])[performance_id]

    def for_performances(
        self, performance_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[PriceCategory]]:
        found: dict[uuid.UUID, list[PriceCategory]] = {i: [] for i in performance_ids}
        if performance_ids:
            for row in self.db.execute(_BY_PERFORMANCES, {"ids": list(performance_ids)}):
                found[row.performance_id].append(CATEGORY_ROWS.load(row))
        return {i: in_order(categories) for i, categories in found.items()}

    def update(self, category: PriceCategory) -> None:
        self._update(CATEGORY_ROWS, category, without=["limit", "available", "performance_id"])

    def change_limit(self, category_id: uuid.UUID, limit: int | None) -> bool:
        category = self.get(category_id, for_update=True)
        if category is None:
            return False
        by_id = t.price_categories.update().where(_categories.id == category_id)
        if limit is None:
            self.db.execute(by_id.values(seat_limit=None, available=None))
            return True
        if category.limit is not None:
            # From one limit to another: the counter moves by the difference, in one step.
            moved = self.db.execute(
                by_id.where(_categories.seat_limit - _categories.available <= limit).values(
                    available=_categories.available + (limit - _categories.seat_limit),
                    seat_limit=limit,
                )
            )
            return moved.rowcount == 1
        taken = self.db.execute(
            select(func.count())
            .select_from(t.tickets)
            .where(t.tickets.c.category_id == category_id, t.tickets.c.status.in_(_HOLDING))
        ).scalar_one()
        if taken > limit:
            return False
        self.db.execute(by_id.values(seat_limit=limit, available=limit - taken))
        return True

    def templates(self, show_id: uuid.UUID) -> list[CategoryTemplate]:
        templates = t.show_price_categories.c
        return self._find_all(
            TEMPLATE_ROWS,
            templates.show_id == show_id,
            order_by=[templates.position, templates.name_nl, templates.id],
        )

    def replace_templates(self, show_id: uuid.UUID, templates: Sequence[CategoryTemplate]) -> None:
        table = t.show_price_categories
        self.db.execute(delete(table).where(table.c.show_id == show_id))
        for template in templates:
            if template.show_id != show_id:
                raise ValueError("a template of another show")
            self._insert(TEMPLATE_ROWS, template)


class SqlCategorySeats(SqlRepository):
    """The seat inventory's half for categories: one conditional UPDATE per category."""

    def reserve(self, seats: Mapping[uuid.UUID, int]) -> None:
        for category_id in sorted(seats):
            wanted = seats[category_id]
            if wanted <= 0:
                raise ValueError("seats must be positive")
            taken = self.db.execute(_TAKE, {"category_id": category_id, "seats": wanted})
            if taken.rowcount != 1:
                raise self._refusal(category_id, wanted)

    def release(self, seats: Mapping[uuid.UUID, int]) -> None:
        for category_id in sorted(seats):
            wanted = seats[category_id]
            given = self.db.execute(_GIVE_BACK, {"category_id": category_id, "seats": wanted})
            if given.rowcount != 1:
                raise ValueError(f"cannot give back {wanted} seats of category {category_id}")

    def _refusal(self, category_id: uuid.UUID, wanted: int) -> errors.MierloosError:
        found = self.db.execute(select(_categories.id).where(_categories.id == category_id)).first()
        if found is None:
            return errors.UnknownPriceCategory(category_id=str(category_id), requested=wanted)
        return errors.PriceCategorySoldOut(category_id=str(category_id), requested=wanted)
