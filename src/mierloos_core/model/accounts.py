"""Accounts and password-reset tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from mierloos_core.model.ids import new_id
from mierloos_core.model.timeutil import require_aware


class Role(enum.StrEnum):
    """Who an account is. Staff roles, widest first: admin, counter (kassa), door (deur)."""

    VISITOR = "visitor"
    ADMIN = "admin"
    COUNTER = "kassa"
    DOOR = "deur"


class StaffArea(enum.Enum):
    """A part of the staff side; each staff role may enter some of them."""

    ADMIN = "admin"  # catalogue, coupons, jobs, staff accounts, reports: everything else
    ORDERS = "orders"  # finding orders, refunds, resending tickets
    COUNTER = "counter"  # selling at the counter, phone bookings
    DOOR = "door"  # checking tickets in


STAFF_ROLES = (Role.ADMIN, Role.COUNTER, Role.DOOR)

AREAS_BY_ROLE: dict[Role, frozenset[StaffArea]] = {
    Role.VISITOR: frozenset(),
    Role.ADMIN: frozenset(StaffArea),
    Role.COUNTER: frozenset({StaffArea.ORDERS, StaffArea.COUNTER, StaffArea.DOOR}),
    Role.DOOR: frozenset({StaffArea.DOOR}),
}


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
        return self.role is not Role.VISITOR

    def may_enter(self, area: StaffArea) -> bool:
        return area in AREAS_BY_ROLE[self.role]


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
