"""Orders and tickets with their state machines.

    pending --paid--> paid --refund--> refunded
       |
       +--cancel--> cancelled   (payment failed or canceled)
       +--expire--> expired     (never paid before its expiry)

A ticket follows its order: reserved while pending, valid once paid, cancelled when the
order is cancelled or expired, refunded when its money went back.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Collection
from datetime import datetime

import attrs

from mierloos_core.errors import InvalidTransition
from mierloos_core.model.ids import new_id, new_order_number, new_secret
from mierloos_core.model.money import Money
from mierloos_core.model.timeutil import require_aware

LANGUAGES = ("nl", "en")  # the first is the default


def supported_language(language: str | None) -> str:
    """`language` when the site speaks it, else the default (Dutch)."""
    return language if language in LANGUAGES else LANGUAGES[0]


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class SalesChannel(enum.StrEnum):
    """Where an order was placed."""

    WEB = "web"
    COUNTER = "kassa"  # sold at the counter, paid there and then
    PHONE = "telefoon"  # reserved by phone for a buyer, paid at the counter or by transfer


class PaymentMethod(enum.StrEnum):
    """How an order is (to be) paid: the one column revenue is grouped by."""

    MOLLIE = "mollie"  # online, through the payment provider (every web order)
    CASH = "contant"
    PIN = "pin"
    FREE = "gratis"  # given away at the counter, with a reason
    TRANSFER = "overboeking"  # a bank transfer staff saw arrive
    AT_COUNTER = "aan_de_kassa"  # a phone booking not paid yet: to be paid at the counter

    @property
    def is_staff_entered(self) -> bool:
        """Staff record this payment by hand (not the provider)."""
        return self not in (PaymentMethod.MOLLIE, PaymentMethod.AT_COUNTER)


class TicketStatus(enum.StrEnum):
    RESERVED = "reserved"
    VALID = "valid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def holds_seat(self) -> bool:
        return self in (TicketStatus.RESERVED, TicketStatus.VALID)


@attrs.define(kw_only=True)
class Ticket:
    order_id: uuid.UUID
    performance_id: uuid.UUID
    # The price category it was sold in, and its name then (the category may be renamed).
    category_id: uuid.UUID
    category_name: str
    price: Money
    status: TicketStatus = TicketStatus.RESERVED
    secret: str = attrs.field(factory=new_secret, repr=False)
    id: uuid.UUID = attrs.field(factory=new_id)


@attrs.frozen(kw_only=True)
class TicketsPdf:
    """The stored PDF with the order's tickets."""

    key: str
    pages: int
    size: int
    created_at: datetime = attrs.field(validator=require_aware)


@attrs.define(kw_only=True)
class Order:
    email: str
    name: str
    subtotal: Money
    discount: Money
    created_at: datetime = attrs.field(validator=require_aware)
    expires_at: datetime = attrs.field(validator=require_aware)
    status: OrderStatus = OrderStatus.PENDING
    coupon_code: str | None = None
    user_id: uuid.UUID | None = None
    newsletter: bool = False
    # Where the checkout came from: caps the unpaid tickets one client may hold.
    client_address: str | None = None
    # The buyer's language ("nl" or "en"): every later e-mail and the ticket PDF use it.
    language: str = "nl"
    paid_at: datetime | None = attrs.field(default=None, validator=require_aware)
    closed_at: datetime | None = attrs.field(default=None, validator=require_aware)
    needs_attention: str | None = None
    tickets_pdf: TicketsPdf | None = None
    sales_channel: SalesChannel = SalesChannel.WEB
    payment_method: PaymentMethod = PaymentMethod.MOLLIE
    sold_by: uuid.UUID | None = None  # the staff user who sold it, or took the phone booking
    free_reason: str | None = None  # why staff gave it away (payment method "gratis")
    # A phone booking holds its seats until then (its expiry); unpaid, they go back.
    pay_before: datetime | None = attrs.field(default=None, validator=require_aware)
    phone: str | None = None  # a phone booking's buyer's number, when given
    # The counter form's key: the same form sent twice (a double click) makes one order.
    request_key: str | None = None
    tickets: list[Ticket] = attrs.field(factory=list)
    id: uuid.UUID = attrs.field(factory=new_id)
    number: str = attrs.field(factory=new_order_number)
    # Grants access to the order status page and tickets through the link in the e-mails.
    secret: str = attrs.field(factory=new_secret, repr=False)

    @property
    def total(self) -> Money:
        return self.subtotal - self.discount

    @property
    def valid_tickets(self) -> list[Ticket]:
        return [t for t in self.tickets if t.status is TicketStatus.VALID]

    def seats_held(self) -> Counter[uuid.UUID]:
        """Seats this order holds, per performance."""
        return Counter(t.performance_id for t in self.tickets if t.status.holds_seat)

    def category_seats_held(self) -> Counter[uuid.UUID]:
        """Seats this order holds, per price category (given back with the performance's)."""
        return Counter(t.category_id for t in self.tickets if t.status.holds_seat)

    def is_overdue(self, now: datetime) -> bool:
        return self.status is OrderStatus.PENDING and self.expires_at <= now

    def mark_paid(self, now: datetime, *, method: PaymentMethod | None = None) -> bool:
        """Confirm payment (by `method`, when given). False when already paid (a duplicate),
        an error from any other state."""
        if self.status is OrderStatus.PAID:
            return False
        self._require(OrderStatus.PENDING, "mark_paid")
        self.status = OrderStatus.PAID
        self.paid_at = now
        if method is not None:
            self.payment_method = method
        self.needs_attention = None
        self._move_tickets(TicketStatus.RESERVED, TicketStatus.VALID)
        return True

    def cancel(self, now: datetime) -> Counter[uuid.UUID]:
        """Cancel a pending order; returns the seats to give back (empty when already closed)."""
        return self._close(OrderStatus.CANCELLED, now)

    def expire(self, now: datetime) -> Counter[uuid.UUID]:
        """Expire an unpaid order; returns the seats to give back (empty when already closed)."""
        return self._close(OrderStatus.EXPIRED, now)

    def refund(self, now: datetime) -> Counter[uuid.UUID]:
        """All its money went back: tickets become invalid; returns the seats to give back.

        Empty when already refunded, so the seats return once; an error from any other state.
        """
        if self.status is OrderStatus.REFUNDED:
            return Counter()
        self._require(OrderStatus.PAID, "refund")
        released = self.seats_held()
        self.status = OrderStatus.REFUNDED
        self.closed_at = now
        self._move_tickets(TicketStatus.VALID, TicketStatus.REFUNDED)
        return released

    def refund_tickets(
        self, ticket_ids: Collection[uuid.UUID]
    ) -> tuple[Counter[uuid.UUID], Counter[uuid.UUID]]:
        """The money of some tickets of a paid order went back: those still valid become
        refunded (invalid). Returns their seats to give back, per performance and per price
        category; empty for tickets refunded before, so the seats return once."""
        self._require(OrderStatus.PAID, "refund_tickets")
        gone = [t for t in self.tickets if t.id in ticket_ids and t.status is TicketStatus.VALID]
        for ticket in gone:
            ticket.status = TicketStatus.REFUNDED
        return Counter(t.performance_id for t in gone), Counter(t.category_id for t in gone)

    def extend_expiry(self, until: datetime) -> None:
        if self.status is OrderStatus.PENDING and until > self.expires_at:
            self.expires_at = until

    def _close(self, status: OrderStatus, now: datetime) -> Counter[uuid.UUID]:
        if self.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            return Counter()
        self._require(OrderStatus.PENDING, status.value)
        released = self.seats_held()
        self.status = status
        self.closed_at = now
        self._move_tickets(TicketStatus.RESERVED, TicketStatus.CANCELLED)
        return released

    def _require(self, expected: OrderStatus, action: str) -> None:
        if self.status is not expected:
            raise InvalidTransition(order_id=str(self.id), status=self.status.value, action=action)

    def _move_tickets(self, source: TicketStatus, target: TicketStatus) -> None:
        for ticket in self.tickets:
            if ticket.status is source:
                ticket.status = target
