"""The Reports port over SQL: each group of figures is one aggregate query (GROUP BY) over the
indexed tables, never a loop over orders in Python; export lines stream from a server-side
cursor (`report_lines`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Integer, case, func, literal, select, union_all

from mierloos_adapters.sqlalchemy import report_formats, report_lines, report_period
from mierloos_adapters.sqlalchemy.report_queries import (
    ADMITTED_AT,
    CANCELLED,
    CHECK_IN_RECORDED,
    HELD,
    MONEY_IN,
    REFUNDED,
    SOLD,
    count_if,
    o,
    p,
    paid_tickets,
    payment_method,
    reading,
    ref,
    refund_parts,
    s,
    tk,
    total,
)
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.ports import reports


class SqlReports:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def performance(self, performance_id: uuid.UUID) -> reports.PerformanceReport | None:
        with reading(self.engine) as db:
            head = db.execute(
                select(p.c.id, s.c.title, p.c.starts_at, p.c.status, p.c.capacity)
                .add_columns(p.c.available_seats, p.c.show_id)
                .join(s, s.c.id == p.c.show_id)
                .where(p.c.id == performance_id)
            ).first()
            if head is None:
                return None
            counts = db.execute(
                select(
                    count_if(tk.c.status == SOLD),
                    count_if(tk.c.status == HELD),
                    count_if(tk.c.status == REFUNDED),
                    count_if(tk.c.status == CANCELLED),
                    func.count(ADMITTED_AT),
                ).where(tk.c.performance_id == performance_id)
            ).one()
            lines = paid_tickets(o.c.id.in_(_orders_of(performance_id)))
            mine = (lines.c.performance_id == performance_id, lines.c.status.in_(MONEY_IN))
            refunds = refund_parts(ref.c.order_id.in_(_orders_of(performance_id)))
            refunded = db.execute(
                select(total(refunds.c.part)).where(refunds.c.performance_id == performance_id)
            ).scalar_one()
            return reports.PerformanceReport(
                performance_id=head.id,
                show_id=head.show_id,
                show_title=head.title,
                starts_at=head.starts_at,
                status=PerformanceStatus(head.status),
                capacity=head.capacity,
                free=head.available_seats,
                sold=counts[0],
                held=counts[1],
                refunded=counts[2],
                cancelled=counts[3],
                admitted=counts[4] if CHECK_IN_RECORDED else None,
                revenue_cents=db.execute(select(total(lines.c.paid)).where(*mine)).scalar_one(),
                refunds_cents=refunded,
                by_category=_by_category(db, lines, mine),
                by_method=_by_method(db, lines, mine),
                by_coupon=_by_coupon(db, lines, mine),
            )

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
        lines = paid_tickets(o.c.created_at >= first, o.c.created_at < last)
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


def _orders_of(performance_id: uuid.UUID) -> Any:
    return select(tk.c.order_id).where(tk.c.performance_id == performance_id)


def _days_before(db: Connection, later: Any, earlier: Any) -> Any:
    """Whole days from `earlier` to `later` (0 when `earlier` is not before it)."""
    if db.dialect.name == "postgresql":
        seconds = func.extract("epoch", later - earlier)
        return func.greatest(func.floor(seconds / 86400), 0)
    days = func.cast(func.julianday(later) - func.julianday(earlier), Integer)
    return case((days < 0, 0), else_=days)


def _by_category(db: Connection, lines: Any, mine: Any) -> tuple[reports.CategoryFigures, ...]:
    rows = db.execute(
        select(
            lines.c.category_name,
            count_if(lines.c.status == SOLD),
            count_if(lines.c.status == REFUNDED),
            total(lines.c.paid),
        )
        .where(*mine)
        .group_by(lines.c.category_name)
        .order_by(lines.c.category_name)
    ).all()
    return tuple(
        reports.CategoryFigures(name=r[0], sold=r[1], refunded=r[2], revenue_cents=r[3])
        for r in rows
    )


def _by_method(db: Connection, lines: Any, mine: Any) -> tuple[reports.MethodFigures, ...]:
    method = payment_method(lines.c.order_id).label("method")
    per_order = (
        select(lines.c.order_id, method, func.sum(lines.c.paid).label("paid"))
        .where(*mine)
        .group_by(lines.c.order_id)
        .subquery("per_order")
    )
    rows = db.execute(
        select(per_order.c.method, func.count(), total(per_order.c.paid))
        .group_by(per_order.c.method)
        .order_by(per_order.c.method.asc().nulls_last())
    ).all()
    return tuple(reports.MethodFigures(method=r[0], orders=r[1], revenue_cents=r[2]) for r in rows)


def _by_coupon(db: Connection, lines: Any, mine: Any) -> tuple[reports.CouponFigures, ...]:
    rows = db.execute(
        select(
            lines.c.coupon_code,
            func.count(func.distinct(lines.c.order_id)),
            func.count(),
            total(lines.c.price_cents - lines.c.paid),
            total(lines.c.paid),
        )
        .where(*mine)
        .group_by(lines.c.coupon_code)
        .order_by(lines.c.coupon_code.asc().nulls_last())
    ).all()
    return tuple(
        reports.CouponFigures(
            code=r[0], orders=r[1], tickets=r[2], discount_cents=r[3], revenue_cents=r[4]
        )
        for r in rows
    )
