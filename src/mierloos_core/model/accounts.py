"""Accounts and password-reset tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from mierloos_core.model.ids import new_id
from mierloos_core.model.timeutil import require_aware


class Role(enum.StrEnum):
    VISITOR = "visitor"
    STAFF = "staff"


def normalize_email(email: str) -> str:
    return email.strip().lower()


@attrs.define(kw_only=True)
class User:
    email: str = attrs.field(converter=normalize_email)
    name: str
    password_hash: str = attrs.field(repr=False)
    created_at: datetime = attrs.field(validator=require_aware)
    role: Role = Role.VISITOR
    # When the password last changed (every change also ends all of the user's sessions).
    password_changed_at: datetime | None = attrs.field(default=None, validator=require_aware)
    id: uuid.UUID = attrs.field(factory=new_id)

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF


@attrs.define(kw_only=True)
class PasswordResetToken:
    """Only the token's hash is kept; the token itself lives in the e-mail alone."""

    user_id: uuid.UUID
    token_hash: str = attrs.field(repr=False)
    created_at: datetime = attrs.field(validator=require_aware)
    expires_at: datetime = attrs.field(validator=require_aware)
    used_at: datetime | None = attrs.field(default=None, validator=require_aware)
    id: uuid.UUID = attrs.field(factory=new_id)

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
