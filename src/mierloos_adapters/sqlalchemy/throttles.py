"""Throttle counters in the `throttle_counters` table, shared by every process on the database.

One upsert per hit: a key whose window has closed starts over at 1, otherwise its count grows.
Each call is its own short transaction, apart from any unit of work.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.ports import Clock

_rows = t.throttle_counters
# Closed windows are swept now and then, so the table holds only live keys.
_SWEEP_EVERY = 500


class SqlThrottleStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._hits = 0

    def hit(self, key: str, window: timedelta) -> int:
        now = self.clock.now()
        statement = self._insert(_rows).values(key=key, window_ends_at=now + window, count=1)
        closed = _rows.c.window_ends_at <= now
        upsert = statement.on_conflict_do_update(
            index_elements=[_rows.c.key],
            set_={
                "count": case((closed, 1), else_=_rows.c.count + 1),
                "window_ends_at": case((closed, now + window), else_=_rows.c.window_ends_at),
            },
        ).returning(_rows.c.count)
        with self.engine.begin() as connection:
            count = connection.execute(upsert).scalar_one()
            self._hits += 1
            if self._hits % _SWEEP_EVERY == 0:
                connection.execute(delete(_rows).where(_rows.c.window_ends_at <= now))
        return int(count)

    def count(self, key: str) -> int:
        query = select(_rows.c.count).where(
            _rows.c.key == key, _rows.c.window_ends_at > self.clock.now()
        )
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar_one_or_none()
        return int(found or 0)

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_rows).where(_rows.c.key == key))
