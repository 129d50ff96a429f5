"""A performance's price categories as staff make them: copied from the show's default set.

`Performance.price` is the base price: the price of the performance's default category (its
first public one, what a cart line without a category buys). The staff form's one price sets
both, so the two stay in step.
"""

from __future__ import annotations

import uuid

from mierloos_core import errors
from mierloos_core.model.catalog import Performance
from mierloos_core.model.ids import new_id
from mierloos_core.model.price_categories import PriceCategory, default_category
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.order_lifecycle import get_performance, seats_added

MAX_LIMIT = 100_000


def add_categories(uow: UnitOfWork, performance: Performance) -> list[PriceCategory]:
    """Give a new performance its show's default categories, the default one (the first
    public) at the performance's price; "Regulier" at that price first when the set has no
    public category (or there is no set)."""
    templates = uow.price_categories.templates(performance.show_id)
    categories = [PriceCategory.from_template(t, performance.id) for t in templates]
    base = default_category(categories)
    if base is None:
        categories.insert(0, PriceCategory.regular(performance.id, performance.price))
    else:
        base.price = performance.price
    for category in categories:
        uow.price_categories.add(category)
    return categories


def keep_base_price(uow: UnitOfWork, performance: Performance) -> None:
    """After the performance's price changed: its default category costs the same (and a
    performance stored before it had categories gets "Regulier")."""
    categories = uow.price_categories.for_performance(performance.id)
    base = default_category(categories)
    if not categories:
        uow.price_categories.add(PriceCategory.regular(performance.id, performance.price))
    elif base is not None and base.price != performance.price:
        base.price = performance.price
        uow.price_categories.update(base)


def get_category(uow: UnitOfWork, category_id: uuid.UUID) -> PriceCategory:
    """The category as stored; UnknownPriceCategory when there is none."""
    category = uow.price_categories.get(category_id)
    return errors.required(category, errors.UnknownPriceCategory(category_id=str(category_id)))


def change_limit(uow: UnitOfWork, category_id: uuid.UUID, limit: int | None) -> PriceCategory:
    """Give a category its own limit of seats (None: none), inside an open `uow`.

    The performance is locked first, then the category (the lock order of `order_lifecycle`),
    so a checkout meanwhile either counted before or meets the new limit. A limit below the
    seats its tickets already hold is refused (ValidationError on `limit`).
    """
    category = get_category(uow, category_id)
    if limit is not None and not 0 <= limit <= MAX_LIMIT:
        problem = f"Kies een grens van 0 tot en met {MAX_LIMIT} plaatsen, of geen."
        raise errors.ValidationError(problem, fields={"limit": problem})
    get_performance(uow, category.performance_id, lock=True)
    if not uow.price_categories.change_limit(category_id, limit):
        problem = "In deze categorie zijn al meer kaarten verkocht of gereserveerd."
        raise errors.ValidationError(problem, fields={"limit": problem})
    changed = uow.price_categories.get(category_id)
    assert changed is not None
    if (changed.available or 0) > (category.available or 0) or limit is None:
        seats_added(uow, category.performance_id, 0, source=f"limit:{new_id()}")
    return changed
