"""The Alembic migrations build exactly the schema the code maps, on both databases."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from mierloos_adapters.migrations import downgrade, upgrade
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_adapters.sqlalchemy.tables import metadata
from mierloos_core.errors import Busy
from tests.catalog_builders import CatalogBuilder
from tests.postgres_server import fresh_database

EXPECTED_TABLES = {
    "users",
    "shows",
    "performances",
    "orders",
    "tickets",
    "coupons",
    "coupon_usages",
    "payments",
    "payment_events",
    "jobs",
    "images",
    "password_reset_tokens",
}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def schema_differences(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_upgrade_builds_the_mapped_schema_and_downgrade_removes_it(empty_engine):
    upgrade(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) >= EXPECTED_TABLES
    assert schema_differences(empty_engine) == []

    upgrade(empty_engine)  # a second run is a no-op
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}


def _migrate_in_own_process(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_once(postgres_admin_url):
    with fresh_database(postgres_admin_url) as url:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=3, mp_context=context) as pool:
            results = [pool.submit(_migrate_in_own_process, url) for _ in range(3)]
            for result in results:
                result.result(timeout=120)
        engine = make_engine(url)
        assert schema_differences(engine) == []
        engine.dispose()


def test_a_lock_held_too_long_answers_busy_not_a_hang(postgres_engine, postgres_url, clock):
    from tests.integration.conftest import empty_all_tables

    empty_all_tables(postgres_engine)
    impatient = make_engine(postgres_url, lock_timeout_ms=200)
    catalog = CatalogBuilder(lambda: SqlUnitOfWork(postgres_engine, clock), clock)
    performance = catalog.performance(capacity=5, starts_in=timedelta(days=1))
    try:
        with postgres_engine.connect() as holder:
            holder.execute(
                text("SELECT id FROM performances WHERE id = :id FOR UPDATE"),
                {"id": performance.id},
            )
            with pytest.raises(Busy) as raised, SqlUnitOfWork(impatient, clock) as uow:
                uow.seats.reserve({performance.id: 1})
            holder.rollback()
        assert raised.value.code == "busy"
        assert catalog.seats_left(performance) == 5
    finally:
        impatient.dispose()


def test_sqlite_migrates_with_foreign_keys_off_and_refuses_to_leave_one_broken(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/mierloos.db")
    upgrade(engine, "0016")
    with engine.connect() as connection:
        # A row pointing at no performance, as only a migration with foreign keys off could leave.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute(
            text("INSERT INTO waitlists (performance_id, enabled, held) VALUES (:id, 1, 0)"),
            {"id": "0" * 32},
        )
        connection.commit()
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")

    with pytest.raises(RuntimeError, match=r"broken foreign keys in \['waitlists'\]"):
        upgrade(engine)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "0016"
        )
        # The connection went back to the pool with its foreign keys on again.
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
