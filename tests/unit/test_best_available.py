"""Best available: adjacent seats in one row, central and a third back, no stranded seat."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mierloos_core.model.seating import SectionSpec, best_available, generate_plan

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


def plan_of(*sections: SectionSpec):
    return generate_plan(
        plan_id=uuid.UUID(int=1),
        hall_id=uuid.UUID(int=2),
        name="Zaal",
        sections=sections,
        created_at=NOW,
    )


def names(window):
    return [(s.row, s.number) for s in window]


def free_except(plan, *taken):
    taken_ids = {plan.seat_at("Zaal", row, number).id for row, number in taken}
    return {s.id for s in plan.seats} - taken_ids


def test_an_empty_hall_gives_the_middle_of_the_row_a_third_back():
    plan = plan_of(SectionSpec(name="Zaal", rows=10, seats_per_row=10))
    window = best_available(plan.seats, {s.id for s in plan.seats}, 2)
    assert names(window) == [("4", 5), ("4", 6)]  # row 4 of 10 is 3 rows back: (10-1)/3


def test_an_odd_count_in_an_even_row_stays_as_central_as_it_can_and_strands_nothing():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=10))
    window = best_available(plan.seats, {s.id for s in plan.seats}, 3)
    assert names(window) in ([("1", 4), ("1", 5), ("1", 6)], [("1", 5), ("1", 6), ("1", 7)])
    assert names(window) == [("1", 4), ("1", 5), ("1", 6)]  # ties go to the left


def test_it_never_strands_a_single_seat_when_another_window_avoids_it():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=9))
    # free: 1..4 and 6..9 (5 is sold). Two seats centrally would be 3-4 (strands nothing,
    # 1-2 stay) or 6-7 (8-9 stay); 2-3 or 7-8 would strand seat 1 or 9.
    free = free_except(plan, ("1", 5))
    window = best_available(plan.seats, free, 3)
    # 3 seats out of a run of 4 always strand one seat unless placed at the end
    assert names(window) in ([("1", 2), ("1", 3), ("1", 4)], [("1", 6), ("1", 7), ("1", 8)])
    assert names(window) == [("1", 2), ("1", 3), ("1", 4)]


def test_a_stranding_window_is_taken_only_when_there_is_no_other():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=4))
    free = free_except(plan, ("1", 1))  # free 2, 3, 4
    window = best_available(plan.seats, free, 2)
    assert names(window) in ([("1", 2), ("1", 3)], [("1", 3), ("1", 4)])
    free = free_except(plan, ("1", 1), ("1", 4))  # free 2, 3: the only window
    assert names(best_available(plan.seats, free, 1)) in ([("1", 2)], [("1", 3)])


def test_aisles_and_taken_seats_break_a_row_into_runs():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=8, aisles_after=(4,)))
    free = {s.id for s in plan.seats}
    assert best_available(plan.seats, free, 5) is None
    assert len(best_available(plan.seats, free, 4)) == 4
    free = free_except(plan, ("1", 2), ("1", 7))
    assert best_available(plan.seats, free, 3) is None


def test_zones_limit_the_choice_and_unknown_zones_find_nothing():
    plan = plan_of(SectionSpec(name="Zaal", rows=6, seats_per_row=6, zones=(("1", 2), ("2", 4))))
    free = {s.id for s in plan.seats}
    window = best_available(plan.seats, free, 2, zones={"1"})
    assert {s.zone for s in window} == {"1"}
    assert names(window) == [("2", 3), ("2", 4)]  # the zone's rows are 1-2; row 2 is nearer
    assert best_available(plan.seats, free, 2, zones={"9"}) is None


def test_wheelchair_companion_blocked_and_restricted_seats():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=5))
    seat = {s.number: s for s in plan.seats}
    plan = plan.adjusted(
        {
            seat[1].id: {"wheelchair": True},
            seat[2].id: {"companion": True},
            seat[3].id: {"restricted_view": True},
        },
        at=NOW,
    )
    free = {s.id for s in plan.seats}
    assert best_available(plan.seats, free, 4) is None  # 1 and 2 are not for best available
    assert names(best_available(plan.seats, free, 2)) == [("1", 4), ("1", 5)]
    assert names(best_available(plan.seats, free, 3)) == [("1", 3), ("1", 4), ("1", 5)]


def test_it_asks_for_at_least_one_seat():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=5))
    with pytest.raises(ValueError, match="at least one seat"):
        best_available(plan.seats, set(), 0)


@st.composite
def halls(draw):
    spec = SectionSpec(
        name="Zaal",
        rows=draw(st.integers(1, 6)),
        seats_per_row=draw(st.integers(1, 14)),
        aisles_after=tuple(draw(st.sets(st.integers(1, 13), max_size=2))),
        curve_radius=draw(st.sampled_from([None, 8.0, 20.0])),
    )
    plan = plan_of(spec)
    taken = draw(st.sets(st.sampled_from(plan.seats), max_size=len(plan.seats)))
    return plan, {s.id for s in plan.seats} - {s.id for s in taken}


@settings(max_examples=300, deadline=None)
@given(halls(), st.integers(1, 6))
def test_a_pick_is_free_adjacent_in_one_row_and_found_whenever_one_exists(hall, count):
    plan, free = hall
    window = best_available(plan.seats, free, count)
    exists = any(_run_lengths(plan, free, row) >= count for row in {s.row for s in plan.seats})
    assert (window is not None) == exists
    if window is not None:
        assert len(window) == count
        assert all(s.id in free for s in window)
        assert all(a.is_beside(b) for a, b in itertools.pairwise(window))


@settings(max_examples=300, deadline=None)
@given(halls(), st.integers(1, 6))
def test_a_pick_strands_a_seat_only_when_every_possible_window_would(hall, count):
    plan, free = hall
    window = best_available(plan.seats, free, count)
    if window is None:
        return
    if _strands(plan, free, window):
        assert all(_strands(plan, free, w) for w in _all_windows(plan, free, count))


def test_filling_a_hall_one_buyer_after_another_strands_few_seats():
    plan = plan_of(SectionSpec(name="Zaal", rows=20, seats_per_row=25, aisles_after=(12,)))
    free = {s.id for s in plan.seats}
    for count in [2, 3, 4, 2, 5, 6, 2, 3, 2] * 100:  # nobody buys one seat
        window = best_available(plan.seats, free, count)
        if window is None:
            continue
        free -= {s.id for s in window}
    stranded = sum(1 for s in plan.seats if s.id in free and _alone(plan, free, s))
    assert len(free) < 20  # 500 seats, 40 rows halves: only leftovers of the last buyers
    assert stranded <= 5
    for _ in range(len(free)):  # buyers of one seat take every leftover
        window = best_available(plan.seats, free, 1)
        assert window is not None
        free -= {window[0].id}
    assert best_available(plan.seats, free, 1) is None


def _row_seats(plan, row):
    return sorted((s for s in plan.seats if s.row == row), key=lambda s: s.column)


def _run_lengths(plan, free, row):
    longest = current = 0
    previous = None
    for seat in _row_seats(plan, row):
        if seat.id in free and previous is not None and previous.is_beside(seat) and current:
            current += 1
        elif seat.id in free:
            current = 1
        else:
            current = 0
        previous = seat
        longest = max(longest, current)
    return longest


def _all_windows(plan, free, count):
    for row in {s.row for s in plan.seats}:
        seats = _row_seats(plan, row)
        for i in range(len(seats) - count + 1):
            window = seats[i : i + count]
            if all(s.id in free for s in window) and all(
                a.is_beside(b) for a, b in itertools.pairwise(window)
            ):
                yield window


def _strands(plan, free, window):
    rest = free - {s.id for s in window}
    return any(
        s.id in rest and _alone(plan, rest, s)
        for s in _row_seats(plan, window[0].row)
        if any(s.is_beside(w) for w in window)
    )


def _alone(plan, free, seat):
    neighbours = [s for s in _row_seats(plan, seat.row) if s.is_beside(seat)]
    return not any(n.id in free for n in neighbours)
