"""Seat plans: the generator's rows, aisles and arcs, plan versions and the chosen-seat rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from mierloos_core import errors
from mierloos_core.model.seating import SeatState, SectionSpec, generate_plan
from mierloos_core.model.seating.requests import check_chosen, companions_without_wheelchair
from mierloos_core.model.seating.states import PerformanceSeat

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
PLAN_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
HALL_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")


def plan_of(*sections: SectionSpec, plan_id: uuid.UUID = PLAN_ID):
    return generate_plan(
        plan_id=plan_id, hall_id=HALL_ID, name="Grote zaal", sections=sections, created_at=NOW
    )


def test_a_straight_plan_has_rows_times_seats_numbered_from_the_left():
    plan = plan_of(SectionSpec(name="Zaal", rows=3, seats_per_row=4))
    assert len(plan.seats) == 12
    row_one = [s for s in plan.seats if s.row == "1"]
    assert [s.number for s in row_one] == [1, 2, 3, 4]
    assert [s.x for s in row_one] == [-1.5, -0.5, 0.5, 1.5]
    assert {s.y for s in row_one} == {0.0}
    assert {s.row for s in plan.seats} == {"1", "2", "3"}


def test_an_aisle_leaves_an_empty_column_so_the_seats_on_both_sides_are_not_neighbours():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=6, aisles_after=(3,)))
    by_number = {s.number: s for s in plan.seats}
    assert [by_number[n].column for n in range(1, 7)] == [0, 1, 2, 4, 5, 6]
    assert by_number[2].is_beside(by_number[3])
    assert not by_number[3].is_beside(by_number[4])
    assert by_number[4].x - by_number[3].x == pytest.approx(2.0)


def test_curved_rows_lie_on_arcs_around_the_stage():
    plan = plan_of(SectionSpec(name="Zaal", rows=2, seats_per_row=9, curve_radius=10))
    for row_index, radius in ((0, 10.0), (1, 11.2)):
        for seat in (s for s in plan.seats if s.row_index == row_index):
            # every seat of a row is the same distance from the arc's centre (0, -10)
            assert (seat.x**2 + (seat.y + 10) ** 2) ** 0.5 == pytest.approx(radius, abs=0.02)
    front = sorted((s for s in plan.seats if s.row_index == 0), key=lambda s: s.number)
    assert front[4].x == 0.0
    assert front[4].y == 0.0
    assert front[0].y < 0
    assert front[0].y == front[-1].y


def test_zone_bands_and_letters_and_rows_of_different_lengths():
    plan = plan_of(
        SectionSpec(
            name="Zaal",
            rows=3,
            seats_per_row=(4, 6, 8),
            row_labels="letters",
            zones=(("1", 1), ("2", 2)),
        )
    )
    assert [(row, len([s for s in plan.seats if s.row == row])) for row in "ABC"] == [
        ("A", 4),
        ("B", 6),
        ("C", 8),
    ]
    assert {s.zone for s in plan.seats if s.row == "A"} == {"1"}
    assert {s.zone for s in plan.seats if s.row != "A"} == {"2"}
    assert plan.zones == ("1", "2")


def test_a_second_section_lies_behind_the_first():
    plan = plan_of(
        SectionSpec(name="Zaal", rows=2, seats_per_row=3),
        SectionSpec(name="Balkon", rows=1, seats_per_row=3),
    )
    stalls_back = max(s.y for s in plan.seats if s.section == "Zaal")
    assert min(s.y for s in plan.seats if s.section == "Balkon") > stalls_back
    assert plan.seat_at("Balkon", "1", 2) is not None


def test_seat_ids_are_the_same_for_the_same_plan_and_differ_between_versions():
    spec = SectionSpec(name="Zaal", rows=2, seats_per_row=3)
    assert [s.id for s in plan_of(spec).seats] == [s.id for s in plan_of(spec).seats]
    other = plan_of(spec, plan_id=uuid.UUID(int=99))
    assert not {s.id for s in other.seats} & {s.id for s in plan_of(spec).seats}


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (dict(rows=0, seats_per_row=3), "1 to 60 rows"),
        (dict(rows=2, seats_per_row=0), "1 to 80 seats"),
        (dict(rows=2, seats_per_row=(3,)), "one seat count per row"),
        (dict(rows=2, seats_per_row=3, zones=(("1", 1),)), "zone bands"),
        (dict(rows=27, seats_per_row=3, row_labels="letters"), "at most 26 rows"),
        (dict(rows=2, seats_per_row=3, curve_radius=0.5), "radius"),
        (dict(rows=2, seats_per_row=81), "1 to 80 seats"),
    ],
)
def test_the_generator_refuses_impossible_sections(bad, complaint):
    with pytest.raises(ValueError, match=complaint):
        SectionSpec(name="Zaal", **bad)


def test_two_sections_with_one_name_are_refused():
    spec = SectionSpec(name="Zaal", rows=1, seats_per_row=2)
    with pytest.raises(ValueError, match="different names"):
        plan_of(spec, spec)


def test_adjusting_seats_makes_the_next_version_and_leaves_the_old_one_alone():
    plan = plan_of(SectionSpec(name="Zaal", rows=2, seats_per_row=4))
    seat = plan.seat_at("Zaal", "1", 1)
    assert seat is not None
    newer = plan.adjusted({seat.id: {"wheelchair": True, "zone": "R"}}, at=NOW)
    assert newer.version == 2
    assert newer.id != plan.id
    changed = newer.seat_at("Zaal", "1", 1)
    assert changed is not None
    assert changed.wheelchair
    assert changed.zone == "R"
    assert not seat.wheelchair
    assert seat.zone == "A"
    assert len(newer.seats) == len(plan.seats)
    with pytest.raises(ValueError, match="can be adjusted"):
        plan.adjusted({seat.id: {"x": 5.0}}, at=NOW)
    with pytest.raises(ValueError, match="not in this plan"):
        plan.adjusted({uuid.uuid4(): {"blocked": True}}, at=NOW)


def test_a_held_seat_belongs_to_an_order():
    with pytest.raises(ValueError, match="belongs to an order"):
        PerformanceSeat(
            performance_id=uuid.uuid4(),
            seat_id=uuid.uuid4(),
            category_id=uuid.uuid4(),
            state=SeatState.HELD,
        )


def _wheelchair_plan():
    plan = plan_of(SectionSpec(name="Zaal", rows=2, seats_per_row=6))
    wheel, companion = plan.seat_at("Zaal", "2", 1), plan.seat_at("Zaal", "2", 2)
    assert wheel is not None
    assert companion is not None
    return plan.adjusted(
        {wheel.id: {"wheelchair": True}, companion.id: {"companion": True}}, at=NOW
    )


def test_chosen_seats_are_checked_all_at_once_and_every_bad_one_is_named():
    plan = _wheelchair_plan()
    seats = plan.by_id
    states = {seat.id: SeatState.FREE for seat in plan.seats}
    taken, blocked = plan.seats[0], plan.seats[1]
    states[taken.id] = SeatState.SOLD
    states[blocked.id] = SeatState.BLOCKED
    companion = plan.seat_at("Zaal", "2", 2)
    assert companion is not None
    stranger = uuid.uuid4()
    with pytest.raises(errors.SeatsUnavailable) as refused:
        check_chosen(
            seats,
            states,
            [taken.id, blocked.id, stranger, companion.id, plan.seats[2].id],
            maximum=10,
            companion_rule=True,
        )
    assert refused.value.details == {
        "taken": ["Zaal, rij 1, stoel 1"],
        "blocked": ["Zaal, rij 1, stoel 2"],
        "not_in_plan": [str(stranger)],
        "companion_without_wheelchair": ["Zaal, rij 2, stoel 2"],
    }
    assert "Zaal, rij 1, stoel 1" in refused.value.message


def test_a_companion_seat_goes_with_its_wheelchair_place_or_without_the_rule():
    plan = _wheelchair_plan()
    states = {seat.id: SeatState.FREE for seat in plan.seats}
    wheel, companion = plan.seat_at("Zaal", "2", 1), plan.seat_at("Zaal", "2", 2)
    assert wheel is not None
    assert companion is not None
    both = check_chosen(
        plan.by_id, states, [companion.id, wheel.id], maximum=6, companion_rule=True
    )
    assert both == tuple(sorted([wheel.id, companion.id]))
    alone = check_chosen(plan.by_id, states, [companion.id], maximum=6, companion_rule=False)
    assert alone == (companion.id,)
    assert companions_without_wheelchair([companion]) == [companion]


def test_more_seats_than_the_maximum_or_none_at_all_are_refused():
    plan = plan_of(SectionSpec(name="Zaal", rows=1, seats_per_row=8))
    states = {seat.id: SeatState.FREE for seat in plan.seats}
    ids = [seat.id for seat in plan.seats]
    with pytest.raises(errors.TooManySeats):
        check_chosen(plan.by_id, states, ids, maximum=6, companion_rule=False)
    with pytest.raises(errors.SeatsUnavailable):
        check_chosen(plan.by_id, states, [], maximum=6, companion_rule=False)
    repeated = check_chosen(plan.by_id, states, ids[:2] * 3, maximum=6, companion_rule=False)
    assert repeated == tuple(sorted(ids[:2]))
