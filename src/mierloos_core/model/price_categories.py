"""Price categories: what one seat of a performance costs for whom (regular, child, CJP, press).

A performance sells its one capacity in categories. A category may hold its own `limit` of
seats inside that capacity (at most 20 CJP); its `available` count is kept like the
performance's `available_seats`, so a sale takes a seat from both. A show holds the default
set (`CategoryTemplate`) that its new performances copy.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable

import attrs

from mierloos_core.errors import PriceCategorySoldOut
from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.stock import StockLevel, stock_level

REGULAR_NAMES = ("Regulier", "Regular")  # the category every performance starts with


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # on sale to visitors
    STAFF = "staff"  # free tickets, press: only staff sell them


def _not_negative(instance: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None and (not isinstance(value, int) or value < 0):
        raise ValueError(f"{attribute.name} must be a whole number of at least 0")


def _price(instance: object, attribute: attrs.Attribute[Money], value: Money) -> None:
    if value.cents < 0:
        raise ValueError("a price cannot be negative")


@attrs.define(kw_only=True)
class CategoryTerms:
    """What a category and a show's default one both hold: names, price, limit, place."""

    name_nl: str
    name_en: str
    price: Money = attrs.field(validator=_price)
    # Seats this category may sell at most, inside the performance's capacity; None: no own limit.
    limit: int | None = attrs.field(default=None, validator=_not_negative)
    visibility: Visibility = Visibility.PUBLIC
    position: int = 0
    id: uuid.UUID = attrs.field(factory=new_id)


# The terms a performance's category takes over from its show's default one: all but the id.
_TERMS = tuple(field.name for field in attrs.fields(CategoryTerms) if field.name != "id")


@attrs.define(kw_only=True)
class CategoryTemplate(CategoryTerms):
    """One category of a show's default set, copied into each new performance."""

    show_id: uuid.UUID


@attrs.define(kw_only=True)
class PriceCategory(CategoryTerms):
    performance_id: uuid.UUID
    # Seats left under `limit` (None without one); only the seat inventory changes it.
    available: int | None = attrs.field(default=None, validator=_not_negative)

    def __attrs_post_init__(self) -> None:
        if not self.name_nl.strip() or not self.name_en.strip():
            raise ValueError("a category needs a Dutch and an English name")
        if self.limit is None:
            if self.available is not None:
                raise ValueError("only a category with a limit counts its seats")
        elif self.available is None:
            self.available = self.limit
        elif self.available > self.limit:
            raise ValueError("available must lie between 0 and the limit")

    @classmethod
    def regular(cls, performance_id: uuid.UUID, price: Money) -> PriceCategory:
        """The one category a performance has when nothing else was chosen: "Regulier"."""
        name_nl, name_en = REGULAR_NAMES
        return cls(performance_id=performance_id, name_nl=name_nl, name_en=name_en, price=price)

    @classmethod
    def from_template(cls, template: CategoryTemplate, performance_id: uuid.UUID) -> PriceCategory:
        """A new category, with an id of its own, on the terms of a show's default one."""
        terms = {name: getattr(template, name) for name in _TERMS}
        return cls(performance_id=performance_id, **terms)

    @property
    def public(self) -> bool:
        return self.visibility is Visibility.PUBLIC

    @property
    def limited(self) -> bool:
        return self.limit is not None

    @property
    def stock(self) -> StockLevel | None:
        """What visitors are told of the seats left under its own limit; None without one."""
        if self.available is None or self.limit is None:
            return None
        return stock_level(self.available, self.limit)

    def name(self, language: str) -> str:
        """The name in `language` ("nl" or "en"); Dutch for any other."""
        return self.name_en if language == "en" else self.name_nl

    def seats_left(self, performance_seats: int) -> int:
        """Seats this category can still sell, given what the performance has left."""
        if self.available is None:
            return performance_seats
        return min(self.available, performance_seats)

    def has_seats(self, seats: int) -> bool:
        return self.available is None or self.available >= seats

    def reserve(self, seats: int) -> None:
        """Take `seats` under the limit. Adapters make the same rule atomic in storage."""
        if seats <= 0:
            raise ValueError("seats must be positive")
        if not self.has_seats(seats):
            raise PriceCategorySoldOut(category_id=str(self.id), requested=seats)
        if self.available is not None:
            self.available -= seats

    def release(self, seats: int) -> None:
        if seats <= 0:
            raise ValueError("seats must be positive")
        if self.available is None or self.limit is None:
            return
        if self.available + seats > self.limit:
            raise ValueError("cannot give back more seats than were taken")
        self.available += seats


def in_order(categories: Iterable[PriceCategory]) -> list[PriceCategory]:
    """Categories as visitors and staff see them: by position, then name."""
    return sorted(categories, key=lambda c: (c.position, c.name_nl, str(c.id)))


def default_category(categories: Iterable[PriceCategory]) -> PriceCategory | None:
    """The first public category: what a cart line without a category buys."""
    return next((c for c in in_order(categories) if c.public), None)
