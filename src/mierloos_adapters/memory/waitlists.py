"""Waiting lists in memory: the seats held for each list, and its entries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from mierloos_adapters.memory.store import MemoryStore, TableRepository, detached_copy
from mierloos_core.model.waitlist import EntryStatus, Waitlist, WaitlistEntry, queue_order


class _Entries(TableRepository[WaitlistEntry]):
    _table = "waitlist_entries"


class MemoryWaitlists:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._entries = _Entries(store)

    @property
    def _rows(self) -> dict[uuid.UUID, WaitlistEntry]:
        return self._store.waitlist_entries

    def get(self, performance_id: uuid.UUID) -> Waitlist:
        stored = self._store.waitlists.get(performance_id)
        return detached_copy(stored) if stored else Waitlist(performance_id=performance_id)

    def set_enabled(self, performance_id: uuid.UUID, enabled: bool) -> None:
        self._list(performance_id).enabled = enabled

    def hold(self, performance_id: uuid.UUID, seats: int) -> bool:
        performance = self._store.performances[performance_id]
        if seats <= 0 or performance.available_seats < seats:
            return False
        performance.available_seats -= seats
        self._list(performance_id).held += seats
        return True

    def unhold(self, performance_id: uuid.UUID, seats: int) -> bool:
        waitlist = self._list(performance_id)
        if seats <= 0 or waitlist.held < seats:
            return False
        waitlist.held -= seats
        self._store.performances[performance_id].available_seats += seats
        return True

    def add(self, item: WaitlistEntry) -> None:
        if self.find(item.performance_id, item.email) is not None:
            raise ValueError("that e-mail is on this list already")
        self._entries.add(item)

    def get_entry(self, entry_id: uuid.UUID, *, for_update: bool = False) -> WaitlistEntry | None:
        return self._entries.get(entry_id)

    def update(self, entry: WaitlistEntry) -> None:
        self._entries.update(entry)

    def find(self, performance_id: uuid.UUID, email: str) -> WaitlistEntry | None:
        wanted = email.lower()
        return self._find(
            lambda e: e.performance_id == performance_id and e.email.lower() == wanted
        )

    def by_token_hash(self, token_hash: str) -> WaitlistEntry | None:
        return self._find(lambda e: e.token_hash == token_hash)

    def by_offer_order(
        self, order_id: uuid.UUID, *, for_update: bool = False
    ) -> WaitlistEntry | None:
        return self._find(lambda e: e.offer_order_id == order_id)

    def entries(self, performance_id: uuid.UUID) -> list[WaitlistEntry]:
        mine = [e for e in self._rows.values() if e.performance_id == performance_id]
        return [detached_copy(e) for e in queue_order(mine)]

    def has_waiting(self, performance_id: uuid.UUID) -> bool:
        return any(
            e.performance_id == performance_id and e.status is EntryStatus.WAITING
            for e in self._rows.values()
        )

    def forget_started_before(self, moment: datetime) -> int:
        started = {p.id for p in self._store.performances.values() if p.starts_at < moment}
        gone = [e.id for e in self._rows.values() if e.performance_id in started]
        for entry_id in gone:
            del self._rows[entry_id]
        return len(gone)

    def _list(self, performance_id: uuid.UUID) -> Waitlist:
        return self._store.waitlists.setdefault(
            performance_id, Waitlist(performance_id=performance_id)
        )

    def _find(self, predicate: Callable[[WaitlistEntry], bool]) -> WaitlistEntry | None:
        found = next((e for e in self._rows.values() if predicate(e)), None)
        return detached_copy(found) if found is not None else None
