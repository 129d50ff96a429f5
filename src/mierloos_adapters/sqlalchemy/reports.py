"""The Reports port over SQL: each group of figures is one aggregate query (GROUP BY) over the
indexed tables, never a loop over orders in Python; export lines stream from a server-side
cursor (`report_lines`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Integer, case, func, literal, select, union_all

from mierloos_adapters.sqlalchemy import report_csv, report_lines
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
from mierloos_core.ports.reports import (
    CategoryFigures,
    CouponFigures,
    DailySales,
    LineFilter,
    MethodFigures,
    MoneyLine,
    OccupancyRow,
    OrderLine,
    PerformanceReport,
    Period,
    PeriodReport,
    PeriodTotals,
    SalesRow,
    TicketLine,
)


class SqlReports:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def performance(self, performance_id: uuid.UUID) -> PerformanceReport | None:
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
            return PerformanceReport(
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

    def period(self, period: Period) -> PeriodReport:
        placed = (o.c.created_at >= period.start, o.c.created_at < period.end)
        made = (ref.c.created_at >= period.start, ref.c.created_at < period.end)
        with reading(self.engine) as db:
            sales = _sales(db, placed)
            refunds = _refunds_per_performance(db, made)
            totals = db.execute(
                select(func.count(), count_if(o.c.paid_at.is_not(None))).where(*placed)
            ).one()
            occupancy = _occupancy(db, period)
        per_show: dict[uuid.UUID, dict[str, Any]] = {}
        per_performance: dict[uuid.UUID, dict[str, Any]] = {}
        for row in refunds:
            per_performance[row["performance_id"]] = dict(row)
            shown = per_show.setdefault(row["show_id"], {**row, "part": 0})
            shown["part"] += row["part"]
            shown["starts_at"] = min(shown["starts_at"], row["starts_at"])
        return PeriodReport(
            period=period,
            totals=PeriodTotals(
                orders=totals[0],
                paid_orders=totals[1],
                tickets=sum(row["tickets"] for row in sales["performance"].values()),
                revenue_cents=sum(row["revenue"] for row in sales["performance"].values()),
                refunds_cents=sum(int(row["part"]) for row in refunds),
            ),
            shows=_rows(sales["show"], per_show, by_revenue=True),
            performances=_rows(sales["performance"], per_performance, by_revenue=False),
            occupancy=occupancy,
        )

    def daily_sales(self, performance_ids: Sequence[uuid.UUID]) -> list[DailySales]:
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
            DailySales(
                performance_id=i,
                label=known[i].title,
                starts_at=known[i].starts_at,
                per_day=tuple(sorted(per_day[i], reverse=True)),
            )
            for i in ids
            if i in known
        ]

    def revenue_per_bucket(self, buckets: Sequence[Period]) -> list[int]:
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

    def ticket_lines(self, only: LineFilter) -> Iterator[TicketLine]:
        return report_lines.ticket_lines(self.engine, only)

    def order_lines(self, only: LineFilter) -> Iterator[OrderLine]:
        return report_lines.order_lines(self.engine, only)

    def money_lines(self, only: LineFilter) -> Iterator[MoneyLine]:
        return report_lines.money_lines(self.engine, only)

    def csv_lines(self, kind: str, only: LineFilter) -> Iterator[str] | None:
        """An export's CSV lines formatted by Postgres (`report_csv`); None elsewhere."""
        if self.engine.dialect.name != "postgresql" or kind not in report_csv.KINDS:
            return None
        return report_csv.csv_lines(self.engine, kind, only)


def _orders_of(performance_id: uuid.UUID) -> Any:
    return select(tk.c.order_id).where(tk.c.performance_id == performance_id)


def _days_before(db: Connection, later: Any, earlier: Any) -> Any:
    """Whole days from `earlier` to `later` (0 when `earlier` is not before it)."""
    if db.dialect.name == "postgresql":
        seconds = func.extract("epoch", later - earlier)
        return func.greatest(func.floor(seconds / 86400), 0)
    days = func.cast(func.julianday(later) - func.julianday(earlier), Integer)
    return case((days < 0, 0), else_=days)


def _by_category(db: Connection, lines: Any, mine: Any) -> tuple[CategoryFigures, ...]:
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
        CategoryFigures(name=r[0], sold=r[1], refunded=r[2], revenue_cents=r[3]) for r in rows
    )


def _by_method(db: Connection, lines: Any, mine: Any) -> tuple[MethodFigures, ...]:
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
    return tuple(MethodFigures(method=r[0], orders=r[1], revenue_cents=r[2]) for r in rows)


def _by_coupon(db: Connection, lines: Any, mine: Any) -> tuple[CouponFigures, ...]:
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
        CouponFigures(code=r[0], orders=r[1], tickets=r[2], discount_cents=r[3], revenue_cents=r[4])
        for r in rows
    )


def _sales(db: Connection, placed: Any) -> dict[str, dict[uuid.UUID, dict[str, Any]]]:
    """Orders, tickets and revenue of the orders placed, per performance and per show, from
    one statement: the tickets summed per order and performance first (a CTE both groupings
    read, so neither needs a DISTINCT over the tickets)."""
    lines = paid_tickets(*placed)
    per_order = (
        select(
            lines.c.order_id,
            lines.c.performance_id,
            func.count().label("tickets"),
            func.sum(lines.c.paid).label("paid"),
        )
        .where(lines.c.status.in_(MONEY_IN))
        .group_by(lines.c.order_id, lines.c.performance_id)
        .subquery("per_order")
    )
    sold = (
        select(per_order, p.c.show_id, p.c.starts_at, s.c.title)
        .join(p, p.c.id == per_order.c.performance_id)
        .join(s, s.c.id == p.c.show_id)
        .cte("sold")
    )
    per_show = (
        select(
            sold.c.show_id,
            func.max(sold.c.title).label("title"),
            func.min(sold.c.starts_at).label("starts_at"),
            func.sum(sold.c.tickets).label("tickets"),
            func.sum(sold.c.paid).label("paid"),
        )
        .group_by(sold.c.order_id, sold.c.show_id)
        .subquery("per_show")
    )

    def grouped(level: str, rows: Any, key: Any, starts: Any) -> Any:
        return select(
            literal(level).label("level"),
            key.label("key"),
            func.max(rows.c.title).label("title"),
            starts.label("starts_at"),
            func.count().label("orders"),
            total(rows.c.tickets).label("tickets"),
            total(rows.c.paid).label("revenue"),
        ).group_by(key)

    query = grouped(
        "performance", sold, sold.c.performance_id, func.max(sold.c.starts_at)
    ).union_all(grouped("show", per_show, per_show.c.show_id, func.min(per_show.c.starts_at)))
    found: dict[str, dict[uuid.UUID, dict[str, Any]]] = {"performance": {}, "show": {}}
    for row in db.execute(query).mappings():
        found[row["level"]][row["key"]] = dict(row)
    return found


def _refunds_per_performance(db: Connection, made: Any) -> list[dict[str, Any]]:
    parts = refund_parts(*made)
    query = (
        select(
            p.c.show_id,
            parts.c.performance_id,
            s.c.title,
            p.c.starts_at,
            total(parts.c.part).label("part"),
        )
        .join(p, p.c.id == parts.c.performance_id)
        .join(s, s.c.id == p.c.show_id)
        .group_by(p.c.show_id, parts.c.performance_id, s.c.title, p.c.starts_at)
    )
    return [dict(row) for row in db.execute(query).mappings()]


def _rows(
    sales: dict[uuid.UUID, dict[str, Any]],
    refunds: dict[uuid.UUID, dict[str, Any]],
    *,
    by_revenue: bool,
) -> tuple[SalesRow, ...]:
    """Sales rows joined with refund rows: a show or performance with only refunds in the
    period appears too, with no sales."""
    nothing = {"orders": 0, "tickets": 0, "revenue": 0}
    merged = {key: {**nothing, **row} for key, row in refunds.items()} | sales
    rows = [
        SalesRow(
            id=key,
            title=row["title"],
            starts_at=row["starts_at"],
            orders=row["orders"],
            tickets=row["tickets"],
            revenue_cents=int(row["revenue"]),
            refunds_cents=int(refunds.get(key, nothing).get("part", 0)),
        )
        for key, row in merged.items()
    ]
    if by_revenue:
        rows.sort(key=lambda r: (-r.revenue_cents, r.title, str(r.id)))
    else:
        rows.sort(key=lambda r: (r.starts_at, r.title, str(r.id)))
    return tuple(rows)


def _occupancy(db: Connection, period: Period) -> tuple[OccupancyRow, ...]:
    playing = (p.c.starts_at >= period.start, p.c.starts_at < period.end)
    # Counted on the (performance_id, status) index alone, for the performances that play.
    sold = (
        select(tk.c.performance_id, func.count().label("sold"))
        .where(tk.c.status == SOLD, tk.c.performance_id.in_(select(p.c.id).where(*playing)))
        .group_by(tk.c.performance_id)
        .subquery("sold")
    )
    rows = db.execute(
        select(
            p.c.id,
            s.c.title,
            p.c.starts_at,
            p.c.status,
            p.c.capacity,
            func.coalesce(sold.c.sold, 0),
        )
        .join(s, s.c.id == p.c.show_id)
        .outerjoin(sold, sold.c.performance_id == p.c.id)
        .where(*playing)
        .order_by(p.c.starts_at, s.c.title)
    ).all()
    return tuple(
        OccupancyRow(
            performance_id=r[0],
            title=r[1],
            starts_at=r[2],
            status=PerformanceStatus(r[3]),
            capacity=r[4],
            sold=r[5],
        )
        for r in rows
    )
