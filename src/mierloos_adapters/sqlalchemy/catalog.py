"""Shows, their performances, and the seat inventory: the seats a performance has left."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.price_categories import SqlCategorySeats
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, cents, enum_value
from mierloos_core import errors
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show

SHOW_ROWS = RowMap(Show, t.shows)
PERFORMANCE_ROWS = RowMap(
    Performance, t.performances, price=cents("price_cents"), status=enum_value(PerformanceStatus)
)

_SHOW_BY_ID = select(t.shows).where(t.shows.c.id == bindparam("show_id"))


# Statements on the checkout path are built once: building them per call costs more Python
# time than the round trip to the database.
_SHOW_OF_PERFORMANCE = SHOW_ROWS.labelled("shows_")
_PERFORMANCES_WITH_SHOWS = (
    select(t.performances, *_SHOW_OF_PERFORMANCE.columns())
    .join_from(t.performances, t.shows, t.shows.c.id == t.performances.c.show_id)
    .where(t.performances.c.id.in_(bindparam("ids", expanding=True)))
)


class SqlShows(SqlRepository):
    def add(self, show: Show) -> None:
        self._insert(SHOW_ROWS, show)

    def get(self, show_id: uuid.UUID) -> Show | None:
        return self._first(SHOW_ROWS, _SHOW_BY_ID, {"show_id": show_id})

    def get_by_slug(self, slug: str) -> Show | None:
        return self._find(SHOW_ROWS, t.shows.c.slug == slug)

    def list(self) -> list[Show]:
        return self._all(SHOW_ROWS, select(t.shows).order_by(t.shows.c.title))

    def update(self, show: Show) -> None:
        self._update(SHOW_ROWS, show)


class SqlPerformances(SqlRepository):
    def add(self, performance: Performance) -> None:
        self._insert(PERFORMANCE_ROWS, performance)

    def get(self, performance_id: uuid.UUID, *, for_update: bool = False) -> Performance | None:
        by_id = t.performances.c.id == performance_id
        return self._find(PERFORMANCE_ROWS, by_id, for_update=for_update)

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Performance]:
        return self._by_ids(PERFORMANCE_ROWS, ids)

    def get_many_with_shows(
        self, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[Performance, Show]]:
        if not ids:
            return {}
        rows = self.db.execute(_PERFORMANCES_WITH_SHOWS, {"ids": list(ids)})
        return {
            row.id: (PERFORMANCE_ROWS.load(row), _SHOW_OF_PERFORMANCE.load(row)) for row in rows
        }

    def for_show(self, show_id: uuid.UUID) -> list[Performance]:
        performances = t.performances.c
        return self._find_all(
            PERFORMANCE_ROWS, performances.show_id == show_id, order_by=[performances.starts_at]
        )

    def upcoming(self, after: datetime) -> list[Performance]:
        performances = t.performances.c
        return self._find_all(
            PERFORMANCE_ROWS,
            performances.status == PerformanceStatus.PUBLISHED.value,
            performances.starts_at > after,
            order_by=[performances.starts_at],
        )

    def update(self, performance: Performance) -> None:
        self.db.execute(
            update(t.performances)
            .where(t.performances.c.id == performance.id)
            .values(
                starts_at=performance.starts_at,
                price_cents=performance.price.cents,
                status=performance.status.value,
                hall=performance.hall,
                # Capacity changes move the available seats by the same amount, atomically.
                available_seats=t.performances.c.available_seats
                + (performance.capacity - t.performances.c.capacity),
                capacity=performance.capacity,
            )
        )

    def change_capacity(self, performance_id: uuid.UUID, capacity: int) -> bool:
        seats = t.performances.c
        changed = self.db.execute(
            update(t.performances)
            .where(seats.id == performance_id, seats.capacity - seats.available_seats <= capacity)
            .values(
                available_seats=seats.available_seats + (capacity - seats.capacity),
                capacity=capacity,
            )
        )
        return changed.rowcount == 1


class SqlSeatInventory(SqlRepository):
    """One conditional UPDATE per performance, in sorted id order, row count checked; the same
    per price category (`SqlCategorySeats`)."""

    _take = (
        update(t.performances)
        .where(
            t.performances.c.id == bindparam("performance_id"),
            t.performances.c.status == PerformanceStatus.PUBLISHED.value,
            t.performances.c.available_seats >= bindparam("seats"),
        )
        .values(available_seats=t.performances.c.available_seats - bindparam("seats"))
        .returning(t.performances.c.seat_plan_id)
    )
    _give_back = (
        update(t.performances)
        .where(
            t.performances.c.id == bindparam("performance_id"),
            t.performances.c.available_seats + bindparam("seats") <= t.performances.c.capacity,
        )
        .values(available_seats=t.performances.c.available_seats + bindparam("seats"))
    )

    def reserve(self, seats: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, uuid.UUID]:
        plans: dict[uuid.UUID, uuid.UUID] = {}
        for performance_id in sorted(seats):
            wanted = seats[performance_id]
            if wanted <= 0:
                raise ValueError("seats must be positive")
            taken = self.db.execute(
                self._take, {"performance_id": performance_id, "seats": wanted}
            ).first()
            if taken is None:
                raise self._refusal(performance_id, wanted)
            if taken.seat_plan_id is not None:
                plans[performance_id] = taken.seat_plan_id
        return plans

    def release(self, seats: Mapping[uuid.UUID, int]) -> None:
        for performance_id in sorted(seats):
            result = self.db.execute(
                self._give_back, {"performance_id": performance_id, "seats": seats[performance_id]}
            )
            if result.rowcount != 1:
                raise ValueError(f"cannot give back {seats[performance_id]} seats")

    def reserve_in_categories(self, seats: Mapping[uuid.UUID, int]) -> None:
        SqlCategorySeats(self.db).reserve(seats)

    def release_in_categories(self, seats: Mapping[uuid.UUID, int]) -> None:
        SqlCategorySeats(self.db).release(seats)

    def _refusal(self, performance_id: uuid.UUID, wanted: int) -> errors.MierloosError:
        status = self.db.execute(
            select(t.performances.c.status).where(t.performances.c.id == performance_id)
        ).scalar()
        details: dict[str, Any] = {"performance_id": str(performance_id), "requested": wanted}
        if status is None:
            return errors.UnknownPerformance(**details)
        if status != PerformanceStatus.PUBLISHED.value:
            return errors.PerformanceUnavailable(**details)
        return errors.NotEnoughSeats(**details)
