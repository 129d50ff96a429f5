"""The consumer Dramatiq's consumer thread reads jobs from, one queue each.

It claims in batches of up to `prefetch`, polls an idle queue with backoff, and sleeps until
a job is announced, a known due time arrives, or settled jobs free room for another claim.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dramatiq.broker import Consumer, MessageProxy
from dramatiq.errors import ConnectionClosed

from mierloos_adapters.jobqueue.base import QueueState
from mierloos_adapters.jobqueue.messages import JobMessage
from mierloos_adapters.sqlalchemy.outages import Backoff

if TYPE_CHECKING:
    from mierloos_adapters.jobqueue.broker import JobsBroker


class JobConsumer(Consumer):
    """Hands out claimed jobs, one at a time, to Dramatiq's consumer thread.

    It claims again when at least half of `prefetch` is free (so a busy worker claims in
    batches, not once per job), polls an idle queue with backoff, and wakes early when a job
    is announced, when a known due time arrives, or when settled jobs free room.
    """

    def __init__(
        self, broker: JobsBroker, state: QueueState, *, prefetch: int, timeout_ms: int
    ) -> None:
        self.broker = broker
        self.state = state
        self.prefetch = prefetch
        self.low_water = max(1, prefetch // 2)
        self.timeout = timeout_ms / 1000
        self.buffer: deque[JobMessage] = deque()
        self.idle_delay = broker.poll_interval
        self.next_poll = 0.0
        self.full = False
        self.closed = False
        self.retry = Backoff(first=0.05, cap=2.0)

    def __next__(self) -> MessageProxy | None:
        broker, state = self.broker, self.state
        deadline = time.monotonic() + self.timeout
        while True:
            broker.last_loop_at = time.time()
            if broker.stopping or self.closed:
                # Shutting down: hand nothing more to the worker; close() gives jobs back.
                state.wake.wait(max(0.0, min(deadline - time.monotonic(), 0.1)))
                return None
            if self.buffer:
                return self.buffer.popleft()
            now = time.monotonic()
            room = self._take_wake_ups(now)
            if now >= self.next_poll:
                if room >= self.low_water:
                    look_again = self._claim(room)
                else:
                    look_again = self._wait_for_room(now)
                if look_again:
                    continue
            remaining = min(deadline, self.next_poll) - time.monotonic()
            if remaining > 0 and state.wake.wait(remaining):
                # Every reason to wake is in the state folded above, so clearing is safe.
                state.wake.clear()
                continue
            if time.monotonic() >= deadline:
                return None

    def _take_wake_ups(self, now: float) -> int:
        """Fold what woke us (an announced job, a due time, freed room) into `next_poll`.

        Returns the room for claiming: `prefetch` less the jobs in hand."""
        state = self.state
        with self.broker._lock:
            room = self.prefetch - len(state.in_hand)
            if state.ready:
                state.ready = False
                self.next_poll = now
            if state.due is not None:
                self.next_poll = min(self.next_poll, now + state.due - time.time() + 0.001)
                state.due = None
        if self.full and room >= self.low_water:
            self.full = False
            state.wake_below = None
            self.next_poll = now
        return room

    def _claim(self, room: int) -> bool:
        """Claim up to `room` jobs into the buffer. True: look again at once; False: wait."""
        try:
            claimed, next_due = self.broker.claim(self.state, room)
        except ConnectionClosed:
            # Logged once by the broker's outage; the consumer stays and retries.
            self.next_poll = time.monotonic() + self.retry.delay()
            return True
        self.retry.reset()
        if claimed:
            self.buffer.extend(claimed)
            self.idle_delay = self.broker.poll_interval
            self.next_poll = time.monotonic()
            return True
        self._poll_later(next_due)
        return False

    def _poll_later(self, next_due: float | None) -> None:
        """Nothing to claim: poll again after a backoff, never past a known due time."""
        broker = self.broker
        wait = self.idle_delay
        # Without LISTEN (or while it reconnects) only polling finds new jobs.
        listening = broker.listener_connected or not broker.listen
        cap = broker.poll_cap if listening else broker.poll_interval
        self.idle_delay = min(self.idle_delay * 2, cap)
        if next_due is not None:
            # Never sleep past a known due time (retries, delayed jobs, leases).
            # One already past belongs to rows another claim holds locked.
            until = next_due - time.time()
            wait = min(wait, until + 0.001 if until > 0 else 0.05)
        self.next_poll = time.monotonic() + wait

    def _wait_for_room(self, now: float) -> bool:
        """Enough in hand: settled jobs wake us; look again now and then anyway.

        True when room was freed meanwhile: look again at once."""
        state = self.state
        self.full = True
        with self.broker._lock:
            state.wake_below = self.prefetch - self.low_water
            if len(state.in_hand) <= state.wake_below:
                return True  # room freed meanwhile
        self.next_poll = now + self.broker.poll_interval
        return False

    def ack(self, message: MessageProxy) -> None:
        if not isinstance(message, JobMessage):
            raise TypeError("not a message of this broker")
        # A completion is written by the broker's writer thread: the worker thread goes on.
        self.broker.settle_soon(message, "retry" if message.retry_in is not None else "completed")

    def nack(self, message: MessageProxy) -> None:
        if not isinstance(message, JobMessage):
            raise TypeError("not a message of this broker")
        self.broker.settle(message, "failed")

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        self.broker.requeue([m for m in messages if isinstance(m, JobMessage)])

    def close(self) -> None:
        self.closed = True
        waiting, self.buffer = list(self.buffer), deque()
        if waiting:
            self.broker.requeue(waiting)
