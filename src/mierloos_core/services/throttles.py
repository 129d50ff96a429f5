"""Throttles over shared counters (`ThrottleStore`): plain attempt limits and login failures.

Login rules (`LoginPolicy`): only failures count. Per (account, client address) they are a
hard limit; per client address across accounts too (password spraying); per account across
all clients they only slow every attempt down by a growing delay, so nobody can lock out an
account from elsewhere and the owner, who knows the password, always gets in.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from mierloos_core import errors
from mierloos_core.ports import ThrottleStore


class ThrottleLimiter:
    """A `RateLimiter` over shared counters: each attempt counts, refused ones too."""

    def __init__(self, store: ThrottleStore) -> None:
        self.store = store

    def allow(self, key: str, limit: int, window: timedelta) -> bool:
        return self.store.hit(key, window) <= limit


@attrs.frozen(kw_only=True)
class LoginPolicy:
    window: timedelta = timedelta(minutes=15)
    failures_per_account_and_client: int = 10
    failures_per_client: int = 30
    # Across all clients: from this many failures on, every attempt on the account waits.
    delay_after_failures: int = 5
    max_delay: timedelta = timedelta(seconds=20)


class LoginThrottle:
    def __init__(self, store: ThrottleStore, policy: LoginPolicy = LoginPolicy()) -> None:
        self.store = store
        self.policy = policy

    @staticmethod
    def _keys(account: str, client: str | None) -> tuple[str, str | None, str | None]:
        return (
            f"login-fail:{account}",
            f"login-fail:{account}|{client}" if client is not None else None,
            f"login-fail-client:{client}" if client is not None else None,
        )

    def check(self, account: str, client: str | None) -> None:
        """Raises TooManyAttempts when this client may not try this account now."""
        _, pair, from_client = self._keys(account, client)
        policy = self.policy
        if pair is not None and self.store.count(pair) >= policy.failures_per_account_and_client:
            raise errors.TooManyAttempts()
        if from_client is not None and self.store.count(from_client) >= policy.failures_per_client:
            raise errors.TooManyAttempts()

    def delay(self, account: str) -> timedelta:
        """How long an attempt on `account` waits first: doubling per failure past the threshold."""
        failures = self.store.count(self._keys(account, None)[0])
        over = failures - self.policy.delay_after_failures
        if over < 0:
            return timedelta(0)
        return min(timedelta(seconds=2 ** min(over, 20)), self.policy.max_delay)

    def failed(self, account: str, client: str | None) -> None:
        for key in self._keys(account, client):
            if key is not None:
                self.store.hit(key, self.policy.window)

    def succeeded(self, account: str, client: str | None) -> None:
        # Only this client's own count starts over: another's failures still slow the account.
        pair = self._keys(account, client)[1]
        if pair is not None:
            self.store.clear(pair)
