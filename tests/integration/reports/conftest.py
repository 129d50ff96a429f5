"""The reports' seed data in each store: the memory fake, SQLite and Postgres."""

from __future__ import annotations

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_adapters.memory.reports import MemoryReports
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy.reports import SqlReports
from tests.report_seed import seed


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def seeded_reports(request: pytest.FixtureRequest, clock: FixedClock):
    """(reports, seeded, engine or None)."""
    if request.param == "memory":
        store = MemoryStore()
        return MemoryReports(store), seed(lambda: MemoryUnitOfWork(store, clock)), None
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return SqlReports(engine), seed(lambda: SqlUnitOfWork(engine, clock)), engine
