"""Shows and their performances, and the rule that says when a performance can be sold."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from mierloos_core.errors import NotEnoughSeats
from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.timeutil import require_aware


class PerformanceStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


class UnavailableReason(enum.StrEnum):
    """Why a cart line or a request for seats cannot be honoured."""

    UNKNOWN = "unknown"
    PAST = "past"
    NOT_PUBLISHED = "not_published"
    CANCELLED = "cancelled"
    SOLD_OUT = "sold_out"
    NOT_ENOUGH_SEATS = "not_enough_seats"

    @property
    def description(self) -> str:
        return _REASON_TEXT[self]

    @property
    def is_about_seats(self) -> bool:
        return self in (UnavailableReason.SOLD_OUT, UnavailableReason.NOT_ENOUGH_SEATS)


_REASON_TEXT = {
    UnavailableReason.UNKNOWN: "Deze voorstelling bestaat niet (meer).",
    UnavailableReason.PAST: "Deze voorstelling is al geweest.",
    UnavailableReason.NOT_PUBLISHED: "Deze voorstelling is niet te boeken.",
    UnavailableReason.CANCELLED: "Deze voorstelling is geannuleerd.",
    UnavailableReason.SOLD_OUT: "Uitverkocht.",
    UnavailableReason.NOT_ENOUGH_SEATS: "Er zijn minder plaatsen vrij dan gevraagd.",
}


@attrs.define(kw_only=True)
class Show:
    title: str
    slug: str
    description: str = ""
    id: uuid.UUID = attrs.field(factory=new_id)
    image_id: uuid.UUID | None = None
    created_at: datetime | None = None


@attrs.define(kw_only=True)
class Performance:
    show_id: uuid.UUID
    starts_at: datetime = attrs.field(validator=require_aware)
    price: Money
    capacity: int
    available_seats: int
    status: PerformanceStatus = PerformanceStatus.DRAFT
    hall: str | None = None
    id: uuid.UUID = attrs.field(factory=new_id)

    def __attrs_post_init__(self) -> None:
        if self.capacity < 0 or not 0 <= self.available_seats <= self.capacity:
            raise ValueError("available_seats must lie between 0 and capacity")

    @property
    def sold_out(self) -> bool:
        return self.available_seats == 0

    def unavailable_reason(self, now: datetime, seats: int = 1) -> UnavailableReason | None:
        """None when `seats` seats can be sold now, otherwise the first reason they cannot.

        A performance starting at exactly `now` is no longer sellable.
        """
        if self.status is PerformanceStatus.CANCELLED:
            return UnavailableReason.CANCELLED
        if self.status is not PerformanceStatus.PUBLISHED:
            return UnavailableReason.NOT_PUBLISHED
        if self.starts_at <= now:
            return UnavailableReason.PAST
        if self.available_seats == 0:
            return UnavailableReason.SOLD_OUT
        if self.available_seats < seats:
            return UnavailableReason.NOT_ENOUGH_SEATS
        return None

    def is_available(self, now: datetime, seats: int = 1) -> bool:
        return self.unavailable_reason(now, seats) is None

    def reserve(self, seats: int) -> None:
        """Take `seats` seats. Adapters make the same rule atomic in storage."""
        if seats <= 0:
            raise ValueError("seats must be positive")
        if self.available_seats < seats:
            raise NotEnoughSeats(performance_id=str(self.id), requested=seats)
        self.available_seats -= seats

    def release(self, seats: int) -> None:
        if seats <= 0 or self.available_seats + seats > self.capacity:
            raise ValueError("cannot give back more seats than were taken")
        self.available_seats += seats
