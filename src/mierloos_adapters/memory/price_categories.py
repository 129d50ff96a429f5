"""Price categories of performances and the default set of each show, in a `MemoryStore`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import attrs

from mierloos_adapters.memory.store import MemoryStore, TableRepository, detached_copy
from mierloos_core.errors import UnknownPriceCategory
from mierloos_core.model.price_categories import CategoryTemplate, PriceCategory, in_order


class MemoryPriceCategories(TableRepository[PriceCategory]):
    _table = "price_categories"

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PriceCategory]:
        return {i: detached_copy(self._rows[i]) for i in ids if i in self._rows}

    def for_performance(self, performance_id: uuid.UUID) -> list[PriceCategory]:
        return self.for_performances([performance_id])[performance_id]

    def for_performances(
        self, performance_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[PriceCategory]]:
        wanted = set(performance_ids)
        found: dict[uuid.UUID, list[PriceCategory]] = {i: [] for i in performance_ids}
        for category in self._rows.values():
            if category.performance_id in wanted:
                found[category.performance_id].append(detached_copy(category))
        return {i: in_order(categories) for i, categories in found.items()}

    def update(self, item: PriceCategory) -> None:
        stored = self._rows[item.id]
        self._rows[item.id] = attrs.evolve(
            detached_copy(item),
            performance_id=stored.performance_id,
            limit=stored.limit,
            available=stored.available,
        )

    def change_limit(self, category_id: uuid.UUID, limit: int | None) -> bool:
        stored = self._rows.get(category_id)
        if stored is None:
            return False
        if stored.limit is not None and stored.available is not None:
            taken = stored.limit - stored.available
        else:
            taken = sum(
                order.category_seats_held()[category_id] for order in self._store.orders.values()
            )
        if limit is not None and taken > limit:
            return False
        stored.limit = limit
        stored.available = None if limit is None else limit - taken
        return True

    def templates(self, show_id: uuid.UUID) -> list[CategoryTemplate]:
        mine = [t for t in self._store.category_templates.values() if t.show_id == show_id]
        mine.sort(key=lambda t: (t.position, t.name_nl, str(t.id)))
        return [detached_copy(t) for t in mine]

    def replace_templates(self, show_id: uuid.UUID, templates: Sequence[CategoryTemplate]) -> None:
        if any(template.show_id != show_id for template in templates):
            raise ValueError("a template of another show")
        kept = {
            key: template
            for key, template in self._store.category_templates.items()
            if template.show_id != show_id
        }
        kept.update({template.id: detached_copy(template) for template in templates})
        self._store.category_templates = kept


def reserve_in_categories(store: MemoryStore, seats: Mapping[uuid.UUID, int]) -> None:
    """Take seats under each category's limit, in id order (the unit of work rolls back)."""
    for category_id in sorted(seats):
        category = store.price_categories.get(category_id)
        if category is None:
            raise UnknownPriceCategory(category_id=str(category_id))
        category.reserve(seats[category_id])


def release_in_categories(store: MemoryStore, seats: Mapping[uuid.UUID, int]) -> None:
    for category_id in sorted(seats):
        store.price_categories[category_id].release(seats[category_id])
