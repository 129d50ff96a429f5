"""The queries that grow with the data have an index once the migrations ran, on both databases.

The account page (orders by user), the staff search (orders newest first), checkout's cap
on unpaid tickets (orders by e-mail and by client address), the refund follow-up (open
refunds) and the purge of completed jobs.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import make_engine
from tests.postgres_server import fresh_database


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("orders", ["user_id"]),
        ("orders", ["created_at"]),
        # Checkout counts a buyer's and a client's unpaid tickets while it holds the seats.
        ("orders", ["email"]),
        ("orders", ["client_address"]),
        ("refunds", ["status"]),
        ("jobs", ["status", "completed_at"]),
    ],
)
def test_a_query_that_grows_with_the_data_has_an_index(migrated_engine, table, columns):
    indexed = [index["column_names"] for index in inspect(migrated_engine).get_indexes(table)]

    assert columns in indexed
