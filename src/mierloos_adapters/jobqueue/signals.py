"""Wake-ups: how a committed job reaches idle consumers without waiting for their next poll.

A transaction that makes a job runnable records a wake-up (`announce`, in the persistence
package's `job_wakeups`, re-exported here with the NOTIFY channel and payload format). On
Postgres the server delivers it to the workers that LISTEN on CHANNEL. On SQLite this module
wakes the consumers of this process that `listen_locally` when such a transaction commits (a
rolled-back transaction wakes nobody). Consumers in other SQLite processes find the job at
their next poll.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, event

from mierloos_adapters.sqlalchemy.job_wakeups import CHANNEL, announce, parse, payload, take_marks

__all__ = [
    "CHANNEL",
    "Wakeable",
    "announce",
    "listen_locally",
    "parse",
    "payload",
    "stop_listening_locally",
]

log = logging.getLogger(__name__)


class Wakeable(Protocol):
    def wake(self, queue_name: str, due: float | None) -> None:
        """A job of `queue_name` is runnable at `due` (epoch seconds), or now when None."""
        ...


_listeners: weakref.WeakSet[Any] = weakref.WeakSet()
_listeners_lock = threading.Lock()


def listen_locally(listener: Wakeable) -> None:
    """Wake `listener` on commits in this process that announced jobs (SQLite)."""
    with _listeners_lock:
        _listeners.add(listener)


def stop_listening_locally(listener: Wakeable) -> None:
    with _listeners_lock:
        _listeners.discard(listener)


@event.listens_for(Engine, "commit")
def _after_commit(connection: Connection) -> None:
    # Fires just before the DBAPI commit. On SQLite that is early enough and not too early: a
    # woken consumer claims inside BEGIN IMMEDIATE, which waits for this commit to finish.
    marks = take_marks(connection)
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
