"""Login sessions: started at login, ended by logout, a password change or their time limits.

The browser gets a random id; only its SHA-256 is stored, so a database dump opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable

from mierloos_core.model.accounts import User
from mierloos_core.model.sessions import LoginSession, SessionPolicy
from mierloos_core.ports import Clock, UnitOfWork

MAX_SESSION_ID = 100


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    def __init__(
        self, uow: Callable[[], UnitOfWork], clock: Clock, policy: SessionPolicy | None = None
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.policy = policy or SessionPolicy()

    def start(self, user: User) -> str:
        """A new session for `user`; returns the id to hand to the browser (only once)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.uow() as uow:
            uow.sessions.add(
                LoginSession(
                    id_hash=session_hash(session_id),
                    user_id=user.id,
                    staff=user.is_staff,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            uow.commit()
        return session_id

    def user(self, session_id: str) -> User | None:
        """The user of a live session, or None (unknown, ended, idle too long or too old)."""
        if not 20 <= len(session_id) <= MAX_SESSION_ID:
            return None
        id_hash = session_hash(session_id)
        now = self.clock.now()
        with self.uow() as uow:
            session = uow.sessions.get(id_hash)
            if session is None:
                return None
            user = uow.users.get(session.user_id)
            # A role change (made staff, or no longer) ends the session: its limits differ.
            if (
                user is None
                or not session.alive(now, self.policy)
                or user.is_staff != session.staff
            ):
                uow.sessions.delete(id_hash)
                uow.commit()
                return None
            if now - session.last_seen_at >= self.policy.touch_every:
                uow.sessions.touch(id_hash, now)
                uow.commit()
        return user

    def end(self, session_id: str) -> None:
        with self.uow() as uow:
            uow.sessions.delete(session_hash(session_id))
            uow.commit()

    def end_all(self, user_id: uuid.UUID) -> int:
        """Logs the user out everywhere; returns how many sessions ended."""
        with self.uow() as uow:
            ended = uow.sessions.delete_for_user(user_id)
            uow.commit()
        return ended

    def sweep(self) -> int:
        """Deletes sessions idle beyond the longest idle limit (housekeeping)."""
        longest = max(self.policy.staff_idle, self.policy.visitor_idle)
        with self.uow() as uow:
            removed = uow.sessions.delete_idle(self.clock.now() - longest)
            uow.commit()
        return removed
