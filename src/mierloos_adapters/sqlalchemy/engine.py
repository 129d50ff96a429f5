"""Engines for Postgres and SQLite, set up so the unit of work's guarantees hold on both."""

from __future__ import annotations

import contextlib
import os
import select
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

# How long a statement waits for a row lock before the caller is told "busy, try again".
DEFAULT_LOCK_TIMEOUT_MS = 5000
# A pooled connection idle for longer than this is tested (one round trip) before use; one
# used more recently only when the server closed it meanwhile (see `_server_spoke`).
PING_AFTER_IDLE_S = 1.0
_CHECKED_IN = "mierloos_checked_in"


def normalize_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out and pick the psycopg 3 driver for Postgres."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 0,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    echo: bool = False,
    pre_ping: bool = True,
) -> Engine:
    """An engine for `url`. `pre_ping` tests a pooled connection before use (one round trip)
    when it has lain idle for over PING_AFTER_IDLE_S or the server closed it, so a restarted
    server costs no request; one handed back a moment ago, whose socket has nothing to read,
    is used at once (a busy pool pays no round trip per checkout). A caller that handles a
    lost connection itself, like the jobs broker, turns it off.

    The pool keeps `pool_size` connections open and, by default, makes no overflow ones: an
    overflow connection is closed as soon as it is handed back to a full pool, so a busy site
    whose concurrency swings around the pool's size connected anew for many of its requests
    (an onsale opened over 400 PostgreSQL sessions, each a server process started and
    authenticated, where under 60 do). A thread finding every connection in use waits for one.

    Bound parameters never reach a log line or an error message: they hold job payloads,
    addresses and reset nonces, and LOG_LEVEL=DEBUG logs every statement."""
    url = normalize_database_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, lock_timeout_ms=lock_timeout_ms, echo=echo)
    if backend == "postgresql":
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=60,
            echo=echo,
            hide_parameters=True,
            connect_args={
                "options": f"-c lock_timeout={lock_timeout_ms} -c timezone=UTC",
                "connect_timeout": 10,
                "application_name": "mierloos",
            },
        )
        if pre_ping:
            _ping_when_idle(engine)
        return engine
    raise ValueError(f"unsupported database {backend!r}: use postgresql or sqlite")


def _ping_when_idle(engine: Engine) -> None:
    """Test a connection that lay idle in the pool before handing it out: a dead one is
    replaced (the pool tries another, as with SQLAlchemy's own pre-ping)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_CHECKED_IN)
        if idle_since is None:
            return  # just connected
        recent = time.monotonic() - idle_since <= PING_AFTER_IDLE_S
        if recent and not _server_spoke(dbapi_connection):
            return  # handed back a moment ago, and the server has said nothing since
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error
        if not alive:  # pragma: no cover - psycopg's ping raises rather than answering False
            raise exc.DisconnectionError("the connection did not answer")


def _server_spoke(dbapi_connection: Any) -> bool:
    """Whether the server sent anything to an idle connection (no round trip: a look at its
    socket). It says nothing unasked but when it closes the connection (a restart, a crash,
    an administrator's kill): then the socket reads as ready."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError, AttributeError):
        return True  # no socket to look at: the ping decides
    return bool(readable)


def _private_file(url: str) -> None:
    """Create the database file 0600 before SQLite does (its WAL files take the same mode)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a file of another user is theirs to guard
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)


def _sqlite_engine(url: str, *, lock_timeout_ms: int, echo: bool) -> Engine:
    _private_file(url)
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": max(lock_timeout_ms, 30_000) / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={max(lock_timeout_ms, 30_000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # Take the write lock at the start: a deferred transaction that reads and then writes
        # can fail with SQLITE_BUSY when another writer commits in between, and no busy
        # timeout helps it.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
