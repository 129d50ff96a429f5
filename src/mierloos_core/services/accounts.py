"""Accounts: registration, login, staff, and a password reset that is safe.

Reset links: the e-mail job carries only a random nonce; the token in the link is an HMAC of
that nonce under the site's secret key, derived when the mail is rendered. The database keeps
only the token's SHA-256. So neither the jobs table (shown to staff) nor a database dump nor
the logs hold a usable link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import timedelta

import attrs

from mierloos_core import errors
from mierloos_core.model.accounts import PasswordResetToken, Role, User, normalize_email
from mierloos_core.model.commands import SendEmail
from mierloos_core.ports import PasswordHasher, RateLimiter, UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.checkout import clean_email, clean_name
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.throttles import LoginThrottle

log = logging.getLogger(__name__)

_COMMON = {
    "wachtwoord",
    "wachtwoord1",
    "wachtwoord123",
    "password",
    "password1",
    "password123",
    "welkom123",
    "qwertyuiop",
    "1234567890",
    "0123456789",
    "theater123",
    "mierlo1234",
}


@attrs.frozen(kw_only=True)
class AccountPolicy:
    min_password: int = 10
    max_password: int = 256  # hashing cost grows with length: cap it
    reset_lifetime: timedelta = timedelta(hours=1)
    resets_per_email_per_hour: int = 3
    resets_per_client_per_hour: int = 10
    # Each registration costs a hash and sends a mail, and tells whether an address is taken.
    registrations_per_client_per_hour: int = 10


def check_password(password: str, *, email: str, policy: AccountPolicy) -> None:
    lowered = password.lower()
    if (
        not policy.min_password <= len(password) <= policy.max_password
        or lowered in _COMMON
        or lowered == email.lower()
        or lowered == email.split("@")[0].lower()
        or len(set(password)) < 4
    ):
        raise errors.WeakPassword()


class ResetTokens:
    """Derives reset tokens from nonces; only someone with the secret key can."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(("password-reset:" + secret_key).encode()).digest()

    def token(self, nonce: str) -> str:
        digest = hmac.new(self._key, nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


@attrs.define(eq=False)
class Accounts(Service):
    hasher: PasswordHasher
    limiter: RateLimiter
    tokens: ResetTokens
    policy: AccountPolicy = AccountPolicy()
    logins: LoginThrottle = attrs.field(kw_only=True)
    # Verified against when the e-mail is unknown, so both answers take as long.
    _dummy_hash: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def register(
        self,
        email: str,
        name: str,
        password: str,
        *,
        role: Role = Role.VISITOR,
        client: str | None = None,
    ) -> User:
        """A new account. `client` (the caller's address) throttles registrations from it."""
        email, name = clean_email(email), clean_name(name)
        if client is not None and not self.limiter.allow(
            f"register-client:{client}",
            self.policy.registrations_per_client_per_hour,
            timedelta(hours=1),
        ):
            raise errors.TooManyAttempts()
        check_password(password, email=email, policy=self.policy)
        now = self.clock.now()
        user = User(
            email=email,
            name=name,
            password_hash=self.hasher.hash(password),
            role=role,
            created_at=now,
            password_changed_at=now,
        )
        with self.uow() as uow:
            if uow.users.get_by_email(email) is not None:
                raise errors.AccountExists()
            try:
                uow.users.add(user)
            except ValueError:  # the same address registered a moment ago
                raise errors.AccountExists() from None
            enqueue(
                uow,
                SendEmail(
                    template="account_created",
                    to=user.email,
                    context={"name": user.name, "email": user.email},
                    once_key=str(user.id),
                ),
            )
            uow.commit()
        return user

    def create_staff(
        self, email: str, name: str, password: str, *, role: Role = Role.ADMIN
    ) -> User:
        """A staff account with `role`, or an existing account given it and this password."""
        if role is Role.VISITOR:
            raise errors.ValidationError("Kies een rol voor medewerkers.")
        email = clean_email(email)
        with self.uow() as uow:
            existing = uow.users.get_by_email(email)
        if existing is None:
            return self.register(email, name, password, role=role)
        check_password(password, email=email, policy=self.policy)
        with self.uow() as uow:
            user = uow.users.get(existing.id)
            assert user is not None
            user.role = role
            self._set_password(uow, user, password)
            uow.commit()
        return user

    def authenticate(self, email: str, password: str, *, client: str | None = None) -> User | None:
        """The user for these credentials, or None. Rehashes when the parameters changed.

        Failed attempts are counted per account and client address (`client`); past the
        limits this raises TooManyAttempts. Callers wait `login_delay` first.
        """
        address = normalize_email(email)
        self.logins.check(address, client)
        user = self._verify(address, password)
        if user is None:
            self.logins.failed(address, client)
            return None
        self.logins.succeeded(address, client)
        if self.hasher.needs_rehash(user.password_hash):
            with self.uow() as uow:
                fresh = uow.users.get(user.id)
                if fresh is not None and fresh.password_hash == user.password_hash:
                    fresh.password_hash = self.hasher.hash(password)
                    uow.users.update(fresh)
                    uow.commit()
                    user = fresh
        return user

    def login_delay(self, email: str) -> timedelta:
        """How long to wait before trying this account: grows with its recent failures."""
        return self.logins.delay(normalize_email(email))

    def _verify(self, address: str, password: str) -> User | None:
        if len(password) > self.policy.max_password:
            return None
        with self.uow() as uow:
            user = uow.users.get_by_email(address)
        if user is None:
            self.hasher.verify(self._dummy_hash, password)
            return None
        return user if self.hasher.verify(user.password_hash, password) else None

    def request_password_reset(self, email: str, *, client: str) -> None:
        """Mail a reset link if the address has an account. Says nothing either way."""
        address = normalize_email(email)
        if len(address) > 254 or not self.limiter.allow(
            f"reset-client:{client}", self.policy.resets_per_client_per_hour, timedelta(hours=1)
        ):
            log.info("password reset throttled for a client")
            return
        now = self.clock.now()
        with self.uow() as uow:
            user = uow.users.get_by_email(address)
            if user is None:
                return
            recent = uow.reset_tokens.count_since(user.id, now - timedelta(hours=1))
            if recent >= self.policy.resets_per_email_per_hour:
                log.info("password reset throttled for user %s", user.id)
                return
            nonce = secrets.token_urlsafe(32)
            uow.reset_tokens.add(
                PasswordResetToken(
                    user_id=user.id,
                    token_hash=ResetTokens.digest(self.tokens.token(nonce)),
                    created_at=now,
                    expires_at=now + self.policy.reset_lifetime,
                )
            )
            enqueue(
                uow,
                SendEmail(
                    template="password_reset",
                    to=user.email,
                    context={"name": user.name, "reset_nonce": nonce},
                ),
            )
            uow.commit()
        log.info("password reset mail queued for user %s", user.id)

    def reset_link_usable(self, token: str) -> bool:
        """Whether a reset link still works, so its page can say so before asking anything."""
        if not 20 <= len(token) <= 100:
            return False
        with self.uow() as uow:
            found = uow.reset_tokens.get_by_hash(ResetTokens.digest(token))
        return found is not None and found.usable(self.clock.now())

    def reset_password(self, token: str, new_password: str) -> User:
        """Set a new password with a reset link's token; every other token dies with it."""
        if not 20 <= len(token) <= 100:
            raise errors.InvalidResetLink()
        now = self.clock.now()
        with self.uow() as uow:
            found = uow.reset_tokens.get_by_hash(ResetTokens.digest(token), for_update=True)
            if found is None or not found.usable(now):
                raise errors.InvalidResetLink()
            user = uow.users.get(found.user_id)
            if user is None:
                raise errors.InvalidResetLink()
            check_password(new_password, email=user.email, policy=self.policy)
            self._set_password(uow, user, new_password)
            uow.commit()
        log.info("password reset completed for user %s", user.id)
        return user

    def change_password(self, user_id: uuid.UUID, current: str, new_password: str) -> User:
        with self.uow() as uow:
            user = uow.users.get(user_id)
            if user is None or not self.hasher.verify(user.password_hash, current):
                raise errors.ValidationError("Je huidige wachtwoord klopt niet.")
            check_password(new_password, email=user.email, policy=self.policy)
            self._set_password(uow, user, new_password)
            uow.commit()
        return user

    def _set_password(self, uow: UnitOfWork, user: User, password: str) -> None:
        now = self.clock.now()
        user.password_hash = self.hasher.hash(password)
        user.password_changed_at = now
        uow.users.update(user)
        uow.reset_tokens.void_all(user.id, now)
        # Every session of the user ends with the old password; the caller starts a new one.
        uow.sessions.delete_for_user(user.id)
