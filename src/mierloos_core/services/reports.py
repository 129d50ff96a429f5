"""Reports: periods as staff name them, VAT per line, and the arithmetic the figures share.

Periods are days in Mierlo (Europe/Amsterdam), turned into UTC moments:

- ``day`` ``2026-03-14``; ``week`` ``2026-W11`` (ISO weeks, Monday first); ``month`` ``2026-03``;
- ``season`` ``2025-2026``: 1 August 2025 up to and including 31 July 2026, as Dutch theatres
  count their seasons; ``range`` from one day up to and including another (at most
  `MAX_RANGE_DAYS`).

VAT: amounts are what the buyer paid, VAT included. Per line the net amount is
``gross / (1 + rate)`` rounded to the cent half up (ROUND_HALF_UP) and the VAT is the rest, so
net + VAT is always the gross amount exactly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import attrs

from mierloos_core import errors
from mierloos_core.model.timeutil import AMSTERDAM, DUTCH_MONTHS, dutch_datetime
from mierloos_core.ports.reports import (
    DailySales,
    LineFilter,
    PerformanceReport,
    Period,
    PeriodReport,
    Reports,
)
from mierloos_core.ports.repositories import UnitOfWork

PERIOD_KINDS = ("day", "week", "month", "season", "range")
EXPORT_KINDS = ("tickets", "orders", "payments")
MAX_RANGE_DAYS = 3700  # ten seasons and a bit
SEASON_START_MONTH = 8  # August
DEFAULT_VAT_RATE = Decimal("9.00")  # the Dutch rate for theatre tickets
MAX_VAT_RATE = Decimal("100")
VAT_ROUNDING = "per regel, netto = bruto / (1 + tarief) afgerond op de cent (half naar boven)"

_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_SEASON = re.compile(r"([0-9]{4})-([0-9]{4})")
_FIRST_YEAR, _LAST_YEAR = 2000, 2100


def _bad(value: str) -> errors.InvalidPeriod:
    return errors.InvalidPeriod(value=value[:40])


def _midnight(day: date) -> datetime:
    """The start of `day` in Mierlo, in UTC."""
    return datetime.combine(day, time(0), tzinfo=AMSTERDAM).astimezone(UTC)


def _days(first: date, after_last: date, label: str) -> Period:
    return Period(start=_midnight(first), end=_midnight(after_last), label=label)


def _year(text: str, value: str) -> int:
    year = int(text)
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise _bad(value)
    return year


def parse_day(value: str) -> date:
    """A day written ``YYYY-MM-DD``; InvalidPeriod otherwise."""
    found = _DAY.fullmatch(value.strip())
    if not found:
        raise _bad(value)
    try:
        day = date(_year(found[1], value), int(found[2]), int(found[3]))
    except ValueError:
        raise _bad(value) from None
    return day


def parse_period(kind: str, value: str = "", until: str = "") -> Period:
    """The period of `kind` named by `value` (and `until` for a range); InvalidPeriod else."""
    value = value.strip()
    if kind == "day":
        day = parse_day(value)
        return _days(
            day, day + timedelta(days=1), f"{day.day} {DUTCH_MONTHS[day.month - 1]} {day.year}"
        )
    if kind == "week":
        return _week(value)
    if kind == "month":
        return _month(value)
    if kind == "season":
        return _season(value)
    if kind == "range":
        return day_range(parse_day(value), parse_day(until))
    raise _bad(kind)


def day_range(first: date, last: date) -> Period:
    """From `first` up to and including `last`."""
    if last < first:
        raise errors.InvalidPeriod("De einddatum ligt voor de begindatum.")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise errors.InvalidPeriod(f"Kies een periode van hoogstens {MAX_RANGE_DAYS} dagen.")
    label = f"{first:%d-%m-%Y} t/m {last:%d-%m-%Y}"
    return _days(first, last + timedelta(days=1), label)


def day_span(first: str, last: str) -> Period | None:
    """The days from `first` up to and including `last`, either of them open (empty): None
    when both are; InvalidPeriod for a malformed day or the last before the first."""
    if not first and not last:
        return None
    start = parse_day(first) if first else date(_FIRST_YEAR, 1, 1)
    end = parse_day(last) if last else date(_LAST_YEAR, 12, 31)
    if end < start:
        raise errors.InvalidPeriod("De einddatum ligt voor de begindatum.")
    return _days(start, end + timedelta(days=1), f"{start:%d-%m-%Y} t/m {end:%d-%m-%Y}")


def _week(value: str) -> Period:
    found = _WEEK.fullmatch(value)
    if not found:
        raise _bad(value)
    try:
        monday = date.fromisocalendar(_year(found[1], value), int(found[2]), 1)
    except ValueError:
        raise _bad(value) from None
    return _days(monday, monday + timedelta(days=7), f"week {int(found[2])} van {found[1]}")


def _month(value: str) -> Period:
    found = _MONTH.fullmatch(value)
    if not found or not 1 <= int(found[2]) <= 12:
        raise _bad(value)
    first = date(_year(found[1], value), int(found[2]), 1)
    label = f"{DUTCH_MONTHS[first.month - 1]} {first.year}"
    return _days(first, _next_month(first), label)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _season(value: str) -> Period:
    found = _SEASON.fullmatch(value)
    if not found or int(found[2]) != int(found[1]) + 1:
        raise _bad(value)
    start = _year(found[1], value)
    first = date(start, SEASON_START_MONTH, 1)
    return _days(first, date(start + 1, SEASON_START_MONTH, 1), f"seizoen {start}-{start + 1}")


def season_of(moment: datetime) -> str:
    """The season a moment falls in, as ``2025-2026``."""
    day = moment.astimezone(AMSTERDAM).date()
    start = day.year if day.month >= SEASON_START_MONTH else day.year - 1
    return f"{start}-{start + 1}"


def months_of(period: Period) -> list[Period]:
    """The calendar months (in Mierlo) the period touches, each cut to the period."""
    first = period.start.astimezone(AMSTERDAM).date().replace(day=1)
    buckets = []
    while _midnight(first) < period.end:
        after = _next_month(first)
        label = f"{DUTCH_MONTHS[first.month - 1][:3]} {first.year}"
        start, end = max(_midnight(first), period.start), min(_midnight(after), period.end)
        buckets.append(Period(start=start, end=end, label=label))
        first = after
    return buckets


def allocate(total: int, weights: Sequence[int], whole: int | None = None) -> list[int]:
    """`total` shared in proportion to `weights` (out of `whole`, by default their sum) by
    cumulative rounding down: with `whole` their sum the parts add up to `total` exactly. The
    SQL adapter computes the same with a window function."""
    whole = sum(weights) if whole is None else whole
    if not whole:
        return [0 for _ in weights]
    parts, running, given = [], 0, 0
    for weight in weights:
        running += weight
        upto = total * running // whole
        parts.append(upto - given)
        given = upto
    return parts


@attrs.frozen
class VatSplit:
    net_cents: int
    vat_cents: int


def vat_split(gross_cents: int, rate: Decimal) -> VatSplit:
    """Net and VAT of an amount that includes VAT at `rate` percent (see the module's rule).

    In whole numbers, exactly: net = gross * 10000 / (10000 + rate in hundredths of a
    percent), rounded half away from zero (ROUND_HALF_UP, for refunds' negative amounts too).
    """
    hundredths = int(rate * 100)
    if hundredths != rate * 100:
        raise ValueError("a VAT rate has at most two decimals")
    numerator, denominator = abs(gross_cents) * 10000, 10000 + hundredths
    net = (2 * numerator + denominator) // (2 * denominator)
    net = net if gross_cents >= 0 else -net
    return VatSplit(net_cents=net, vat_cents=gross_cents - net)


def parse_vat_rate(text: str) -> Decimal:
    """A VAT percentage as staff type it (``9``, ``21``, ``9,00``); InvalidInput otherwise."""
    try:
        rate = Decimal(text.strip().replace(",", ".") or "x")
    except ArithmeticError:
        rate = Decimal(-1)
    if (
        not rate.is_finite()
        or not 0 <= rate <= MAX_VAT_RATE
        or rate != rate.quantize(Decimal("0.01"))
    ):
        raise errors.ValidationError(
            "Vul een btw-tarief in van 0 tot 100 procent, hoogstens twee decimalen, bijvoorbeeld 9."
        )
    return rate.quantize(Decimal("0.01"))


@attrs.frozen(kw_only=True)
class SalesCurve:
    """Cumulative tickets by days before the start: the run of one performance."""

    label: str
    points: tuple[tuple[int, int], ...]
    """(days before the start, tickets sold by then), from the first sale to the start."""


def sales_curve(daily: DailySales) -> SalesCurve:
    points, running = [], 0
    for days_before, tickets in sorted(daily.per_day, reverse=True):
        running += tickets
        points.append((days_before, running))
    return SalesCurve(label=daily.label, points=tuple(points))


MAX_CURVES = 8  # performances overlaid in one sales chart


@attrs.frozen(kw_only=True)
class PeriodView:
    report: PeriodReport
    months: tuple[tuple[str, int], ...]
    """(month label, revenue in cents) for each month the period touches."""


@attrs.frozen(kw_only=True)
class PerformanceView:
    report: PerformanceReport
    curves: tuple[SalesCurve, ...]
    """This performance's sales run first, then those of the show's other performances."""


class Reporting:
    """The reports staff read: a period, one performance, and export lines."""

    def __init__(self, uow: Callable[[], UnitOfWork], reports: Reports) -> None:
        self._uow = uow
        self.reports = reports

    def period(self, period: Period) -> PeriodView:
        months = months_of(period)
        revenue = self.reports.revenue_per_bucket(months)
        return PeriodView(
            report=self.reports.period(period),
            months=tuple((m.label, cents) for m, cents in zip(months, revenue, strict=True)),
        )

    def lines(self, kind: str, only: LineFilter) -> Iterator[Any]:
        """The lines of an export: `kind` one of EXPORT_KINDS (else ValueError)."""
        if kind == "tickets":
            return self.reports.ticket_lines(only)
        if kind == "orders":
            return self.reports.order_lines(only)
        if kind == "payments":
            return self.reports.money_lines(only)
        raise ValueError(kind)

    def performance(self, performance_id: uuid.UUID) -> PerformanceView:
        report = self.reports.performance(performance_id)
        if report is None:
            raise errors.UnknownPerformance(performance_id=str(performance_id))
        with self._uow() as uow:
            others = [
                p for p in uow.performances.for_show(report.show_id) if p.id != performance_id
            ]
        others.sort(key=lambda p: abs((p.starts_at - report.starts_at).total_seconds()))
        wanted = [performance_id, *(p.id for p in others[: MAX_CURVES - 1])]
        curves = []
        for daily in self.reports.daily_sales(wanted):
            curve = sales_curve(daily)
            label = f"{daily.label}, {dutch_datetime(daily.starts_at)}"
            curves.append(attrs.evolve(curve, label=label))
        return PerformanceView(report=report, curves=tuple(curves))
