"""The rules a buyer's chosen seats must meet, checked before anything is held.

Every seat that fails is named in one refusal (`SeatsUnavailable`), so a buyer sees at once
which seats to change. The companion rule (when a theatre turns it on): a companion seat is
sold only together with a wheelchair place beside it in the same request.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence

from mierloos_core.errors import SeatsUnavailable, TooManySeats
from mierloos_core.model.seating.plan import Seat
from mierloos_core.model.seating.states import SeatState


def check_chosen(
    seats: Mapping[uuid.UUID, Seat],
    states: Mapping[uuid.UUID, SeatState],
    chosen: Sequence[uuid.UUID],
    *,
    maximum: int,
    companion_rule: bool,
) -> tuple[uuid.UUID, ...]:
    """The chosen seat ids, sorted and without repeats; raises naming every seat that fails.

    `seats` is the performance's plan; `states` the seats' states as last read (the hold
    itself is conditional, so a seat taken since is still refused there).
    """
    unique = tuple(sorted(set(chosen)))
    if not unique:
        raise SeatsUnavailable({"not_in_plan": ["(geen stoelen gekozen)"]})
    if len(unique) > maximum:
        raise TooManySeats(maximum)
    problems: dict[str, list[str]] = {}
    for seat_id in unique:
        reason = _refusal(seats.get(seat_id), states.get(seat_id))
        if reason is not None:
            problems.setdefault(reason, []).append(_name(seats.get(seat_id), seat_id))
    if companion_rule:
        lonely = companions_without_wheelchair([seats[i] for i in unique if i in seats])
        if lonely:
            problems["companion_without_wheelchair"] = [seat.ref.describe() for seat in lonely]
    if problems:
        raise SeatsUnavailable(problems)
    return unique


def _refusal(seat: Seat | None, state: SeatState | None) -> str | None:
    if seat is None or state is None:
        return "not_in_plan"
    if seat.blocked or state is SeatState.BLOCKED:
        return "blocked"
    if state.taken:
        return "taken"
    return None


def _name(seat: Seat | None, seat_id: uuid.UUID) -> str:
    return seat.ref.describe() if seat is not None else str(seat_id)


def companions_without_wheelchair(chosen: Collection[Seat]) -> list[Seat]:
    """The companion seats in `chosen` that have no wheelchair place of `chosen` beside them."""
    wheelchairs = [seat for seat in chosen if seat.wheelchair]
    return [
        seat
        for seat in sorted(chosen, key=lambda s: (s.section, s.row_index, s.column))
        if seat.companion and not any(seat.is_beside(w) for w in wheelchairs)
    ]
