"""Reports: the read side staff, the board and the accountant use (figures and export lines).

Definitions every implementation keeps (the SQL adapter in single aggregate queries, the memory
fake in Python; the contract test holds them to the same numbers):

- A ticket is *sold* while valid, *held* while reserved (its order unpaid), *refunded* once its
  money went back; cancelled tickets (orders cancelled or expired) count nowhere but there.
- What a ticket *paid* (incl. VAT) is its price less its share of the order's discount, shared
  by cumulative rounding over the order's tickets by position, so the tickets of an order add
  up to the order's total exactly (`services.reports.allocate`). Revenue is what sold and
  refunded tickets paid: the money that came in.
- Refunds count while not failed or canceled (requested, on the way, or done). A refund is
  spread over the performances of its order in proportion to what their tickets paid, by the
  same cumulative rounding (performances by id), so the parts add up to the refund exactly.
- A period's sales are the orders placed (`created_at`) in it and the refunds made in it; its
  occupancy is over the performances that start in it (sold tickets / capacity).
- Admittance at the door is not recorded yet: `admitted` is None. The payment method of an
  order is the provider of its paid payment ("mollie", "fake"), or None without one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import attrs

from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.orders import OrderStatus, TicketStatus


@attrs.frozen(kw_only=True)
class Period:
    """From `start` (inclusive) to `end` (exclusive), aware UTC; `label` for people."""

    start: datetime
    end: datetime
    label: str = ""


@attrs.frozen(kw_only=True)
class CategoryFigures:
    name: str
    sold: int
    refunded: int
    revenue_cents: int


@attrs.frozen(kw_only=True)
class MethodFigures:
    method: str | None
    orders: int
    revenue_cents: int


@attrs.frozen(kw_only=True)
class CouponFigures:
    code: str | None
    orders: int
    tickets: int
    discount_cents: int
    revenue_cents: int


class NetOfRefunds:
    """Figures with revenue and refunds: what remains of the revenue after the refunds."""

    revenue_cents: int
    refunds_cents: int

    @property
    def net_cents(self) -> int:
        return self.revenue_cents - self.refunds_cents


@attrs.frozen(kw_only=True)
class PerformanceReport(NetOfRefunds):
    performance_id: uuid.UUID
    show_id: uuid.UUID
    show_title: str
    starts_at: datetime
    status: PerformanceStatus
    capacity: int
    free: int
    sold: int
    held: int
    refunded: int
    cancelled: int
    admitted: int | None
    revenue_cents: int
    refunds_cents: int
    by_category: tuple[CategoryFigures, ...]
    by_method: tuple[MethodFigures, ...]
    by_coupon: tuple[CouponFigures, ...]


@attrs.frozen(kw_only=True)
class SalesRow(NetOfRefunds):
    """The sales of one show or one performance in a period."""

    id: uuid.UUID
    title: str
    starts_at: datetime | None
    orders: int
    tickets: int
    revenue_cents: int
    refunds_cents: int


@attrs.frozen(kw_only=True)
class OccupancyRow:
    performance_id: uuid.UUID
    title: str
    starts_at: datetime
    status: PerformanceStatus
    capacity: int
    sold: int

    @property
    def occupancy(self) -> Decimal:
        """Sold tickets / capacity, as a percentage with one decimal (0 without capacity)."""
        if not self.capacity:
            return Decimal("0.0")
        return (Decimal(self.sold) * 100 / self.capacity).quantize(Decimal("0.1"))


@attrs.frozen(kw_only=True)
class PeriodTotals(NetOfRefunds):
    orders: int
    paid_orders: int
    tickets: int
    revenue_cents: int
    refunds_cents: int


@attrs.frozen(kw_only=True)
class PeriodReport:
    period: Period
    totals: PeriodTotals
    shows: tuple[SalesRow, ...]
    """By revenue, highest first."""
    performances: tuple[SalesRow, ...]
    """By start."""
    occupancy: tuple[OccupancyRow, ...]
    """The performances starting in the period, by start."""

    def top_shows(self, n: int = 5) -> tuple[SalesRow, ...]:
        return self.shows[:n]


@attrs.frozen(kw_only=True)
class DailySales:
    """Tickets sold (orders placed) per whole day before a performance's start."""

    performance_id: uuid.UUID
    label: str
    starts_at: datetime
    per_day: tuple[tuple[int, int], ...]
    """(days before the start, tickets), days descending; tickets sold after it count as 0."""


@attrs.frozen(kw_only=True)
class LineFilter:
    """Which lines an export holds: all of them unless narrowed."""

    period: Period | None = None
    show_id: uuid.UUID | None = None
    performance_id: uuid.UUID | None = None
    status: OrderStatus | None = None


@attrs.frozen(kw_only=True)
class TicketLine:
    ticket_id: uuid.UUID
    order_number: str
    ordered_at: datetime
    order_status: OrderStatus
    status: TicketStatus
    name: str
    email: str
    show_title: str
    starts_at: datetime
    category: str
    price_cents: int
    paid_cents: int
    vat_rate: Decimal
    admitted_at: datetime | None
    seat: str = ""  # reserved seating: "Zaal, rij 5, stoel 12" (the seat the ticket holds)


@attrs.frozen(kw_only=True)
class OrderLine:
    order_number: str
    ordered_at: datetime
    paid_at: datetime | None
    status: OrderStatus
    name: str
    email: str
    tickets: int
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    coupon_code: str | None
    payment_method: str | None


@attrs.frozen(kw_only=True)
class MoneyLine:
    """The accountant's line: a payment (positive) or a refund (negative) for one show."""

    kind: str
    """"betaling" or "terugbetaling"."""
    at: datetime
    order_number: str
    reference: str
    """The provider's id of the payment or refund (or ours when it has none)."""
    method: str | None
    status: str
    show_title: str
    gross_cents: int
    vat_rate: Decimal


class Reports(Protocol):
    """The reports' figures and export lines, each read in one go from a consistent state."""

    def performance(self, performance_id: uuid.UUID) -> PerformanceReport | None: ...
    def period(self, period: Period) -> PeriodReport: ...
    def daily_sales(self, performance_ids: Sequence[uuid.UUID]) -> list[DailySales]:
        """Per performance (those that exist, in the order asked)."""
        ...

    def revenue_per_bucket(self, buckets: Sequence[Period]) -> list[int]:
        """Revenue of the orders placed in each bucket, in the buckets' order."""
        ...

    def ticket_lines(self, only: LineFilter) -> Iterator[TicketLine]:
        """By performance start, order number and position; streamed."""
        ...

    def order_lines(self, only: LineFilter) -> Iterator[OrderLine]:
        """By order time; a show or performance filter keeps orders with a ticket for it."""
        ...

    def money_lines(self, only: LineFilter) -> Iterator[MoneyLine]:
        """Paid payments (by order time in the period) and counted refunds (by refund time),
        each split over the shows of its order; by time."""
        ...
