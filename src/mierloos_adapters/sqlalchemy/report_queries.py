"""The building blocks of the report queries: what a ticket paid, a refund's part per
performance, an order's payment method and a ticket's admittance, each written once.

See `mierloos_core.ports.reports` for the definitions. What a ticket paid uses a window
function over its order's tickets by position (cumulative rounding: the tickets of an order add
up to its total exactly); a refund's parts use one over the performances of its order by id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Subquery,
    case,
    cast,
    func,
    select,
    union_all,
)

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.orders import PaymentMethod, TicketStatus
from mierloos_core.model.payments import PaymentStatus, RefundStatus
from mierloos_core.ports.reports import Period

tk, o, p, s = t.tickets, t.orders, t.performances, t.shows
pay, ref = t.payments, t.refunds

SOLD = TicketStatus.VALID.value
HELD = TicketStatus.RESERVED.value
REFUNDED = TicketStatus.REFUNDED.value
CANCELLED = TicketStatus.CANCELLED.value
MONEY_IN = (SOLD, REFUNDED)  # tickets whose money came in
COUNTED_REFUNDS = tuple(status.value for status in RefundStatus if status.counts)


def payment_method(order_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """THE payment method of an order: how the counter took it (contant, pin, gratis,
    overboeking), else the provider of its paid payment (None for a free web order)."""
    own = pay.alias("method_payments")  # never correlated with payments the query joins
    method = t.orders.alias("method_orders")
    provider = (
        select(func.max(own.c.provider))
        .where(own.c.order_id == order_id, own.c.status == PaymentStatus.PAID.value)
        .scalar_subquery()
    )
    recorded = select(method.c.payment_method).where(method.c.id == order_id).scalar_subquery()
    return case((recorded == PaymentMethod.MOLLIE.value, provider), else_=recorded)


# THE moment a ticket was admitted at the door (NULL while it is not in).
ADMITTED_AT: ColumnElement[Any] = t.tickets.c.admitted_at
CHECK_IN_RECORDED = True


def _shared(upto: ColumnElement[Any], weight: Any, amount: Any, whole: Any) -> Any:
    """This row's part of `amount` by cumulative rounding down over `whole`."""
    return case(
        (whole == 0, 0),
        else_=(upto * amount) // whole - ((upto - weight) * amount) // whole,
    )


_TICKET_COLUMNS = (
    tk.c.id,
    tk.c.order_id,
    tk.c.position,
    tk.c.performance_id,
    tk.c.category_name,
    tk.c.status,
    tk.c.price_cents,
    tk.c.admitted_at,
)
_ORDER_COLUMNS = (o.c.coupon_code, o.c.created_at, o.c.status.label("order_status"))


def paid_tickets(*order_conditions: Any) -> Subquery:
    """Every ticket of the orders meeting `order_conditions`, with what it paid (`paid`).

    Filter tickets (performance, show, status) on the result, never inside: the share of the
    discount needs all the tickets of an order. Only orders with a discount need the window
    (and its sort); a ticket of any other order paid its price.
    """
    upto = func.sum(tk.c.price_cents).over(partition_by=tk.c.order_id, order_by=tk.c.position)
    discounted = (
        select(
            *_TICKET_COLUMNS,
            *_ORDER_COLUMNS,
            cast(upto, BigInteger).label("upto"),
            o.c.subtotal_cents,
            (o.c.subtotal_cents - o.c.discount_cents).label("total"),
        )
        .join(o, o.c.id == tk.c.order_id)
        .where(o.c.discount_cents > 0, *order_conditions)
        .subquery("ticket_rows")
    )
    paid = _shared(
        discounted.c.upto,
        discounted.c.price_cents,
        discounted.c.total,
        discounted.c.subtotal_cents,
    )
    shared = select(
        *(c for c in discounted.c if c.name not in ("upto", "subtotal_cents", "total")),
        cast(paid, BigInteger).label("paid"),
    )
    whole = (
        select(*_TICKET_COLUMNS, *_ORDER_COLUMNS, cast(tk.c.price_cents, BigInteger).label("paid"))
        .join(o, o.c.id == tk.c.order_id)
        .where(o.c.discount_cents == 0, *order_conditions)
    )
    return union_all(whole, shared).subquery("paid_tickets")


def refund_parts(*refund_conditions: Any) -> Subquery:
    """Each counted refund meeting `refund_conditions` split over its order's performances
    (columns: refund id, order_id, performance_id, created_at, part)."""
    lines = paid_tickets(o.c.id.in_(select(ref.c.order_id).where(*refund_conditions)))
    per_performance = (
        select(
            lines.c.order_id,
            lines.c.performance_id,
            cast(func.sum(lines.c.paid), BigInteger).label("weight"),
        )
        .where(lines.c.status.in_(MONEY_IN))
        .group_by(lines.c.order_id, lines.c.performance_id)
        .subquery("order_performances")
    )
    window = {"partition_by": ref.c.id}
    inner = (
        select(
            ref.c.id,
            ref.c.order_id,
            ref.c.created_at,
            ref.c.amount_cents,
            ref.c.status,
            ref.c.provider_refund_id,
            per_performance.c.performance_id,
            per_performance.c.weight,
            cast(
                func.sum(per_performance.c.weight).over(
                    **window, order_by=per_performance.c.performance_id
                ),
                BigInteger,
            ).label("upto"),
            cast(func.sum(per_performance.c.weight).over(**window), BigInteger).label("whole"),
        )
        .join(per_performance, per_performance.c.order_id == ref.c.order_id)
        .where(ref.c.status.in_(COUNTED_REFUNDS), *refund_conditions)
        .subquery("refund_rows")
    )
    part = _shared(inner.c.upto, inner.c.weight, inner.c.amount_cents, inner.c.whole)
    return select(
        inner.c.id,
        inner.c.order_id,
        inner.c.created_at,
        inner.c.status,
        inner.c.provider_refund_id,
        inner.c.performance_id,
        part.label("part"),
    ).subquery("refund_parts")


# Sorts of a report (the shares' window, the groupings) stay in memory up to this much per
# sort on Postgres, instead of spilling to disk at the default 4 MB.
REPORT_WORK_MEM = "64MB"


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for one report: one transaction (a consistent snapshot of every query
    in it), read-only, rolled back at the end."""
    with engine.connect() as db:
        if db.dialect.name == "postgresql":
            db.exec_driver_sql("SET TRANSACTION READ ONLY")
            db.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        yield db


def within(period: Period, moment: ColumnElement[Any]) -> tuple[ColumnElement[bool], ...]:
    """`moment` in the period: from its start, up to but not including its end."""
    return moment >= period.start, moment < period.end


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def total(column: Any) -> ColumnElement[int]:
    """The sum of an integer column as a whole number (0 over no rows) on both databases."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)
