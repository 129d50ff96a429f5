"""Lost database connections: how to recognise one, and how to say so once, not per attempt.

A connection cut under the broker surfaces as many exception types: the driver's
OperationalError, SQLAlchemy's wrappers of it, a PendingRollbackError raised by the next use
of a connection that was invalidated, a pool timeout while the server is down, or psycopg's
own errors on the LISTEN connection. `is_connection_lost` looks through the whole chain of
causes for any of them, so every path treats them alike: retry on a fresh connection.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
    ResourceClosedError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

_LOST = (
    OperationalError,
    InterfaceError,
    PendingRollbackError,
    ResourceClosedError,
    PoolTimeout,
    ConnectionError,
    TimeoutError,
)


def is_connection_lost(error: BaseException) -> bool:
    """True when `error`, or anything it was raised from, means "the connection is gone"."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _LOST):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if _is_driver_connection_error(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_driver_connection_error(error: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite only
        return False
    return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))


class Outage:
    """One WARNING per path when the database goes away, one INFO when it is back (per broker).

    Every path that hits a lost connection reports it here; the first report of each path
    (claiming, writing completions, renewing leases) in an outage is logged with the error, the
    rest are counted. `recovered` logs how long it
    lasted and how many attempts failed meanwhile.
    """

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.lock = threading.Lock()
        self.since: float | None = None
        self.failures = 0
        self.paths: set[str] = set()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, what: str, error: BaseException) -> None:
        with self.lock:
            self.failures += 1
            if what in self.paths:
                return
            self.paths.add(what)
            if self.since is None:
                self.since = time.monotonic()
        self.log.warning(
            "database connection lost during %s (%s); retrying on a fresh connection",
            what,
            _first_line(error),
        )

    def recovered(self) -> None:
        if self.since is None:
            return
        with self.lock:
            if self.since is None:
                return
            lasted, failures = time.monotonic() - self.since, self.failures
            self.since, self.failures = None, 0
            self.paths.clear()
        self.log.info(
            "database connection back after %.1f s (%d attempts failed meanwhile)",
            lasted,
            failures,
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0][:200] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class Backoff:
    """Delays between retries: from `first` doubling up to `cap` seconds."""

    def __init__(self, first: float = 0.05, cap: float = 2.0) -> None:
        self.first = first
        self.cap = cap
        self.next = first

    def delay(self) -> float:
        current = self.next
        self.next = min(self.next * 2, self.cap)
        return current

    def reset(self) -> None:
        self.next = self.first
