"""How many seats are left, as visitors are told: plenty, few left, almost sold out, sold out.

The rule takes plain numbers (seats available, capacity) so that anything with its own limit
inside a performance's capacity can be told the same way as the performance itself.

A theatre does not advertise an empty hall: with plenty of seats left nothing is said. From
`FEW_LEFT_SEATS` seats or `FEW_LEFT_PERCENT` of the capacity down, whichever is fewer, the
visitor reads how many are left ("nog 12 plaatsen"); from `ALMOST_SOLD_OUT_SEATS` or
`ALMOST_SOLD_OUT_PERCENT` down, "bijna uitverkocht". Shares are rounded up, so any capacity has
at least one seat in each band. For a hall of 200: 20 seats and fewer are few, 5 and fewer
almost sold out; for 80: 8 and 3; for 1000: 20 and 5.
"""

from __future__ import annotations

import enum

FEW_LEFT_SEATS = 20
FEW_LEFT_PERCENT = 10
ALMOST_SOLD_OUT_SEATS = 5
ALMOST_SOLD_OUT_PERCENT = 3


class StockLevel(enum.StrEnum):
    """What visitors are told about the seats left; the values are the API's words."""

    AVAILABLE = "available"  # plenty left: nothing is said
    FEW_LEFT = "few_left"  # "nog 12 plaatsen"
    ALMOST_SOLD_OUT = "almost_sold_out"  # "bijna uitverkocht"
    SOLD_OUT = "sold_out"  # "uitverkocht"

    @property
    def is_told(self) -> bool:
        """Whether visitors are told anything at all."""
        return self is not StockLevel.AVAILABLE


def _band(capacity: int, seats: int, percent: int) -> int:
    """`seats`, or `percent` of the capacity rounded up when that is fewer."""
    return min(seats, -(-capacity * percent // 100))


def few_left_from(capacity: int) -> int:
    """The most seats left that still count as few for this capacity."""
    return _band(capacity, FEW_LEFT_SEATS, FEW_LEFT_PERCENT)


def almost_sold_out_from(capacity: int) -> int:
    """The most seats left that still count as almost sold out for this capacity."""
    return _band(capacity, ALMOST_SOLD_OUT_SEATS, ALMOST_SOLD_OUT_PERCENT)


def stock_level(available: int, capacity: int) -> StockLevel:
    """What visitors are told when `available` of `capacity` seats are left."""
    if capacity < 0 or not 0 <= available <= capacity:
        raise ValueError("available must lie between 0 and capacity")
    if available == 0:
        return StockLevel.SOLD_OUT
    if available <= almost_sold_out_from(capacity):
        return StockLevel.ALMOST_SOLD_OUT
    if available <= few_left_from(capacity):
        return StockLevel.FEW_LEFT
    return StockLevel.AVAILABLE
