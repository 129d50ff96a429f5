"""Unit tests run the core against the memory fakes: no I/O, no sleeping.

The memory unit of work runs one transaction at a time under its store's lock, so a test here that
starts threads checks the outcome of calls in some order, not a race: the races run on SQLite and
Postgres in `tests/integration`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from tests.catalog_builders import CatalogBuilder


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def uow(store: MemoryStore, clock: FixedClock) -> MemoryUnitOfWork:
    return MemoryUnitOfWork(store, clock)


@pytest.fixture
def catalog(uow: MemoryUnitOfWork, clock: FixedClock) -> CatalogBuilder:
    return CatalogBuilder(lambda: MemoryUnitOfWork(uow.store, clock), clock)
