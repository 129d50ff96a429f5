"""Job wake-ups as a transaction records them, for consumers to hear once it commits.

`announce` runs inside the transaction that makes a job runnable (an enqueue, a retry, a job
handed back). On Postgres it is a `pg_notify` on CHANNEL, which the server delivers when (and
only if) the transaction commits; workers LISTEN on a dedicated connection. On SQLite there is
no NOTIFY: the mark is kept on the connection, and `take_marks` hands it over when the
transaction ends. The job queue (`jobqueue.signals`) takes the marks of a commit and wakes this
process's consumers; a rollback drops them here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Pool, event, func, select

CHANNEL = "mierloos_jobs"
_WAKE_KEY = "mierloos_jobs_wake"


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


def take_marks(connection: Connection) -> dict[str, float | None] | None:
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


@event.listens_for(Engine, "rollback")
def _after_rollback(connection: Connection) -> None:
    take_marks(connection)


@event.listens_for(Pool, "reset")
def _on_pool_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
    # A connection returned to the pool without commit or rollback: its marks die with it.
    record.info.pop(_WAKE_KEY, None)
