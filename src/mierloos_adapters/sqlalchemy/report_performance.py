"""One performance's report: its tickets counted by status, its revenue and refunds, and the
revenue per price category, payment method and coupon, each one aggregate query.

What a ticket paid is read over every order with a ticket for the performance (`paid_tickets`
needs all of an order's tickets to share its discount), then narrowed to the performance's own
tickets.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, func, select

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
    ref,
    refund_parts,
    s,
    tk,
    total,
)
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.ports import reports


def performance_report(
    db: Connection, performance_id: uuid.UUID
) -> reports.PerformanceReport | None:
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


def _orders_of(performance_id: uuid.UUID) -> Any:
    return select(tk.c.order_id).where(tk.c.performance_id == performance_id)


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
