"""The reports service: periods as staff name them, VAT per line, the cent-exact sharing, and
the views over the memory fake (the seed's figures are checked in the contract test)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_adapters.memory.reports import MemoryReports
from mierloos_core import errors
from mierloos_core.services.reports import (
    Reporting,
    allocate,
    day_span,
    months_of,
    parse_period,
    parse_vat_rate,
    season_of,
    vat_split,
)
from mierloos_core.services.staff_catalog import ShowForm, StaffCatalog
from tests.report_seed import ids, seed


def test_a_season_runs_from_the_first_of_august_in_mierlo() -> None:
    season = parse_period("season", "2025-2026")

    # Midnight in Mierlo: 22:00 UTC in summer time, 23:00 in winter time.
    assert season.start == datetime(2025, 7, 31, 22, 0, tzinfo=UTC)
    assert season.end == datetime(2026, 7, 31, 22, 0, tzinfo=UTC)
    assert season_of(datetime(2026, 7, 31, 21, 59, tzinfo=UTC)) == "2025-2026"
    assert season_of(datetime(2026, 7, 31, 22, 0, tzinfo=UTC)) == "2026-2027"


@pytest.mark.parametrize(
    ("kind", "value", "start", "end"),
    [
        (
            "day",
            "2026-03-29",
            datetime(2026, 3, 28, 23, tzinfo=UTC),
            datetime(2026, 3, 29, 22, tzinfo=UTC),
        ),
        (
            "week",
            "2026-W11",
            datetime(2026, 3, 8, 23, tzinfo=UTC),
            datetime(2026, 3, 15, 23, tzinfo=UTC),
        ),
        (
            "month",
            "2026-12",
            datetime(2026, 11, 30, 23, tzinfo=UTC),
            datetime(2026, 12, 31, 23, tzinfo=UTC),
        ),
    ],
)
def test_days_weeks_and_months_are_those_of_the_clock_in_mierlo(kind, value, start, end) -> None:
    period = parse_period(kind, value)

    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("kind", "value", "until"),
    [
        ("day", "2026-02-30", ""),
        ("day", "14-03-2026", ""),
        ("week", "2026-W54", ""),
        ("month", "2026-13", ""),
        ("season", "2025-2027", ""),
        ("season", "1800-1801", ""),
        ("range", "2026-03-02", "2026-03-01"),
        ("range", "2000-01-01", "2099-01-01"),
        ("quarter", "2026-Q1", ""),
        ("month", "\uff12\uff10\uff12\uff16-03", ""),  # full-width digits
    ],
)
def test_a_malformed_or_impossible_period_is_refused(kind, value, until) -> None:
    with pytest.raises(errors.InvalidPeriod):
        parse_period(kind, value, until)


def test_a_day_span_may_be_open_on_either_side() -> None:
    assert day_span("", "") is None
    assert day_span("2026-03-01", "").start == parse_period("day", "2026-03-01").start
    assert day_span("", "2026-03-01").end == parse_period("day", "2026-03-01").end
    with pytest.raises(errors.InvalidPeriod):
        day_span("2026-03-02", "2026-03-01")


def test_months_of_a_period_are_cut_to_it() -> None:
    months = months_of(parse_period("range", "2026-01-15", "2026-03-02"))

    assert [m.label for m in months] == ["jan 2026", "feb 2026", "maa 2026"]
    assert months[0].start == parse_period("day", "2026-01-15").start
    assert months[-1].end == parse_period("day", "2026-03-02").end


@given(
    gross=st.integers(min_value=-(10**9), max_value=10**9),
    rate=st.sampled_from(["0", "9", "21", "9.5", "100"]),
)
def test_net_and_vat_always_add_up_to_the_gross_amount(gross: int, rate: str) -> None:
    split = vat_split(gross, Decimal(rate))

    assert split.net_cents + split.vat_cents == gross
    assert abs(split.net_cents * (100 + Decimal(rate)) / 100 - gross) <= Decimal("1.01")


def test_vat_is_rounded_half_up_per_line() -> None:
    assert vat_split(1090, Decimal("9")) == vat_split(1090, Decimal("9.00"))
    assert (vat_split(1090, Decimal("9")).net_cents, vat_split(1090, Decimal("9")).vat_cents) == (
        1000,
        90,
    )
    # 2500 / 1.09 = 2293.577...: 2294 net, 206 VAT
    assert vat_split(2500, Decimal("9")).net_cents == 2294
    # 1.09 * 2.5 = 2.725 -> 2.50 / 1.09 = 2.2935...; 109 / 1.09 = exactly 100
    assert vat_split(109, Decimal("9")).net_cents == 100


@given(
    total=st.integers(min_value=0, max_value=10**7),
    weights=st.lists(st.integers(min_value=0, max_value=10**5), min_size=1, max_size=30),
)
def test_allocation_shares_to_the_cent_exactly(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)

    assert sum(parts) == (total if sum(weights) else 0)
    assert all(part >= 0 for part in parts)


@pytest.mark.parametrize("text", ["9", "9,00", " 21 ", "0", "100", "5.5"])
def test_staff_type_vat_rates_the_dutch_way(text: str) -> None:
    assert parse_vat_rate(text) == Decimal(text.strip().replace(",", ".")).quantize(Decimal("0.01"))


@pytest.mark.parametrize("text", ["", "negen", "-1", "100.01", "9.001", "NaN", "Infinity", "1e3"])
def test_other_vat_rates_are_refused(text: str) -> None:
    with pytest.raises(errors.ValidationError):
        parse_vat_rate(text)


def test_a_show_has_nine_percent_vat_until_staff_change_it(
    store: MemoryStore, clock: FixedClock
) -> None:
    staff = StaffCatalog(lambda: MemoryUnitOfWork(store, clock), clock)
    show = staff.create_show(ShowForm(title="Hamlet"))
    assert show.vat_rate == Decimal("9.00")

    edited = staff.edit_show(show.id, ShowForm(title="Hamlet", vat_rate="21"))
    assert edited.vat_rate == Decimal("21.00")
    with pytest.raises(errors.ValidationError) as refused:
        staff.edit_show(show.id, ShowForm(title="Hamlet", vat_rate="twintig"))
    assert set(refused.value.details["fields"]) == {"vat_rate"}


def test_a_performance_view_overlays_the_runs_of_the_same_show(
    store: MemoryStore, clock: FixedClock
) -> None:
    make_uow = lambda: MemoryUnitOfWork(store, clock)  # noqa: E731
    data = seed(make_uow)
    reporting = Reporting(make_uow, MemoryReports(store))

    view = reporting.performance(ids(data, "a1"))

    assert [c.points for c in view.curves] == [
        ((19, 3), (18, 4), (17, 6), (12, 7)),  # cumulative, counting down to the start
        ((43, 3),),  # a2, the other performance of Hamlet
    ]
    assert view.curves[0].label.startswith("Hamlet, ")
    with pytest.raises(errors.UnknownPerformance):
        reporting.performance(data.shows["a"].id)
    months = reporting.period(parse_period("month", "2026-02")).months
    assert months == (("feb 2026", 26292),)
