"""Export lines over SQL, streamed: a server-side cursor (`stream_results`, `yield_per`) keeps
memory bounded however many tickets there are. The connection stays open while the caller
iterates and closes when the iteration ends (or the generator is closed)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Select, Text, case, cast, func, literal, select

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.report_queries import (
    MONEY_IN,
    o,
    p,
    paid_tickets,
    pay,
    payment_method,
    reading,
    ref,
    refund_parts,
    s,
    tk,
    total,
    within,
)
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.ports.reports import LineFilter, MoneyLine, OrderLine, TicketLine

BATCH = 2000


def _stream(engine: Engine, query: Select[Any]) -> Iterator[Any]:
    with reading(engine) as db:
        result = db.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        yield from result


def _order_conditions(only: LineFilter) -> list[Any]:
    found: list[Any] = []
    if only.period is not None:
        found += within(only.period, o.c.created_at)
    if only.status is not None:
        found.append(o.c.status == only.status.value)
    return found


def _ticket_conditions(only: LineFilter, performance_id: Any, show_id: Any) -> list[Any]:
    found: list[Any] = []
    if only.performance_id is not None:
        found.append(performance_id == only.performance_id)
    if only.show_id is not None:
        found.append(show_id == only.show_id)
    return found


_held, _seat = t.performance_seats, t.seats
# Section, row and seat, as `SeatRef.describe` words them in Dutch; empty for free seating.
_SEAT_NAME = case(
    (_seat.c.id.is_(None), literal("", Text)),
    else_=_seat.c.section.concat(", rij ")
    .concat(_seat.c.row_label)
    .concat(", stoel ")
    .concat(cast(_seat.c.number, Text)),
).label("seat")


def ticket_query(only: LineFilter) -> Select[Any]:
    """The tickets of an export with their order, show, performance and (reserved seating)
    seat, in the door list's order (by start, performance, order number, position)."""
    lines = paid_tickets(*_order_conditions(only))
    return (
        select(
            lines,
            o.c.number,
            o.c.name,
            o.c.email,
            s.c.title,
            s.c.vat_rate,
            p.c.starts_at,
            _SEAT_NAME,
        )
        .join(o, o.c.id == lines.c.order_id)
        .join(p, p.c.id == lines.c.performance_id)
        .join(s, s.c.id == p.c.show_id)
        .outerjoin(_held, _held.c.ticket_id == lines.c.id)
        .outerjoin(_seat, _seat.c.id == _held.c.seat_id)
        .where(*_ticket_conditions(only, lines.c.performance_id, p.c.show_id))
        .order_by(p.c.starts_at, p.c.id, o.c.number, lines.c.position)
    )


def ticket_lines(engine: Engine, only: LineFilter) -> Iterator[TicketLine]:
    for row in _stream(engine, ticket_query(only)):
        yield TicketLine(
            ticket_id=row.id,
            order_number=row.number,
            ordered_at=row.created_at,
            order_status=OrderStatus(row.order_status),
            status=TicketStatus(row.status),
            name=row.name,
            email=row.email,
            show_title=row.title,
            starts_at=row.starts_at,
            category=row.category_name,
            price_cents=row.price_cents,
            paid_cents=int(row.paid),
            vat_rate=Decimal(row.vat_rate),
            admitted_at=row.admitted_at,
            seat=row.seat,
        )


def _orders_with_tickets(only: LineFilter) -> list[Any]:
    conditions = _ticket_conditions(only, tk.c.performance_id, p.c.show_id)
    if not conditions:
        return []
    having = select(tk.c.order_id).join(p, p.c.id == tk.c.performance_id).where(*conditions)
    return [o.c.id.in_(having)]


def order_lines(engine: Engine, only: LineFilter) -> Iterator[OrderLine]:
    tickets = select(func.count()).where(tk.c.order_id == o.c.id).scalar_subquery()
    query = (
        select(o, tickets.label("tickets"), payment_method(o.c.id).label("method"))
        .where(*_order_conditions(only), *_orders_with_tickets(only))
        .order_by(o.c.created_at, o.c.number)
    )
    for row in _stream(engine, query):
        yield OrderLine(
            order_number=row.number,
            ordered_at=row.created_at,
            paid_at=row.paid_at,
            status=OrderStatus(row.status),
            name=row.name,
            email=row.email,
            tickets=row.tickets,
            subtotal_cents=row.subtotal_cents,
            discount_cents=row.discount_cents,
            total_cents=row.subtotal_cents - row.discount_cents,
            coupon_code=row.coupon_code,
            payment_method=row.method,
        )


def money_lines(engine: Engine, only: LineFilter) -> Iterator[MoneyLine]:
    """Paid payments (orders placed in the period), then counted refunds (made in it), each
    split per show."""
    lines = paid_tickets(*_order_conditions(only), o.c.paid_at.is_not(None))
    payments = _money_query(
        only,
        lines.join(o, o.c.id == lines.c.order_id).join(
            pay, (pay.c.order_id == o.c.id) & (pay.c.status == PaymentStatus.PAID.value)
        ),
        lines.c.performance_id,
        (o.c.paid_at, pay.c.provider_payment_id, pay.c.id, pay.c.status, lines.c.paid),
    ).where(lines.c.status.in_(MONEY_IN))
    for row in _stream(engine, payments):
        yield _money_line("betaling", row, 1)
    made = [] if only.period is None else [*within(only.period, ref.c.created_at)]
    if only.status is not None:
        made.append(ref.c.order_id.in_(select(o.c.id).where(o.c.status == only.status.value)))
    parts = refund_parts(*made)
    refunds = _money_query(
        only,
        parts.join(o, o.c.id == parts.c.order_id),
        parts.c.performance_id,
        (parts.c.created_at, parts.c.provider_refund_id, parts.c.id, parts.c.status, parts.c.part),
    )
    for row in _stream(engine, refunds):
        yield _money_line("terugbetaling", row, -1)


def _money_query(only: LineFilter, source: Any, performance_id: Any, own: Any) -> Select[Any]:
    """Payments or refunds (`source`, joined with their orders) summed per show: `own` are
    their time, provider reference, id, status and the amount to sum."""
    at, reference, own_id, status, amount = own
    return (
        select(
            at.label("at"),
            o.c.number,
            reference.label("reference"),
            own_id.label("own_id"),
            payment_method(o.c.id).label("method"),
            status.label("status"),
            s.c.title,
            s.c.vat_rate,
            total(amount).label("gross"),
        )
        .select_from(source)
        .join(p, p.c.id == performance_id)
        .join(s, s.c.id == p.c.show_id)
        .where(*_ticket_conditions(only, performance_id, p.c.show_id))
        .group_by(at, o.c.number, o.c.id, own_id, reference, status, s.c.id, s.c.title)
        .group_by(s.c.vat_rate)
        .order_by(at, o.c.number, s.c.title)
    )


def _money_line(kind: str, row: Any, sign: int) -> MoneyLine:
    return MoneyLine(
        kind=kind,
        at=row.at,
        order_number=row.number,
        reference=row.reference or str(row.own_id),
        method=row.method,
        status=row.status,
        show_title=row.title,
        gross_cents=sign * int(row.gross),
        vat_rate=Decimal(row.vat_rate),
    )
