"""What the parts of `JobsBroker` share: its settings, its queues' state, and database work
that survives a lost connection.

`BrokerBase` declares the attributes `JobsBroker.__init__` sets, so that the broker's parts
(`claims.Claiming`, `outcomes.Settling`, `background.BackgroundThreads`) can each be read on
their own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from dramatiq.errors import ConnectionClosed
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from mierloos_adapters.jobqueue.messages import JobMessage
from mierloos_adapters.jobqueue.statements import Statements
from mierloos_adapters.sqlalchemy.outages import Backoff, Outage, is_connection_lost
from mierloos_adapters.sqlalchemy.unit_of_work import is_contention
from mierloos_core.model.jobs import RetryPolicy
from mierloos_core.ports import Clock

_T = TypeVar("_T")


class QueueState:
    """One queue as this broker sees it: the jobs in hand and the reasons to wake up."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.wake = threading.Event()
        self.ready = False  # a job was announced as due now
        self.due: float | None = None  # earliest announced future due time (epoch seconds)
        self.in_hand: dict[str, JobMessage] = {}
        # Set by a consumer with too little room to claim: the in-hand count that wakes it.
        self.wake_below: int | None = None
        # A claim failed on a lost connection: it may have taken rows that are not in hand.
        self.orphans_possible = False


@contextlib.contextmanager
def connection_errors() -> Iterator[None]:
    """Lost or refused database connections become Dramatiq's connection errors."""
    try:
        yield
    except ConnectionClosed:
        raise
    except DBAPIError as error:
        if is_connection_lost(error) or is_contention(error):
            raise ConnectionClosed(error) from error
        raise
    except Exception as error:
        if is_connection_lost(error):
            raise ConnectionClosed(error) from error
        raise


class BrokerBase:
    """The state every part of the broker reads; `JobsBroker.__init__` sets it."""

    engine: Engine
    dialect: str
    clock: Clock
    policy: RetryPolicy
    lease: timedelta
    worker_id: str
    listen: bool
    outage: Outage
    queues: dict[str, QueueState]
    last_claim_at: float
    listener_connected: bool
    _lock: threading.RLock
    _stopping: bool
    _closed: threading.Event
    _threads: list[threading.Thread]
    _recurring: list[tuple[str, timedelta, dict[str, Any], str]]
    _statements: Statements
    _one_statement: Engine

    def wake(self, queue_name: str, due: float | None) -> None:
        state = self.queues.get(queue_name)
        if state is None:
            return
        with self._lock:
            if due is None or due <= time.time():
                state.ready = True
            else:
                state.due = due if state.due is None else min(state.due, due)
        state.wake.set()

    def wake_all(self) -> None:
        for name in list(self.queues):
            self.wake(name, None)

    def in_hand(self, queue_name: str | None = None) -> list[JobMessage]:
        with self._lock:
            states = [self.queues[queue_name]] if queue_name else list(self.queues.values())
            return [m for s in states for m in s.in_hand.values()]

    def unfinished(self) -> list[JobMessage]:
        """Jobs in hand whose actor has not returned yet (waiting or running)."""
        return [m for m in self.in_hand() if not m.finished]

    def _attempt(self, what: str, work: Callable[[], _T], *, deadline: float | None = None) -> _T:
        """Run database `work`; on a lost connection try again, with backoff, on a fresh one.

        Tries until `deadline` (a time.monotonic() value), or once when it is None; then
        raises ConnectionClosed. Outages are logged once, through `self.outage`.
        """
        backoff = Backoff()
        while True:
            try:
                with connection_errors():
                    result = work()
            except ConnectionClosed as error:
                self.outage.failed(what, error.__cause__ or error)
                pause = backoff.delay()
                if deadline is None or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                continue
            self.outage.recovered()
            return result
