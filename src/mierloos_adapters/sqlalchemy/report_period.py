"""The period report in one statement: sales per performance and per show, refunds per
performance and per show, the orders placed and the occupancy of the performances that play,
as rows of one shape (UNION ALL), the show titles joined once at the end.

The sales read the tickets of the orders placed in the period (`ix_orders_created_at`) summed
per order and performance first, so an order counts once per performance (and, distinct, once
per show); the rows carried through the groupings are narrow (ids, a start, two numbers), the
titles are joined to the few result rows only. Python then files the rows: no loop over orders
or tickets.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    Uuid,
    func,
    literal,
    null,
    select,
    union_all,
)

from mierloos_adapters.sqlalchemy.report_queries import (
    MONEY_IN,
    SOLD,
    count_if,
    o,
    p,
    paid_tickets,
    ref,
    refund_parts,
    s,
    tk,
    total,
    within,
)
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.ports.reports import (
    OccupancyRow,
    Period,
    PeriodReport,
    PeriodTotals,
    SalesRow,
)

NO_ID = null().cast(Uuid)
NO_TIME = null().cast(UtcDateTime)


def _shaped(level: str, *, key: Any, show_id: Any, starts_at: Any, numbers: Sequence[Any]) -> Any:
    """The columns every row of the report has: its level, the performance or show it is
    about (and that show), a start, a status (occupancy) and three numbers."""
    zero: Any = literal(0, BigInteger)
    a, b, c = [*numbers, zero, zero][:3]
    return (
        literal(level, String).label("level"),
        key.label("key"),
        show_id.label("show_id"),
        starts_at.label("starts_at"),
        (p.c.status if level == "occupancy" else null().cast(String)).label("status"),
        a.label("a"),
        b.label("b"),
        c.label("c"),
    )


def _levels(names: tuple[str, str], rows: Any, numbers: Any) -> list[Select[Any]]:
    """`rows` (with performance_id, show_id, starts_at) summed per performance and per show,
    as rows of levels `names`; `numbers(per_show)` are the sums of a level."""
    levels = []
    by_performance, by_show = (rows.c.performance_id, rows.c.show_id), (rows.c.show_id,)
    for level, keys in zip(names, (by_performance, by_show), strict=True):
        columns = _shaped(
            level,
            key=keys[0],
            show_id=rows.c.show_id,
            starts_at=func.min(rows.c.starts_at),
            numbers=numbers(len(keys) == 1),
        )
        levels.append(select(*columns).group_by(*keys))
    return levels


def _sales(period: Period) -> list[Select[Any]]:
    """Orders, tickets and revenue per performance and per show (orders placed in it): the
    tickets summed per order and performance once (`per_order`, narrow rows), both levels read
    that; an order counts once per performance and once per show (distinct)."""
    lines = paid_tickets(*within(period, o.c.created_at))
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
    # The performance's show and start joined after the grouping: grouping on two ids is
    # cheaper than on four columns.
    placed = (
        select(per_order, p.c.show_id, p.c.starts_at)
        .join(p, p.c.id == per_order.c.performance_id)
        .cte("placed")
    )
    c = placed.c
    return _levels(
        ("performance", "show"),
        placed,
        lambda per_show: (
            func.count(c.order_id.distinct()) if per_show else func.count(),
            total(c.tickets),
            total(c.paid),
        ),
    )


def _refunds(period: Period) -> list[Select[Any]]:
    """Refunds made in the period per performance and per show."""
    parts = refund_parts(*within(period, ref.c.created_at))
    made = (
        select(parts.c.performance_id, p.c.show_id, p.c.starts_at, parts.c.part)
        .join(p, p.c.id == parts.c.performance_id)
        .cte("refunded")
    )
    return _levels(
        ("refund-performance", "refund-show"), made, lambda _per_show: (total(made.c.part),)
    )


def period_query(period: Period) -> Select[Any]:
    placed = within(period, o.c.created_at)
    playing = within(period, p.c.starts_at)
    orders = select(
        *_shaped(
            "orders",
            key=NO_ID,
            show_id=NO_ID,
            starts_at=NO_TIME,
            numbers=(func.count(), count_if(o.c.paid_at.is_not(None))),
        )
    ).where(*placed)
    # Counted on the (performance_id, status) index alone, for the performances that play.
    seats = (
        select(tk.c.performance_id, func.count().label("sold"))
        .where(tk.c.status == SOLD, tk.c.performance_id.in_(select(p.c.id).where(*playing)))
        .group_by(tk.c.performance_id)
        .subquery("seats")
    )
    occupancy = (
        select(
            *_shaped(
                "occupancy",
                key=p.c.id,
                show_id=p.c.show_id,
                starts_at=p.c.starts_at,
                numbers=(p.c.capacity, func.coalesce(seats.c.sold, 0)),
            )
        )
        .outerjoin(seats, seats.c.performance_id == p.c.id)
        .where(*playing)
    )
    rows = union_all(*_sales(period), *_refunds(period), orders, occupancy).subquery("rows")
    return select(rows, s.c.title).outerjoin(s, s.c.id == rows.c.show_id)


def period_report(period: Period, rows: Sequence[Any]) -> PeriodReport:
    """The report from the rows of `period_query`."""
    found: dict[str, dict[uuid.UUID, Any]] = {}
    for row in rows:
        found.setdefault(row.level, {})[row.key] = row
    performances = found.get("performance", {})
    [orders] = found["orders"].values()
    refunds = found.get("refund-performance", {})
    return PeriodReport(
        period=period,
        totals=PeriodTotals(
            orders=int(orders.a),
            paid_orders=int(orders.b),
            tickets=sum(int(row.b) for row in performances.values()),
            revenue_cents=sum(int(row.c) for row in performances.values()),
            refunds_cents=sum(int(row.a) for row in refunds.values()),
        ),
        shows=_sales_rows(found.get("show", {}), found.get("refund-show", {}), by_revenue=True),
        performances=_sales_rows(performances, refunds, by_revenue=False),
        occupancy=tuple(
            sorted(
                (
                    OccupancyRow(
                        performance_id=row.key,
                        title=row.title,
                        starts_at=row.starts_at,
                        status=PerformanceStatus(row.status),
                        capacity=int(row.a),
                        sold=int(row.b),
                    )
                    for row in found.get("occupancy", {}).values()
                ),
                key=lambda r: (r.starts_at, r.title),
            )
        ),
    )


def _sales_rows(
    sales: dict[uuid.UUID, Any], refunds: dict[uuid.UUID, Any], *, by_revenue: bool
) -> tuple[SalesRow, ...]:
    """Sales rows joined with refund rows: a show or performance with only refunds in the
    period appears too, with no sales."""
    rows = [
        SalesRow(
            id=key,
            title=(sales.get(key) or refunds[key]).title,
            starts_at=(sales.get(key) or refunds[key]).starts_at,
            orders=int(sales[key].a) if key in sales else 0,
            tickets=int(sales[key].b) if key in sales else 0,
            revenue_cents=int(sales[key].c) if key in sales else 0,
            refunds_cents=int(refunds[key].a) if key in refunds else 0,
        )
        for key in {**refunds, **sales}
    ]
    if by_revenue:
        rows.sort(key=lambda r: (-r.revenue_cents, r.title, str(r.id)))
    else:
        rows.sort(key=lambda r: (r.starts_at, r.title, str(r.id)))
    return tuple(rows)
