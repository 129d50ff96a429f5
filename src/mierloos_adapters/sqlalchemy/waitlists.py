"""Waiting lists in SQL: `waitlists` (seats held per performance) and `waitlist_entries`.

The held seats move between `performances.available_seats` and `waitlists.held` with one
conditional UPDATE each, row counts checked; callers hold the performance's row lock, so the
row of `waitlists` a first hold inserts is inserted once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, enum_value
from mierloos_core.model.waitlist import EntryStatus, Waitlist, WaitlistEntry

WAITLIST_ROWS = RowMap(Waitlist, t.waitlists)
ENTRY_ROWS = RowMap(WaitlistEntry, t.waitlist_entries, status=enum_value(EntryStatus))
_entries = t.waitlist_entries.c
_seats = t.performances.c


class SqlWaitlists(SqlRepository):
    def get(self, performance_id: uuid.UUID) -> Waitlist:
        found = self._find(WAITLIST_ROWS, t.waitlists.c.performance_id == performance_id)
        return found or Waitlist(performance_id=performance_id)

    def set_enabled(self, performance_id: uuid.UUID, enabled: bool) -> None:
        self._ensure(performance_id)
        self.db.execute(
            update(t.waitlists)
            .where(t.waitlists.c.performance_id == performance_id)
            .values(enabled=enabled)
        )

    def hold(self, performance_id: uuid.UUID, seats: int) -> bool:
        if seats <= 0:
            return False
        taken = self.db.execute(
            update(t.performances)
            .where(_seats.id == performance_id, _seats.available_seats >= seats)
            .values(available_seats=_seats.available_seats - seats)
        )
        if taken.rowcount != 1:
            return False
        self._ensure(performance_id)
        self.db.execute(
            update(t.waitlists)
            .where(t.waitlists.c.performance_id == performance_id)
            .values(held=t.waitlists.c.held + seats)
        )
        return True

    def unhold(self, performance_id: uuid.UUID, seats: int) -> bool:
        if seats <= 0:
            return False
        given = self.db.execute(
            update(t.waitlists)
            .where(t.waitlists.c.performance_id == performance_id, t.waitlists.c.held >= seats)
            .values(held=t.waitlists.c.held - seats)
        )
        if given.rowcount != 1:
            return False
        back = self.db.execute(
            update(t.performances)
            .where(_seats.id == performance_id, _seats.available_seats + seats <= _seats.capacity)
            .values(available_seats=_seats.available_seats + seats)
        )
        if back.rowcount != 1:
            raise ValueError(f"cannot give back {seats} held seats")
        return True

    def add(self, entry: WaitlistEntry) -> None:
        self._insert(ENTRY_ROWS, entry)

    def get_entry(self, entry_id: uuid.UUID, *, for_update: bool = False) -> WaitlistEntry | None:
        return self._find(ENTRY_ROWS, _entries.id == entry_id, for_update=for_update)

    def find(self, performance_id: uuid.UUID, email: str) -> WaitlistEntry | None:
        return self._find(
            ENTRY_ROWS,
            _entries.performance_id == performance_id,
            func.lower(_entries.email) == email.lower(),
        )

    def by_token_hash(self, token_hash: str) -> WaitlistEntry | None:
        return self._find(ENTRY_ROWS, _entries.token_hash == token_hash)

    def by_offer_order(
        self, order_id: uuid.UUID, *, for_update: bool = False
    ) -> WaitlistEntry | None:
        return self._find(ENTRY_ROWS, _entries.offer_order_id == order_id, for_update=for_update)

    def entries(self, performance_id: uuid.UUID) -> list[WaitlistEntry]:
        return self._find_all(
            ENTRY_ROWS,
            _entries.performance_id == performance_id,
            order_by=[_entries.created_at, _entries.id],
        )

    def has_waiting(self, performance_id: uuid.UUID) -> bool:
        query = select(_entries.id).where(
            _entries.performance_id == performance_id,
            _entries.status == EntryStatus.WAITING.value,
        )
        return self.db.execute(query.limit(1)).first() is not None

    def update(self, entry: WaitlistEntry) -> None:
        self._update(ENTRY_ROWS, entry)

    def forget_started_before(self, moment: datetime) -> int:
        started = select(_seats.id).where(_seats.starts_at < moment)
        gone = self.db.execute(
            delete(t.waitlist_entries).where(_entries.performance_id.in_(started))
        )
        return int(gone.rowcount)

    def _ensure(self, performance_id: uuid.UUID) -> None:
        exists = select(t.waitlists.c.performance_id).where(
            t.waitlists.c.performance_id == performance_id
        )
        if self.db.execute(exists).first() is None:
            self.db.execute(
                insert(t.waitlists).values(performance_id=performance_id, enabled=True, held=0)
            )
