"""Throttle counters in Redis (REDIS_URL), shared by every process that uses the same server.

A hit is one round trip: a Lua script starts the key's window (with its expiry) on the first
hit and increments it atomically. Redis expires closed windows by itself.
"""

from __future__ import annotations

import math
from datetime import timedelta

import redis
from redis.exceptions import RedisError

from mierloos_core.errors import DependencyUnavailable

_PREFIX = "mierloos:throttle:"
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""


class RedisThrottleStore:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._hit = self.client.register_script(_HIT)

    def hit(self, key: str, window: timedelta) -> int:
        milliseconds = max(1, math.ceil(window.total_seconds() * 1000))
        try:
            return int(self._hit(keys=[_PREFIX + key], args=[milliseconds]))
        except RedisError as error:
            raise DependencyUnavailable("redis is not answering") from error

    def count(self, key: str) -> int:
        try:
            found = self.client.get(_PREFIX + key)
        except RedisError as error:
            raise DependencyUnavailable("redis is not answering") from error
        return int(found) if found is not None else 0  # type: ignore[arg-type]

    def clear(self, key: str) -> None:
        try:
            self.client.delete(_PREFIX + key)
        except RedisError as error:
            raise DependencyUnavailable("redis is not answering") from error
