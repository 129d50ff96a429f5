"""The Postgres engine's pool: a connection used a moment ago is handed out without a ping,
one the server closed meanwhile is replaced before anyone uses it, and a burst of more
threads than connections reuses the pool's connections instead of opening new ones."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from mierloos_adapters.sqlalchemy import make_engine
from mierloos_entrypoints.config import ConfigError, load_settings
from mierloos_entrypoints.container import build_container


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


def test_a_burst_of_more_threads_than_connections_reuses_the_pool(postgres_url):
    engine = make_engine(postgres_url, pool_size=3)
    backends: list[int] = []
    start = threading.Barrier(8)

    def use() -> None:
        start.wait()
        for _ in range(5):
            with engine.connect() as connection:
                pid = connection.execute(text("SELECT pg_backend_pid(), pg_sleep(0.01)")).one()[0]
                backends.append(pid)

    threads = [threading.Thread(target=use) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        engine.dispose()
    assert len(backends) == 40
    # Three server processes served all forty: none was opened for a moment and closed again.
    assert len(set(backends)) == 3


def test_the_pool_size_follows_database_pool_size(tmp_path: Path, postgres_url: str) -> None:
    environment = {
        "MIERLOOS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": postgres_url,
        "SECRET_KEY": "pool-test-Qw8Er4Ty2Ui6Op0As3Df7Gh1Jk5Lz9",
        "MIERLOOS_FAKE_PAYMENTS": "1",
    }
    default = build_container(load_settings(environment)).engine()
    sized = build_container(load_settings(environment | {"DATABASE_POOL_SIZE": "7"})).engine()
    try:
        assert default.pool.size() == 10  # type: ignore[attr-defined]
        assert sized.pool.size() == 7  # type: ignore[attr-defined]
    finally:
        default.dispose()
        sized.dispose()
    for wrong in ("0", "501", "twintig"):
        with pytest.raises(ConfigError) as refused:
            load_settings(environment | {"DATABASE_POOL_SIZE": wrong})
        assert "DATABASE_POOL_SIZE" in str(refused.value)
