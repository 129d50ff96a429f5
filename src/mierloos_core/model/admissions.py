"""Admission at the door: what a scanned ticket code means, and the scan log's records.

A ticket is admitted once: when it is valid (its order paid, not refunded or cancelled), for
the performance at this door, and not admitted before. Every scan, whatever its result, is
recorded with the door and the staff member (or device) that made it.
"""

from __future__ import annotations

import enum
import hashlib
import re
import uuid
from datetime import datetime

import attrs

from mierloos_core.model.ids import new_id
from mierloos_core.model.orders import TicketStatus
from mierloos_core.model.timeutil import require_aware

# A ticket's QR code holds its secret: `secrets.token_urlsafe(32)`, 43 characters.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
# Scanned text longer than this is refused before anything else looks at it.
MAX_CODE_LENGTH = 200
MAX_DOOR_LENGTH = 60
MAX_STAFF_LENGTH = 254


class ScanResult(enum.StrEnum):
    ADMITTED = "admitted"
    ALREADY_ADMITTED = "already_admitted"
    OTHER_PERFORMANCE = "other_performance"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    UNPAID = "unpaid"
    UNKNOWN = "unknown"
    UNDONE = "undone"  # an admission taken back at the door

    @property
    def admits(self) -> bool:
        return self is ScanResult.ADMITTED

    @property
    def label(self) -> str:
        """Dutch, for the door's screen."""
        return _LABELS[self]


_LABELS = {
    ScanResult.ADMITTED: "Welkom",
    ScanResult.ALREADY_ADMITTED: "Deze kaart is al binnen",
    ScanResult.OTHER_PERFORMANCE: "Kaart voor een andere voorstelling",
    ScanResult.REFUNDED: "Kaart terugbetaald",
    ScanResult.CANCELLED: "Kaart geannuleerd",
    ScanResult.UNPAID: "Kaart niet betaald",
    ScanResult.UNKNOWN: "Onbekende kaart",
    ScanResult.UNDONE: "Toegang teruggedraaid",
}


def ticket_code(text: str) -> str | None:
    """The ticket secret in scanned or typed text, or None when it cannot be one.

    The QR code holds the bare secret; whitespace around it (a scanner's Enter, a paste) is
    ignored. Absurdly long text is refused before any pattern looks at it.
    """
    if len(text) > MAX_CODE_LENGTH:
        return None
    code = text.strip()
    return code if _SECRET.fullmatch(code) else None


def secret_hash(secret: str) -> str:
    """What the offline door list carries instead of a secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_secret_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


@attrs.frozen(kw_only=True)
class Admission:
    """When, at which door and by whom a ticket was let in."""

    at: datetime = attrs.field(validator=require_aware)
    door: str
    by: str


@attrs.frozen(kw_only=True)
class DoorTicket:
    """A ticket as the door sees it."""

    id: uuid.UUID
    order_id: uuid.UUID
    performance_id: uuid.UUID
    category_name: str
    holder_name: str
    status: TicketStatus
    order_paid: bool
    secret: str = attrs.field(repr=False)
    admission: Admission | None = None


def refusal(ticket: DoorTicket | None, performance_id: uuid.UUID) -> ScanResult | None:
    """Why `ticket` may not enter `performance_id`, or None when it may (if not in already)."""
    if ticket is None:
        return ScanResult.UNKNOWN
    if ticket.performance_id != performance_id:
        return ScanResult.OTHER_PERFORMANCE
    if ticket.status is TicketStatus.REFUNDED:
        return ScanResult.REFUNDED
    if ticket.status is TicketStatus.CANCELLED:
        return ScanResult.CANCELLED
    if ticket.status is TicketStatus.RESERVED or not ticket.order_paid:
        return ScanResult.UNPAID
    if ticket.admission is not None:
        return ScanResult.ALREADY_ADMITTED
    return None


@attrs.frozen(kw_only=True)
class Scan:
    """One line of the scan log."""

    performance_id: uuid.UUID
    ticket_id: uuid.UUID | None
    result: ScanResult
    door: str
    staff: str
    scanned_at: datetime = attrs.field(validator=require_aware)
    offline: bool = False
    # Reserved seating: the ticket's seat, so a seat let in twice is noticed at the door.
    seat_id: uuid.UUID | None = None
    id: uuid.UUID = attrs.field(factory=new_id)


@attrs.frozen(kw_only=True)
class CategoryCount:
    category_name: str
    admitted: int
    sold: int


@attrs.frozen(kw_only=True)
class DeviceToken:
    """A scanner app's key to the check-in API: stored as a hash, shown once when made."""

    name: str
    token_hash: str = attrs.field(repr=False)
    created_by: str
    created_at: datetime = attrs.field(validator=require_aware)
    performance_id: uuid.UUID | None = None  # None: every performance
    revoked_at: datetime | None = attrs.field(default=None, validator=require_aware)
    id: uuid.UUID = attrs.field(factory=new_id)

    def allows(self, performance_id: uuid.UUID) -> bool:
        return self.revoked_at is None and self.performance_id in (None, performance_id)
