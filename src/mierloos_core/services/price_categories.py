"""A performance's price categories as staff make them: copied from the show's default set.

`Performance.price` is the base price: the price of the performance's first category. The
staff form's one price sets both, so the two stay in step.
"""

from __future__ import annotations

import attrs

from mierloos_core.model.catalog import Performance
from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.ports import UnitOfWork


def add_categories(uow: UnitOfWork, performance: Performance) -> list[PriceCategory]:
    """Give a new performance its show's default categories, the first at the performance's
    price; "Regulier" alone when the show has no default set."""
    templates = uow.price_categories.templates(performance.show_id)
    categories = [PriceCategory.from_template(t, performance.id) for t in templates]
    if categories:
        categories[0] = attrs.evolve(categories[0], price=performance.price)
    else:
        categories = [PriceCategory.regular(performance.id, performance.price)]
    for category in categories:
        uow.price_categories.add(category)
    return categories


def keep_base_price(uow: UnitOfWork, performance: Performance) -> None:
    """After the performance's price changed: its first category costs the same."""
    categories = uow.price_categories.for_performance(performance.id)
    if not categories:
        uow.price_categories.add(PriceCategory.regular(performance.id, performance.price))
    elif categories[0].price != performance.price:
        categories[0].price = performance.price
        uow.price_categories.update(categories[0])
