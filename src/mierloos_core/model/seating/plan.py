"""A hall and its seat plan: sections, rows and numbered seats with a position and attributes.

A plan is a version: once a performance went on sale with it, it is never changed; staff
adjust a seat by making the next version (`SeatPlan.adjusted`). Seats within a row stand in
`column`s: two seats are side by side when their columns differ by one, so a gap or an aisle
is a column without a seat. `row_index` counts rows from the stage (0 is the front row).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from mierloos_core.model.ids import new_id

MAX_LABEL = 40


def seat_id_for(plan_id: uuid.UUID, section: str, row: str, number: int) -> uuid.UUID:
    """The id of a seat in a plan version: the same inputs always give the same id."""
    return uuid.uuid5(plan_id, f"{section}\x1f{row}\x1f{number}")


def _label(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip() or len(value) > MAX_LABEL:
        raise ValueError(f"{attribute.name} must be 1 to {MAX_LABEL} characters")


@attrs.frozen(kw_only=True, order=False)
class SeatRef:
    """How a ticket names its seat: section, row and number (what a visitor reads)."""

    section: str
    row: str
    number: int

    def describe(self, language: str = "nl") -> str:
        if language == "en":
            return f"{self.section}, row {self.row}, seat {self.number}"
        return f"{self.section}, rij {self.row}, stoel {self.number}"


@attrs.frozen(kw_only=True)
class Seat:
    id: uuid.UUID
    section: str = attrs.field(validator=_label)
    row: str = attrs.field(validator=_label)
    row_index: int  # 0 = the row nearest the stage, per section
    number: int = attrs.field(validator=attrs.validators.ge(1))
    column: int  # place in the row, gaps included; neighbours differ by one
    x: float
    y: float
    zone: str = attrs.field(validator=_label)
    wheelchair: bool = False
    companion: bool = False  # the seat beside a wheelchair place, for whoever comes along
    restricted_view: bool = False
    blocked: bool = False  # not sold at all (technical reasons, a camera, the mixing desk)

    @property
    def ref(self) -> SeatRef:
        return SeatRef(section=self.section, row=self.row, number=self.number)

    @property
    def row_key(self) -> tuple[str, int]:
        return (self.section, self.row_index)

    def is_beside(self, other: Seat) -> bool:
        return self.row_key == other.row_key and abs(self.column - other.column) == 1


@attrs.frozen(kw_only=True)
class Hall:
    name: str = attrs.field(validator=_label)
    id: uuid.UUID = attrs.field(factory=new_id)


def _seat_order(seat: Seat) -> tuple[str, int, int]:
    return (seat.section, seat.row_index, seat.column)


def _sorted_seats(seats: Iterable[Seat]) -> tuple[Seat, ...]:
    return tuple(sorted(seats, key=_seat_order))


_ADJUSTABLE = frozenset({"zone", "wheelchair", "companion", "restricted_view", "blocked"})


@attrs.frozen(kw_only=True)
class SeatPlan:
    """One version of a hall's plan. `seats` are sorted by section, row and column."""

    id: uuid.UUID
    hall_id: uuid.UUID
    version: int = attrs.field(validator=attrs.validators.ge(1))
    name: str = attrs.field(validator=_label)
    created_at: datetime
    seats: tuple[Seat, ...] = attrs.field(converter=_sorted_seats)
    _by_id: dict[uuid.UUID, Seat] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        ids = {seat.id: seat for seat in self.seats}
        object.__setattr__(self, "_by_id", ids)
        if len(ids) != len(self.seats):
            raise ValueError("a seat appears twice in the plan")
        places = {(s.section, s.row_index, s.column) for s in self.seats}
        numbers = {(s.section, s.row, s.number) for s in self.seats}
        if len(places) != len(self.seats) or len(numbers) != len(self.seats):
            raise ValueError("two seats share a place or a number")
        if not self.seats:
            raise ValueError("a plan needs at least one seat")

    @property
    def by_id(self) -> Mapping[uuid.UUID, Seat]:
        return self._by_id

    @property
    def sellable_seats(self) -> tuple[Seat, ...]:
        return tuple(seat for seat in self.seats if not seat.blocked)

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(sorted({seat.zone for seat in self.seats}))

    def seat_at(self, section: str, row: str, number: int) -> Seat | None:
        for seat in self.seats:
            if (seat.section, seat.row, seat.number) == (section, row, number):
                return seat
        return None

    def adjusted(
        self, changes: Mapping[uuid.UUID, Mapping[str, object]], *, at: datetime
    ) -> SeatPlan:
        """The next version with some seats' zone or attributes changed; ids stay per place."""
        unknown = set(changes) - {seat.id for seat in self.seats}
        if unknown:
            raise ValueError(f"{len(unknown)} seat(s) are not in this plan")
        for change in changes.values():
            if set(change) - _ADJUSTABLE:
                raise ValueError(f"only {', '.join(sorted(_ADJUSTABLE))} can be adjusted")
        new_plan_id = new_id()
        return SeatPlan(
            id=new_plan_id,
            hall_id=self.hall_id,
            version=self.version + 1,
            name=self.name,
            created_at=at,
            seats=[_moved(seat, new_plan_id, changes.get(seat.id, {})) for seat in self.seats],
        )


def _moved(seat: Seat, plan_id: uuid.UUID, change: Mapping[str, object]) -> Seat:
    new_id_ = seat_id_for(plan_id, seat.section, seat.row, seat.number)
    return attrs.evolve(seat, id=new_id_, **change)  # type: ignore[arg-type]


def rows_of(seats: Iterable[Seat]) -> dict[tuple[str, int], list[Seat]]:
    """Seats per (section, row index), each row in column order."""
    rows: dict[tuple[str, int], list[Seat]] = {}
    for seat in sorted(seats, key=_seat_order):
        rows.setdefault(seat.row_key, []).append(seat)
    return rows
