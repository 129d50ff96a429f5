"""A plan from a few numbers: rows x seats per section, aisles, straight or curved rows.

Positions are in seat widths (a seat is 1 wide, a row 1.2 deep) so the map can scale them.
Curved rows stand on arcs around a point in front of the stage: each row's radius is one row
depth more than the one before, and the seats of a row keep one seat width between them.
Seats are numbered 1.. from left to right as seen from the stage; rows 1.. or A.. from the front.
"""

from __future__ import annotations

import math
import string
import uuid
from collections.abc import Sequence
from datetime import datetime

import attrs

from mierloos_core.model.seating.plan import Seat, SeatPlan, seat_id_for

SEAT_WIDTH = 1.0
ROW_DEPTH = 1.2
SECTION_SPACING = 3.0  # rows between one section's last row and the next section's first
MAX_ROWS = 60
MAX_SEATS_PER_ROW = 80


def _positive_rows(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= MAX_ROWS:
        raise ValueError(f"a section has 1 to {MAX_ROWS} rows")


def _seat_counts(instance: SectionSpec, attribute: object, value: int | tuple[int, ...]) -> None:
    counts = (value,) if isinstance(value, int) else value
    if not counts or any(not 1 <= n <= MAX_SEATS_PER_ROW for n in counts):
        raise ValueError(f"a row has 1 to {MAX_SEATS_PER_ROW} seats")


@attrs.frozen(kw_only=True)
class SectionSpec:
    """One section to generate. `seats_per_row` is one number, or one per row from the front."""

    name: str
    rows: int = attrs.field(validator=_positive_rows)
    seats_per_row: int | tuple[int, ...] = attrs.field(validator=_seat_counts)
    aisles_after: tuple[int, ...] = ()  # an aisle after these seat numbers, in every row
    curve_radius: float | None = None  # in seat widths, of the front row; None: straight rows
    row_labels: str = "numbers"  # "numbers" (1, 2, ...) or "letters" (A, B, ...)
    zones: tuple[tuple[str, int], ...] = ()  # (zone, number of rows) bands from the front

    def __attrs_post_init__(self) -> None:
        if isinstance(self.seats_per_row, tuple) and len(self.seats_per_row) != self.rows:
            raise ValueError("give one seat count per row, or one for all rows")
        if self.curve_radius is not None and self.curve_radius < 2:
            raise ValueError("a curve's radius is at least 2 seat widths")
        if self.row_labels not in ("numbers", "letters"):
            raise ValueError("rows are labelled with numbers or letters")
        if self.row_labels == "letters" and self.rows > len(string.ascii_uppercase):
            raise ValueError("letters label at most 26 rows")
        if self.zones and sum(n for _, n in self.zones) != self.rows:
            raise ValueError("the zone bands must cover every row")

    def seats_in_row(self, row_index: int) -> int:
        if isinstance(self.seats_per_row, int):
            return self.seats_per_row
        return self.seats_per_row[row_index]

    def row_label(self, row_index: int) -> str:
        if self.row_labels == "letters":
            return string.ascii_uppercase[row_index]
        return str(row_index + 1)

    def zone_of(self, row_index: int) -> str:
        first = 0
        for zone, count in self.zones:
            if row_index < first + count:
                return zone
            first += count
        return "A"


def generate_plan(
    *,
    plan_id: uuid.UUID,
    hall_id: uuid.UUID,
    name: str,
    sections: Sequence[SectionSpec],
    created_at: datetime,
    version: int = 1,
) -> SeatPlan:
    """Version `version` of a hall's plan, from its sections (the first one nearest the stage)."""
    if not sections or len({s.name for s in sections}) != len(sections):
        raise ValueError("a plan needs sections with different names")
    return SeatPlan(
        id=plan_id,
        hall_id=hall_id,
        version=version,
        name=name,
        created_at=created_at,
        seats=_stacked_seats(plan_id, sections),
    )


def _stacked_seats(plan_id: uuid.UUID, sections: Sequence[SectionSpec]) -> list[Seat]:
    """The seats of every section, each section behind the one before with a gap between."""
    seats: list[Seat] = []
    y_offset = 0.0
    for spec in sections:
        seats.extend(_section_seats(plan_id, spec, y_offset))
        y_offset += (spec.rows - 1 + SECTION_SPACING) * ROW_DEPTH
    return seats


def _section_seats(plan_id: uuid.UUID, spec: SectionSpec, y_offset: float) -> list[Seat]:
    seats: list[Seat] = []
    for row_index in range(spec.rows):
        columns = _columns(spec.seats_in_row(row_index), spec.aisles_after)
        middle = (columns[0] + columns[-1]) / 2
        for number, column in enumerate(columns, start=1):
            x, y = _position(spec, row_index, column - middle)
            row = spec.row_label(row_index)
            seats.append(
                Seat(
                    id=seat_id_for(plan_id, spec.name, row, number),
                    section=spec.name,
                    row=row,
                    row_index=row_index,
                    number=number,
                    column=column,
                    x=x,
                    y=round(y + y_offset, 2),
                    zone=spec.zone_of(row_index),
                )
            )
    return seats


def _columns(count: int, aisles_after: tuple[int, ...]) -> list[int]:
    """The column of each seat 1..count: one empty column after each aisle seat number."""
    columns, column = [], 0
    for number in range(1, count + 1):
        columns.append(column)
        column += 2 if number in aisles_after and number < count else 1
    return columns


def _position(spec: SectionSpec, row_index: int, offset: float) -> tuple[float, float]:
    """x from the centre line and y from the front, for a seat `offset` widths off centre."""
    if spec.curve_radius is None:
        return round(offset * SEAT_WIDTH, 2), row_index * ROW_DEPTH
    radius = spec.curve_radius + row_index * ROW_DEPTH
    angle = offset * SEAT_WIDTH / radius
    x = radius * math.sin(angle)
    y = radius * math.cos(angle) - spec.curve_radius
    return round(x, 2), y
