"""Shows and their performances, and the rule that says when a performance can be sold."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

import attrs

from mierloos_core.errors import InvalidTransition, NotEnoughSeats
from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.stock import StockLevel, stock_level
from mierloos_core.model.timeutil import require_aware


class PerformanceStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


# The performance state machine:
#
#   draft --publish--> published --unpublish--> draft   (only while nothing was ever sold)
#   draft --archive--> archived
#   published --cancel--> cancelled --archive--> archived
#   published --archive--> archived                     (only once it has started)
_NEXT_STATUSES: dict[PerformanceStatus, frozenset[PerformanceStatus]] = {
    PerformanceStatus.DRAFT: frozenset({PerformanceStatus.PUBLISHED, PerformanceStatus.ARCHIVED}),
    PerformanceStatus.PUBLISHED: frozenset(
        {PerformanceStatus.DRAFT, PerformanceStatus.CANCELLED, PerformanceStatus.ARCHIVED}
    ),
    PerformanceStatus.CANCELLED: frozenset({PerformanceStatus.ARCHIVED}),
    PerformanceStatus.ARCHIVED: frozenset(),
}


class UnavailableReason(enum.StrEnum):
    """Why a cart line or a request for seats cannot be honoured."""

    UNKNOWN = "unknown"
    PAST = "past"
    NOT_PUBLISHED = "not_published"
    CANCELLED = "cancelled"
    SOLD_OUT = "sold_out"
    NOT_ENOUGH_SEATS = "not_enough_seats"
    UNKNOWN_CATEGORY = "unknown_category"
    CATEGORY_NOT_FOR_SALE = "category_not_for_sale"
    CATEGORY_SOLD_OUT = "category_sold_out"  # its own limit has fewer seats left than asked

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
    UnavailableReason.UNKNOWN_CATEGORY: "Deze prijscategorie bestaat niet bij deze voorstelling.",
    UnavailableReason.CATEGORY_NOT_FOR_SALE: "Deze prijscategorie is niet online te koop.",
    UnavailableReason.CATEGORY_SOLD_OUT: (
        "Er zijn niet genoeg kaarten meer in deze prijscategorie."
    ),
}


@attrs.define(kw_only=True)
class Show:
    title: str
    slug: str
    description: str = ""
    genre: str = ""  # one word staff choose (Toneel, Muziek, ...); the agenda filters on it
    duration_minutes: int | None = None
    age_advice: str = ""  # e.g. "8+"; empty when the show suits everyone
    # The VAT (btw) percentage its tickets' prices include: 9 is the Dutch rate for theatre.
    vat_rate: Decimal = Decimal("9.00")
    id: uuid.UUID = attrs.field(factory=new_id)
    image_id: uuid.UUID | None = None
    created_at: datetime | None = None


@attrs.define(kw_only=True)
class Performance:
    show_id: uuid.UUID
    starts_at: datetime = attrs.field(validator=require_aware)
    # The base price: what its default price category costs (`services.price_categories`
    # keeps the two in step); tickets are sold at their category's price.
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

    @property
    def stock(self) -> StockLevel:
        """What visitors are told about the seats left (`model.stock`)."""
        return stock_level(self.available_seats, self.capacity)

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

    @property
    def seats_taken(self) -> int:
        """Seats held by pending orders or sold."""
        return self.capacity - self.available_seats

    @property
    def editable(self) -> bool:
        """Date, price, capacity and hall can change only before it is cancelled or archived."""
        return self.status in (PerformanceStatus.DRAFT, PerformanceStatus.PUBLISHED)

    def can_move_to(self, status: PerformanceStatus, now: datetime) -> bool:
        if status not in _NEXT_STATUSES[self.status]:
            return False
        # A performance still to come is cancelled (its buyers are told), never quietly archived.
        return not (
            self.status is PerformanceStatus.PUBLISHED
            and status is PerformanceStatus.ARCHIVED
            and self.starts_at > now
        )

    def move_to(self, status: PerformanceStatus, now: datetime) -> None:
        """Change status along the state machine; InvalidTransition for any other move."""
        if not self.can_move_to(status, now):
            raise InvalidTransition(
                _TRANSITION_REFUSALS.get(status, InvalidTransition.message),
                performance_id=str(self.id),
                status=self.status.value,
                target=status.value,
            )
        self.status = status

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


_TRANSITION_REFUSALS = {
    PerformanceStatus.PUBLISHED: "Alleen een concept kan gepubliceerd worden.",
    PerformanceStatus.DRAFT: "Alleen een gepubliceerde voorstelling kan terug naar concept.",
    PerformanceStatus.CANCELLED: "Alleen een gepubliceerde voorstelling kan geannuleerd worden.",
    PerformanceStatus.ARCHIVED: (
        "Archiveren kan voor een concept, een geannuleerde voorstelling of een voorstelling "
        "die al begonnen is. Annuleer een voorstelling die nog moet komen."
    ),
}
