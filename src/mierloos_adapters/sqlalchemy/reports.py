"""The Reports port over SQL: each group of figures is one aggregate query (GROUP BY) over the
indexed tables, never a loop over orders in Python. A performance's report is built in
`report_performance`, a period's in `report_period`; export lines stream from a server-side
cursor (`report_lines`) or come formatted by Postgres (`report_formats`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Integer, case, func, literal, select, union_all

from mierloos_adapters.sqlalchemy import (
    report_formats,
    report_lines,
    report_performance,
    report_period,
)
from mierloos_adapters.sqlalchemy.report_queries import (
    MONEY_IN,
    o,
    p,
    paid_tickets,
    reading,
    s,
    tk,
    total,
    within,
)
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_core.ports import reports


class SqlReports:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def performance(self, performance_id: uuid.UUID) -> reports.PerformanceReport | None:
        with reading(self.engine) as db:
            return report_performance.performance_report(db, performance_id)

    def period(self, period: reports.Period) -> reports.PeriodReport:
        with reading(self.engine) as db:
            rows = db.execute(report_period.period_query(period)).all()
        return report_period.period_report(period, rows)

    def daily_sales(self, performance_ids: Sequence[uuid.UUID]) -> list[reports.DailySales]:
        if not performance_ids:
            return []
        ids = list(performance_ids)
        with reading(self.engine) as db:
            days = _days_before(db, p.c.starts_at, o.c.created_at)
            found = db.execute(
                select(p.c.id, s.c.title, p.c.starts_at, days.label("days"), func.count(tk.c.id))
                .select_from(tk)
                .join(o, o.c.id == tk.c.order_id)
                .join(p, p.c.id == tk.c.performance_id)
                .join(s, s.c.id == p.c.show_id)
                .where(tk.c.performance_id.in_(ids), tk.c.status.in_(MONEY_IN))
                .group_by(p.c.id, s.c.title, p.c.starts_at, days)
            ).all()
            heads = db.execute(
                select(p.c.id, s.c.title, p.c.starts_at)
                .join(s, s.c.id == p.c.show_id)
                .where(p.c.id.in_(ids))
            ).all()
        per_day: dict[uuid.UUID, list[tuple[int, int]]] = {row.id: [] for row in heads}
        for row in found:
            per_day[row.id].append((int(row.days), row[4]))
        known = {row.id: row for row in heads}
        return [
            reports.DailySales(
                performance_id=i,
                label=known[i].title,
                starts_at=known[i].starts_at,
                per_day=tuple(sorted(per_day[i], reverse=True)),
            )
            for i in ids
            if i in known
        ]

    def revenue_per_bucket(self, buckets: Sequence[reports.Period]) -> list[int]:
        if not buckets:
            return []
        bounds = union_all(
            *(
                select(
                    literal(n, Integer).label("n"),
                    literal(b.start, UtcDateTime).label("start"),
                    literal(b.end, UtcDateTime).label("until"),
                )
                for n, b in enumerate(buckets)
            )
        ).subquery("buckets")
        first, last = min(b.start for b in buckets), max(b.end for b in buckets)
        lines = paid_tickets(*within(reports.Period(start=first, end=last), o.c.created_at))
        query = (
            select(bounds.c.n, total(lines.c.paid))
            .select_from(lines)
            .join(
                bounds,
                (lines.c.created_at >= bounds.c.start) & (lines.c.created_at < bounds.c.until),
            )
            .where(lines.c.status.in_(MONEY_IN))
            .group_by(bounds.c.n)
        )
        with reading(self.engine) as db:
            found = {int(n): int(cents) for n, cents in db.execute(query)}
        return [int(found.get(n, 0)) for n in range(len(buckets))]

    def ticket_lines(self, only: reports.LineFilter) -> Iterator[reports.TicketLine]:
        return report_lines.ticket_lines(self.engine, only)

    def order_lines(self, only: reports.LineFilter) -> Iterator[reports.OrderLine]:
        return report_lines.order_lines(self.engine, only)

    def money_lines(self, only: reports.LineFilter) -> Iterator[reports.MoneyLine]:
        return report_lines.money_lines(self.engine, only)

    def formatted_lines(
        self, form: str, kind: str, only: reports.LineFilter
    ) -> Iterator[str] | None:
        """An export's CSV lines or sheet rows formatted by Postgres (`report_formats`); None
        elsewhere."""
        if self.engine.dialect.name != "postgresql" or kind not in report_formats.KINDS:
            return None
        return report_formats.formatted_lines(self.engine, form, kind, only)


def _days_before(db: Connection, later: Any, earlier: Any) -> Any:
    """Whole days from `earlier` to `later` (0 when `earlier` is not before it)."""
    if db.dialect.name == "postgresql":
        seconds = func.extract("epoch", later - earlier)
        return func.greatest(func.floor(seconds / 86400), 0)
    days = func.cast(func.julianday(later) - func.julianday(earlier), Integer)
    return case((days < 0, 0), else_=days)
