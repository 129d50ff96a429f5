"""The Postgres engine's pool: a connection used a moment ago is handed out without a ping,
and one the server closed meanwhile is replaced before anyone uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from mierloos_adapters.sqlalchemy import make_engine


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def test_a_connection_handed_back_a_moment_ago_is_used_without_a_ping(engine, pings):
    with engine.connect() as connection:
        first = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() == first
    assert pings == []


def test_a_connection_the_server_closed_is_replaced_before_use(engine, pings, postgres_url):
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        with admin.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            for _ in range(100):  # the backend leaves a moment after it is told to
                if not other.execute(gone, {"pid": pid}).scalar():
                    break
                other.rollback()
                time.sleep(0.02)
    finally:
        admin.dispose()
    # At once, well within the idle time that pings anyway: the socket tells.
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    assert len(pings) == 1
