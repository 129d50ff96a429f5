"""A performance's price categories as staff make them: copied from the show's default set.

`Performance.price` is the base price: the price of the performance's default category (its
first public one, what a cart line without a category buys). The staff form's one price sets
both, so the two stay in step.
"""

from __future__ import annotations

from mierloos_core.model.catalog import Performance
from mierloos_core.model.price_categories import PriceCategory, default_category
from mierloos_core.ports import UnitOfWork


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
