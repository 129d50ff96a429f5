"""Best available: n seats side by side in one row, the best place the hall has left.

Candidates are windows of n free seats with consecutive columns (an aisle or a taken seat
breaks a run). Of these the picker prefers, in this order:
1. leaving no single free seat between the window and a taken seat, a gap or the row's end
   (a stranded seat rarely sells) -- avoided whenever some window can avoid it;
2. fewer seats with a restricted view;
3. nearest the ideal place: the middle of the section across, and its front third in depth
   (each measured as a share of the section's width and depth, so both count alike);
4. then the front row, then the leftmost window: the same question always gets the same answer.
Wheelchair places and their companion seats are kept for those who ask for them by choosing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence

from mierloos_core.model.seating.plan import Seat, rows_of

FRONT_SHARE = 1 / 3  # the ideal row lies a third of the way back


def best_available(
    seats: Iterable[Seat],
    free: Collection[uuid.UUID],
    count: int,
    *,
    zones: Collection[str] | None = None,
) -> tuple[Seat, ...] | None:
    """The best `count` adjacent free seats (in `zones` if given), or None when no row has them.

    `seats` is the whole plan (taken seats shape runs and the section's middle); `free` holds
    the ids of the seats that can be sold now.
    """
    if count < 1:
        raise ValueError("ask for at least one seat")
    all_seats = list(seats)
    geometry = _SectionGeometry(all_seats)
    best: tuple[tuple[object, ...], tuple[Seat, ...]] | None = None
    for row in rows_of(all_seats).values():
        for run in _free_runs(row, free, zones):
            for window, stranded in _windows(run, count):
                key = (stranded, *geometry.score(window))
                if best is None or key < best[0]:
                    best = (key, window)
    return None if best is None else best[1]


def _sellable(seat: Seat, free: Collection[uuid.UUID], zones: Collection[str] | None) -> bool:
    return (
        seat.id in free
        and not (seat.blocked or seat.wheelchair or seat.companion)
        and (zones is None or seat.zone in zones)
    )


def _free_runs(
    row: Sequence[Seat], free: Collection[uuid.UUID], zones: Collection[str] | None
) -> list[tuple[list[Seat], int, int]]:
    """Runs of pickable seats side by side, with the free seats just outside each run.

    A neighbour outside a run counts as free only when it is free and the run ended on a zone
    border (not on a taken seat or a gap): a window that strands it still strands a seat.
    """
    runs: list[tuple[list[Seat], int, int]] = []
    current: list[Seat] = []
    for seat in [*row, None]:
        if seat is not None and _sellable(seat, free, zones):
            if current and not current[-1].is_beside(seat):
                runs.append(_bounded(row, current, free))
                current = []
            current.append(seat)
        elif current:
            runs.append(_bounded(row, current, free))
            current = []
    return runs


def _bounded(
    row: Sequence[Seat], run: list[Seat], free: Collection[uuid.UUID]
) -> tuple[list[Seat], int, int]:
    by_column = {seat.column: seat for seat in row}
    left = _free_beyond(by_column, run[0].column, -1, free)
    right = _free_beyond(by_column, run[-1].column, +1, free)
    return (run, left, right)


def _free_beyond(
    by_column: dict[int, Seat], column: int, step: int, free: Collection[uuid.UUID]
) -> int:
    """How many free seats lie side by side beyond `column` (outside the pickable run)."""
    count = 0
    while (seat := by_column.get(column + step * (count + 1))) is not None and seat.id in free:
        count += 1
    return count


def _windows(
    bounded: tuple[list[Seat], int, int], count: int
) -> Iterable[tuple[tuple[Seat, ...], int]]:
    run, free_left, free_right = bounded
    for start in range(len(run) - count + 1):
        left = start + free_left
        right = len(run) - start - count + free_right
        yield tuple(run[start : start + count]), int(left == 1) + int(right == 1)


class _SectionGeometry:
    """The middle and the ideal depth of each section, to score a window against."""

    def __init__(self, seats: Sequence[Seat]) -> None:
        self._box: dict[str, tuple[float, float, int]] = {}
        sections: dict[str, list[Seat]] = {}
        for seat in seats:
            sections.setdefault(seat.section, []).append(seat)
        for name, members in sections.items():
            xs = [seat.x for seat in members]
            rows = max(seat.row_index for seat in members) + 1
            half_width = max((max(xs) - min(xs)) / 2, 1.0)
            self._box[name] = ((min(xs) + max(xs)) / 2, half_width, rows)

    def score(self, window: Sequence[Seat]) -> tuple[int, float, int, str, int]:
        middle, half_width, rows = self._box[window[0].section]
        centre_x = sum(seat.x for seat in window) / len(window)
        across = abs(centre_x - middle) / half_width
        ideal_row = (rows - 1) * FRONT_SHARE
        depth = abs(window[0].row_index - ideal_row) / max(rows - 1, 1)
        restricted = sum(seat.restricted_view for seat in window)
        first = window[0]
        return (restricted, round(across + depth, 9), first.row_index, first.section, first.column)
