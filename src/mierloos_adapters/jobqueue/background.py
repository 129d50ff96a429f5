"""The broker's background threads, started once by `BackgroundThreads.start`.

- heartbeat: renews the leases of the jobs in hand that have not finished running;
- listener (Postgres): a LISTEN on its own connection that wakes the consumers as soon as a
  job is committed, reconnecting with backoff;
- scheduler: enqueues the recurring jobs, one per period however many workers run.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from dramatiq.errors import ConnectionClosed

from mierloos_adapters.jobqueue import signals
from mierloos_adapters.jobqueue.base import BrokerBase, connection_errors
from mierloos_adapters.sqlalchemy.jobs import SqlJobQueue
from mierloos_adapters.sqlalchemy.outages import Backoff, is_connection_lost
from mierloos_core.ports import NewJob

log = logging.getLogger(__name__)


class BackgroundThreads(BrokerBase):
    """The broker's threads: lease heartbeat, LISTEN for wake-ups, recurring jobs."""

    def start(self) -> None:
        """Start the heartbeat, the LISTEN thread and the scheduler (once)."""
        with self._lock:
            if self._threads or self._closed.is_set():
                return
            targets: list[tuple[str, Callable[[], None]]] = [("heartbeat", self._heartbeat_loop)]
            if self.listen:
                targets.append(("listener", self._listen_loop))
            if self._recurring:
                targets.append(("scheduler", self._schedule_loop))
            for name, target in targets:
                thread = threading.Thread(target=target, name=f"jobs-{name}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def schedule(
        self,
        job_type: str,
        every: timedelta,
        data: Mapping[str, Any] | None = None,
        *,
        queue_name: str = "default",
    ) -> None:
        """Enqueue `job_type` once per period of `every` (aligned on the Unix epoch).

        Every worker process tries; the dedupe key `{type}@{period start}` lets one job per
        period through however many run.
        """
        if every < timedelta(seconds=1):
            raise ValueError("recurring jobs run at most once a second")
        self._recurring.append((str(job_type), every, dict(data or {}), queue_name))

    def enqueue_recurring(self, now: datetime | None = None) -> list[uuid.UUID]:
        """Enqueue the current period's recurring jobs (deduplicated across workers)."""
        now = now or self.clock.now()
        ids = []
        for job_type, every, data, queue_name in self._recurring:
            period = every.total_seconds()
            start = datetime.fromtimestamp((now.timestamp() // period) * period, UTC)
            key = f"{job_type}@{start.isoformat()}"
            with connection_errors(), self.engine.begin() as connection:
                queue = SqlJobQueue(connection, self.clock)
                queue.queue_name = queue_name
                ids.append(queue.enqueue(NewJob(job_type, data, run_at=start, dedupe_key=key)))
        return ids

    def renew_leases(self) -> int:
        """Push forward the leases of the jobs in hand that have not finished running.

        A finished job waiting for its outcome to be written is left out: if the outcome
        cannot be written, its lease runs out and another worker takes the job over, rather
        than the job being held for ever. The number of rows renewed."""
        held = self.unfinished()
        if not held:
            return 0
        now = self.clock.now()
        until = time.monotonic() + self.lease.total_seconds()
        ids = [m.job_id for m in held]

        def renew() -> int:
            with self.engine.begin() as connection:
                result = connection.execute(
                    self._statements.renew,
                    {"ids": ids, "owner": self.worker_id, "expires": now + self.lease, "now": now},
                )
                return int(result.rowcount)

        renewed = self._attempt("renewing leases", renew)
        for message in held:
            message.lease_until = until
        return renewed

    def _heartbeat_loop(self) -> None:
        interval = self.lease.total_seconds() / 3
        backoff = Backoff(cap=min(2.0, interval))
        wait = interval
        while not self._closed.wait(wait):
            try:
                self.renew_leases()
                backoff.reset()
                wait = interval
            except ConnectionClosed:
                wait = backoff.delay()  # logged once by the outage; try again soon
            except Exception:
                log.exception("renewing job leases failed; will try again")
                wait = interval

    def _schedule_loop(self) -> None:
        done: set[str] = set()
        while not self._closed.is_set():
            now = self.clock.now()
            wait = 60.0
            for job_type, every, _data, _queue in self._recurring:
                period = every.total_seconds()
                start = (now.timestamp() // period) * period
                wait = min(wait, start + period - now.timestamp())
                key = f"{job_type}@{start}"
                if key in done or self._stopping:
                    continue
                try:
                    self.enqueue_recurring(now)
                    done.add(key)
                except ConnectionClosed as error:
                    self.outage.failed("scheduling recurring jobs", error.__cause__ or error)
                    wait = min(wait, 5.0)
                except Exception:
                    log.exception("scheduling %s failed; will try again", job_type)
                    wait = min(wait, 5.0)
            self._closed.wait(max(wait, 0.01) + 0.005)

    def _listen_loop(self) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        backoff = Backoff(first=0.1, cap=2.0)
        while not self._closed.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {signals.CHANNEL}")
                    self.listener_connected = True
                    self.outage.recovered()
                    backoff.reset()
                    self.wake_all()  # whatever was announced while we were not listening
                    while not self._closed.is_set():
                        for notice in conn.notifies(timeout=1.0):
                            queue_name, due = signals.parse(notice.payload)
                            self.wake(queue_name, due)
                            if self._closed.is_set():
                                break
            except Exception as error:
                self.listener_connected = False
                if self._closed.is_set():
                    break
                if is_connection_lost(error):
                    self.outage.failed("LISTEN", error)
                else:
                    log.exception("LISTEN failed; reconnecting")
                # Meanwhile consumers poll, so no job waits for the listener.
                self.wake_all()
                self._closed.wait(backoff.delay())
        self.listener_connected = False
