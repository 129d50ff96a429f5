"""Password reset links on real databases: one link fired twice at once sets one password."""

from __future__ import annotations

import functools
from datetime import timedelta

from mierloos_adapters.memory import MemoryRateLimiter, MemoryThrottleStore
from mierloos_adapters.passwords import Argon2PasswordHasher
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core import errors
from mierloos_core.model.accounts import PasswordResetToken, User
from mierloos_core.services.accounts import Accounts, ResetTokens
from mierloos_core.services.throttles import LoginThrottle
from tests.integration.test_payment_races import together

ROUNDS = 8
SECRET = "een-geheime-sleutel-voor-de-test-die-lang-genoeg-is"


def test_one_reset_link_fired_twice_at_once_sets_one_password(engine, clock):
    hasher = Argon2PasswordHasher()
    tokens = ResetTokens(SECRET)
    accounts = Accounts(
        lambda: SqlUnitOfWork(engine, clock),
        clock,
        hasher,
        MemoryRateLimiter(clock),
        tokens,
        logins=LoginThrottle(MemoryThrottleStore(clock)),
    )
    for round_number in range(ROUNDS):
        now = clock.now()
        user = User(
            email=f"dubbel{round_number}@example.nl",
            name="Dubbel Klik",
            password_hash=hasher.hash("Het-Oude-Wachtwoord-1"),
            created_at=now,
        )
        token = tokens.token(f"nonce-{round_number}-0123456789abcdefghijkl")
        with SqlUnitOfWork(engine, clock) as uow:
            uow.users.add(user)
            uow.reset_tokens.add(
                PasswordResetToken(
                    user_id=user.id,
                    token_hash=ResetTokens.digest(token),
                    created_at=now,
                    expires_at=now + timedelta(hours=1),
                )
            )
            uow.commit()

        problems = together(
            [
                functools.partial(accounts.reset_password, token, "Eerste-Nieuwe-Wachtwoord-1"),
                functools.partial(accounts.reset_password, token, "Tweede-Nieuwe-Wachtwoord-2"),
            ]
        )

        assert len(problems) == 1
        assert isinstance(problems[0], errors.InvalidResetLink)
        with SqlUnitOfWork(engine, clock) as uow:
            stored = uow.users.get(user.id)
        assert stored is not None
        works = [
            password
            for password in ("Eerste-Nieuwe-Wachtwoord-1", "Tweede-Nieuwe-Wachtwoord-2")
            if hasher.verify(stored.password_hash, password)
        ]
        assert len(works) == 1
        assert not accounts.reset_link_usable(token)
