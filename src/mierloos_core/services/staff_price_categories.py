"""Staff manage price categories: a performance's own, and the default set of a show.

Every change to a performance's categories locks the performance first, then the category
(the lock order of `order_lifecycle`). The performance's price follows its default category
(the first public one), so the two stay in step whichever of them staff change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import attrs

from mierloos_core import errors
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import (
    CategoryTemplate,
    PriceCategory,
    Visibility,
    default_category,
)
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.order_lifecycle import get_performance
from mierloos_core.services.price_categories import MAX_LIMIT, change_limit, get_category

MAX_NAME = 100
MAX_PRICE = Money(100_000)
MAX_POSITION = 1000


@attrs.frozen(kw_only=True)
class CategoryForm:
    name_nl: str
    name_en: str
    price: Money
    limit: int | None = None  # seats of its own inside the performance's capacity; None: none
    visibility: Visibility = Visibility.PUBLIC
    position: int = 0


def _problems(form: CategoryForm) -> dict[str, str]:
    problems: dict[str, str] = {}
    for field in ("name_nl", "name_en"):
        name = " ".join(getattr(form, field).split())
        if not name or len(name) > MAX_NAME:
            problems[field] = f"Vul een naam in van hoogstens {MAX_NAME} tekens."
    if not Money.zero() <= form.price <= MAX_PRICE:
        problems["price"] = f"Kies een prijs van € 0,00 tot en met {MAX_PRICE.display()}."
    if form.limit is not None and not 0 <= form.limit <= MAX_LIMIT:
        problems["limit"] = f"Kies een grens van 0 tot en met {MAX_LIMIT} plaatsen, of geen."
    if not 0 <= form.position <= MAX_POSITION:
        problems["position"] = f"Kies een volgorde van 0 tot en met {MAX_POSITION}."
    return problems


def _checked(form: CategoryForm, taken_names: Sequence[str] = ()) -> CategoryForm:
    problems = _problems(form)
    name_nl = " ".join(form.name_nl.split())
    if name_nl.casefold() in {n.casefold() for n in taken_names}:
        problems["name_nl"] = "Deze voorstelling heeft al een categorie met die naam."
    if problems:
        raise errors.ValidationError(next(iter(problems.values())), fields=problems)
    return attrs.evolve(form, name_nl=name_nl, name_en=" ".join(form.name_en.split()))


@attrs.define(eq=False)
class StaffPriceCategories:
    uow: Callable[[], UnitOfWork]

    def for_performance(self, performance_id: uuid.UUID) -> list[PriceCategory]:
        with self.uow() as uow:
            get_performance(uow, performance_id)
            return uow.price_categories.for_performance(performance_id)

    def add(self, performance_id: uuid.UUID, form: CategoryForm) -> PriceCategory:
        """A new category of the performance (nothing sold in it yet)."""
        with self.uow() as uow:
            get_performance(uow, performance_id, lock=True)
            names = [c.name_nl for c in uow.price_categories.for_performance(performance_id)]
            form = _checked(form, names)
            category = PriceCategory(
                performance_id=performance_id, **attrs.asdict(form, recurse=False)
            )
            uow.price_categories.add(category)
            _price_follows_default(uow, performance_id)
            uow.commit()
        return category

    def edit(self, category_id: uuid.UUID, form: CategoryForm) -> PriceCategory:
        """Change names, price, visibility, position and limit; tickets sold keep their price.

        The limit cannot go below the seats its tickets hold (ValidationError on `limit`).
        """
        with self.uow() as uow:
            category = get_category(uow, category_id)
            performance_id = category.performance_id
            get_performance(uow, performance_id, lock=True)
            others = uow.price_categories.for_performance(performance_id)
            form = _checked(form, [c.name_nl for c in others if c.id != category_id])
            changed = attrs.evolve(category, **attrs.asdict(form, recurse=False, filter=_not_limit))
            uow.price_categories.update(changed)
            if form.limit != category.limit:
                change_limit(uow, category_id, form.limit)
            _price_follows_default(uow, performance_id)
            stored = get_category(uow, category_id)
            uow.commit()
        return stored

    def show_defaults(self, show_id: uuid.UUID) -> list[CategoryTemplate]:
        with self.uow() as uow:
            return uow.price_categories.templates(show_id)

    def set_show_defaults(
        self, show_id: uuid.UUID, forms: Sequence[CategoryForm]
    ) -> list[CategoryTemplate]:
        """The show's default set, copied into each performance added from now on."""
        checked: list[CategoryForm] = []
        for form in forms:
            checked.append(_checked(form, [f.name_nl for f in checked]))
        templates = [
            CategoryTemplate(show_id=show_id, **attrs.asdict(f, recurse=False)) for f in checked
        ]
        with self.uow() as uow:
            if uow.shows.get(show_id) is None:
                raise errors.NotFound("Deze voorstelling bestaat niet.", show_id=str(show_id))
            uow.price_categories.replace_templates(show_id, templates)
            uow.commit()
        return templates


def _not_limit(attribute: attrs.Attribute[object], value: object) -> bool:
    return attribute.name != "limit"


def _price_follows_default(uow: UnitOfWork, performance_id: uuid.UUID) -> None:
    """The performance's price is its default category's (see `services.price_categories`)."""
    performance = get_performance(uow, performance_id)
    base = default_category(uow.price_categories.for_performance(performance_id))
    if base is not None and base.price != performance.price:
        performance.price = base.price
        uow.performances.update(performance)
