"""What one seat is for one performance: free, held by an order, sold, or blocked."""

from __future__ import annotations

import enum
import uuid

import attrs


class SeatingMode(enum.StrEnum):
    FREE = "free"  # free seating: counts only (every performance before plans existed)
    RESERVED = "reserved"  # numbered seats from a plan version


class SeatState(enum.StrEnum):
    FREE = "free"
    HELD = "held"  # in a pending order, until it is paid, expires or is cancelled
    SOLD = "sold"
    BLOCKED = "blocked"  # never sold for this performance

    @property
    def taken(self) -> bool:
        return self in (SeatState.HELD, SeatState.SOLD)


@attrs.define(kw_only=True)
class PerformanceSeat:
    """A seat of the performance's plan version, its price category and its state."""

    performance_id: uuid.UUID
    seat_id: uuid.UUID
    category_id: uuid.UUID
    state: SeatState = SeatState.FREE
    order_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None

    def __attrs_post_init__(self) -> None:
        if self.state.taken != (self.order_id is not None):
            raise ValueError("a held or sold seat belongs to an order; a free one to none")
