"""The unit of work over a `MemoryStore`."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Any, Self

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.memory.jobs import MemoryJobQueue
from mierloos_adapters.memory.repositories import (
    MemoryCoupons,
    MemoryImages,
    MemoryLoginSessions,
    MemoryOrders,
    MemoryPayments,
    MemoryPerformances,
    MemoryRefunds,
    MemoryResetTokens,
    MemorySeatInventory,
    MemoryShows,
    MemoryUsers,
)
from mierloos_adapters.memory.store import MemoryStore
from mierloos_core.ports import Clock


class MemoryUnitOfWork:
    """A unit of work over a MemoryStore, serialised by its lock and rolled back by snapshot."""

    def __init__(self, store: MemoryStore, clock: Clock | None = None) -> None:
        self.store = store
        self.shows = MemoryShows(store)
        self.performances = MemoryPerformances(store)
        self.seats = MemorySeatInventory(store)
        self.coupons = MemoryCoupons(store)
        self.orders = MemoryOrders(store)
        self.payments = MemoryPayments(store)
        self.refunds = MemoryRefunds(store)
        self.users = MemoryUsers(store)
        self.reset_tokens = MemoryResetTokens(store)
        self.sessions = MemoryLoginSessions(store)
        self.images = MemoryImages(store)
        self.jobs = MemoryJobQueue(store, clock or SystemClock())
        self._snapshot: dict[str, Any] | None = None

    def __enter__(self) -> Self:
        self.store.lock.acquire()
        self._snapshot = self.store.snapshot()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._snapshot = None
            self.store.lock.release()

    def commit(self) -> None:
        if self._snapshot is None:
            raise RuntimeError("commit outside the unit of work")
        self._snapshot = self.store.snapshot()

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.store.restore(copy.deepcopy(self._snapshot))
