"""Rate limiting and throttle counters in this process's memory (one process, or tests)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from mierloos_adapters.clock import SystemClock
from mierloos_core.ports import Clock


class MemoryRateLimiter:
    """Sliding-window counts in this process's memory."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._hits: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: timedelta) -> bool:
        now = self._clock.now()
        with self._lock:
            recent = [t for t in self._hits.get(key, []) if t > now - window]
            allowed = len(recent) < limit
            if allowed:
                recent.append(now)
            self._hits[key] = recent
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without bound
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - window}
            return allowed


class MemoryThrottleStore:
    """Throttle counters in this process's memory (a single process, or tests)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._windows: dict[str, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: timedelta) -> int:
        now = self._clock.now()
        with self._lock:
            ends, count = self._windows.get(key, (now, 0))
            if ends <= now:
                ends, count = now + window, 0
            self._windows[key] = (ends, count + 1)
            if len(self._windows) > 100_000:  # forget closed windows rather than grow
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            return count + 1

    def count(self, key: str) -> int:
        with self._lock:
            ends, count = self._windows.get(key, (self._clock.now(), 0))
        return count if ends > self._clock.now() else 0

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)
