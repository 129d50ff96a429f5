"""Login sessions kept server-side: the browser holds a random id, the database its hash."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import attrs

from mierloos_core.model.timeutil import require_aware


@attrs.frozen(kw_only=True)
class SessionPolicy:
    """How long a login lasts: idle limits per kind of user, and an absolute limit."""

    staff_idle: timedelta = timedelta(hours=12)
    visitor_idle: timedelta = timedelta(days=7)
    staff_absolute: timedelta = timedelta(days=7)
    visitor_absolute: timedelta = timedelta(days=30)
    # `last_seen_at` is written at most this often, so every page view is not a write.
    touch_every: timedelta = timedelta(minutes=1)


@attrs.define(kw_only=True)
class LoginSession:
    id_hash: str = attrs.field(repr=False)
    user_id: uuid.UUID
    staff: bool
    created_at: datetime = attrs.field(validator=require_aware)
    last_seen_at: datetime = attrs.field(validator=require_aware)

    def alive(self, now: datetime, policy: SessionPolicy) -> bool:
        idle = policy.staff_idle if self.staff else policy.visitor_idle
        absolute = policy.staff_absolute if self.staff else policy.visitor_absolute
        return now < self.last_seen_at + idle and now < self.created_at + absolute
