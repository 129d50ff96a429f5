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

Rows are visited nearest the ideal depth first; once a window without a stranded seat or a
restricted view scores better than any seat of the next row could, the search stops. The rows
and measures of a plan are computed once per seat tuple and kept (a plan version never changes).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Iterable, Sequence

from mierloos_core.model.seating.plan import Seat, rows_of

FRONT_SHARE = 1 / 3  # the ideal row lies a third of the way back
_KEPT = 32  # plans whose index is kept
# stranded seats, restricted-view seats, distance from the ideal, row, section, column
_Key = tuple[int, int, float, int, str, int]


class _Row:
    """One row: its seats by column, and its segments (seats side by side between gaps) with
    the seats best available may give (no wheelchair, companion or blocked seat) marked."""

    __slots__ = ("by_column", "depth", "seats", "segments")

    def __init__(self, seats: list[Seat], depth: float) -> None:
        self.seats = seats
        # seat ids as integers: a set of ints is far quicker to ask than one of UUIDs
        self.by_column = {seat.column: seat.id.int for seat in seats}
        self.depth = depth  # the depth share of the score: the same for every window here
        self.segments: list[list[tuple[Seat, bool, int]]] = []
        for seat in seats:
            pickable = not (seat.blocked or seat.wheelchair or seat.companion)
            if self.segments and self.segments[-1][-1][0].column == seat.column - 1:
                self.segments[-1].append((seat, pickable, seat.id.int))
            else:
                self.segments.append([(seat, pickable, seat.id.int)])


class _Index:
    """A plan's rows, nearest the ideal depth first, and each section's middle and width."""

    def __init__(self, seats: Sequence[Seat]) -> None:
        sections: dict[str, list[Seat]] = {}
        for seat in seats:
            sections.setdefault(seat.section, []).append(seat)
        self.box: dict[str, tuple[float, float]] = {}
        depth_rows: dict[str, int] = {}
        for name, members in sections.items():
            xs = [seat.x for seat in members]
            self.box[name] = ((min(xs) + max(xs)) / 2, max((max(xs) - min(xs)) / 2, 1.0))
            depth_rows[name] = max(seat.row_index for seat in members) + 1
        rows = []
        for (section, row_index), row in rows_of(seats).items():
            count = depth_rows[section]
            ideal = (count - 1) * FRONT_SHARE
            rows.append(_Row(row, abs(row_index - ideal) / max(count - 1, 1)))
        self.rows = sorted(rows, key=lambda r: (r.depth, r.seats[0].row_index, r.seats[0].section))


_INDEXES: dict[int, tuple[Sequence[Seat], _Index]] = {}
_INDEXES_LOCK = threading.Lock()


def _index(seats: Iterable[Seat]) -> _Index:
    if not isinstance(seats, tuple):
        return _Index(list(seats))
    with _INDEXES_LOCK:
        kept = _INDEXES.get(id(seats))
        if kept is not None and kept[0] is seats:
            return kept[1]
    index = _Index(seats)
    with _INDEXES_LOCK:
        if len(_INDEXES) >= _KEPT:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[id(seats)] = (seats, index)  # the tuple is kept too: its id stays its own
    return index


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
    index = _index(seats)
    free_ints = {seat_id.int for seat_id in free}
    best: tuple[_Key, tuple[Seat, ...]] | None = None
    for row in index.rows:
        if best is not None and best[0][:2] == (0, 0) and best[0][2] < row.depth:
            break  # no window of this row or a later one can beat it
        middle, half_width = index.box[row.seats[0].section]
        for run, free_left, free_right in _free_runs(row, free_ints, zones):
            xs = [0.0]
            restricted = [0]
            for seat in run:
                xs.append(xs[-1] + seat.x)
                restricted.append(restricted[-1] + seat.restricted_view)
            for start in range(len(run) - count + 1):
                left = start + free_left
                right = len(run) - start - count + free_right
                centre = (xs[start + count] - xs[start]) / count
                key: _Key = (
                    int(left == 1) + int(right == 1),
                    restricted[start + count] - restricted[start],
                    round(abs(centre - middle) / half_width + row.depth, 9),
                    run[start].row_index,
                    run[start].section,
                    run[start].column,
                )
                if best is None or key < best[0]:
                    best = (key, tuple(run[start : start + count]))
    return None if best is None else best[1]


def _free_runs(
    row: _Row, free: Collection[int], zones: Collection[str] | None
) -> list[tuple[list[Seat], int, int]]:
    """Runs of pickable seats side by side, with the free seats just outside each run.

    A neighbour outside a run counts as free only when it is free and the run ended on a zone
    border (not on a taken seat or a gap): a window that strands it still strands a seat.
    """
    runs: list[tuple[list[Seat], int, int]] = []
    for segment in row.segments:
        current: list[Seat] = []
        for seat, pickable, seat_int in segment:
            if pickable and seat_int in free and (zones is None or seat.zone in zones):
                current.append(seat)
            elif current:
                runs.append(_bounded(row, current, free))
                current = []
        if current:
            runs.append(_bounded(row, current, free))
    return runs


def _bounded(row: _Row, run: list[Seat], free: Collection[int]) -> tuple[list[Seat], int, int]:
    left = _free_beyond(row, run[0].column, -1, free)
    right = _free_beyond(row, run[-1].column, +1, free)
    return (run, left, right)


def _free_beyond(row: _Row, column: int, step: int, free: Collection[int]) -> int:
    """How many free seats lie side by side beyond `column` (outside the pickable run)."""
    count = 0
    while row.by_column.get(column + step * (count + 1)) in free:
        count += 1
    return count
