"""Wake-ups: how a committed job reaches idle consumers without waiting for their next poll.

`announce` runs inside the transaction that makes a job runnable (an enqueue, a retry, a job
handed back). On Postgres it is a `pg_notify` on CHANNEL, which the server delivers when (and
only if) the transaction commits; workers LISTEN on a dedicated connection. On SQLite there is
no NOTIFY: the mark is kept on the connection and this process's consumers are woken when it
commits (a rolled-back transaction wakes nobody). Consumers in other SQLite processes find the
job at their next poll.

This module imports no other part of the package, so the repositories can use it.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Pool, event, func, select

log = logging.getLogger(__name__)

CHANNEL = "mierloos_jobs"
_WAKE_KEY = "mierloos_jobs_wake"


class Wakeable(Protocol):
    def wake(self, queue_name: str, due: float | None) -> None:
        """A job of `queue_name` is runnable at `due` (epoch seconds), or now when None."""
        ...


def payload(queue_name: str, due: datetime | None) -> str:
    return queue_name if due is None else f"{queue_name}|{due.timestamp():.6f}"


def parse(text: str) -> tuple[str, float | None]:
    queue_name, _, due = text.partition("|")
    try:
        return queue_name, float(due) if due else None
    except ValueError:
        return queue_name, None


def announce(connection: Connection, queue_name: str, due: datetime | None = None) -> None:
    """Tell idle consumers, once the caller's transaction commits, that a job is waiting."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_notify(CHANNEL, payload(queue_name, due))))
        return
    marks: dict[str, float | None] = connection.info.setdefault(_WAKE_KEY, {})
    epoch = None if due is None else due.timestamp()
    if queue_name in marks:
        earlier = marks[queue_name]
        epoch = None if earlier is None or epoch is None else min(earlier, epoch)
    marks[queue_name] = epoch


_listeners: weakref.WeakSet[Any] = weakref.WeakSet()
_listeners_lock = threading.Lock()


def listen_locally(listener: Wakeable) -> None:
    """Wake `listener` on commits in this process that announced jobs (SQLite)."""
    with _listeners_lock:
        _listeners.add(listener)


def stop_listening_locally(listener: Wakeable) -> None:
    with _listeners_lock:
        _listeners.discard(listener)


def _take_marks(connection: Connection) -> dict[str, float | None] | None:
    """The connection's wake marks, removed; None on a connection that was cut.

    Marks live only on SQLite connections. A Postgres connection may be invalidated by the
    time its transaction ends (the server went away): `info` would then raise, and an error
    raised here would replace the one that says the connection is gone.
    """
    if connection.dialect.name == "postgresql" or connection.invalidated:
        return None
    try:
        marks: dict[str, float | None] | None = connection.info.pop(_WAKE_KEY, None)
    except Exception:  # the connection died under us: its marks die with it
        return None
    return marks


@event.listens_for(Engine, "commit")
def _after_commit(connection: Connection) -> None:
    # Fires just before the DBAPI commit. On SQLite that is early enough and not too early: a
    # woken consumer claims inside BEGIN IMMEDIATE, which waits for this commit to finish.
    marks = _take_marks(connection)
    if not marks:
        return
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        for queue_name, due in marks.items():
            try:
                listener.wake(queue_name, due)
            except Exception:  # a wake-up is a hint; never fail the caller's commit
                log.exception("waking a job consumer failed")


@event.listens_for(Engine, "rollback")
def _after_rollback(connection: Connection) -> None:
    _take_marks(connection)


@event.listens_for(Pool, "reset")
def _on_pool_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
    # A connection returned to the pool without commit or rollback: its marks die with it.
    record.info.pop(_WAKE_KEY, None)
