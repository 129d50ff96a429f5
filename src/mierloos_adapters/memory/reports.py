"""The Reports port over a `MemoryStore`: the same figures as the SQL adapter, in Python.

Small data only (unit tests, embedders without a database); the definitions are those of
`mierloos_core.ports.reports`, the arithmetic `services.reports.allocate`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from mierloos_adapters.memory.seating import MemorySeating
from mierloos_adapters.memory.store import MemoryStore
from mierloos_core.model.admissions import Admission
from mierloos_core.model.catalog import Show
from mierloos_core.model.orders import Order, PaymentMethod, Ticket, TicketStatus
from mierloos_core.model.payments import PaymentStatus, Refund
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
from mierloos_core.services.reports import allocate

MONEY_IN = (TicketStatus.VALID, TicketStatus.REFUNDED)


def paid(order: Order) -> list[tuple[Ticket, int]]:
    """Each ticket of the order with what it paid."""
    parts = allocate(
        order.total.cents, [t.price.cents for t in order.tickets], order.subtotal.cents
    )
    return list(zip(order.tickets, parts, strict=True))


def _in(period: Period | None, moment: Any) -> bool:
    return period is None or period.start <= moment < period.end


class MemoryReports:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _method(self, order_id: uuid.UUID) -> str | None:
        recorded = self._store.orders[order_id].payment_method
        if recorded is not PaymentMethod.MOLLIE:
            return recorded.value
        found = [
            p.provider
            for p in self._store.payments.values()
            if p.order_id == order_id and p.status is PaymentStatus.PAID
        ]
        return max(found) if found else None

    def _refund_parts(self, refund: Refund) -> list[tuple[uuid.UUID, int]]:
        """(performance id, part) of a counted refund."""
        weights: dict[uuid.UUID, int] = defaultdict(int)
        for ticket, amount in paid(self._store.orders[refund.order_id]):
            if ticket.status in MONEY_IN:
                weights[ticket.performance_id] += amount
        ids = sorted(weights)
        return list(zip(ids, allocate(refund.amount.cents, [weights[i] for i in ids]), strict=True))

    def _refunds(self, keep: Callable[[Refund], bool]) -> list[tuple[Refund, uuid.UUID, int]]:
        return [
            (refund, performance_id, part)
            for refund in self._store.refunds.values()
            if refund.status.counts and keep(refund)
            for performance_id, part in self._refund_parts(refund)
        ]

    def performance(self, performance_id: uuid.UUID) -> PerformanceReport | None:
        with self._store.lock:
            performance = self._store.performances.get(performance_id)
            if performance is None:
                return None
            mine = [
                (order, ticket, amount)
                for order in self._store.orders.values()
                for ticket, amount in paid(order)
                if ticket.performance_id == performance_id
            ]
            money = [(o, t, a) for o, t, a in mine if t.status in MONEY_IN]
            refunds = self._refunds(lambda _r: True)
            return PerformanceReport(
                performance_id=performance_id,
                show_id=performance.show_id,
                show_title=self._store.shows[performance.show_id].title,
                starts_at=performance.starts_at,
                status=performance.status,
                capacity=performance.capacity,
                free=performance.available_seats,
                sold=sum(t.status is TicketStatus.VALID for _o, t, _a in mine),
                held=sum(t.status is TicketStatus.RESERVED for _o, t, _a in mine),
                refunded=sum(t.status is TicketStatus.REFUNDED for _o, t, _a in mine),
                cancelled=sum(t.status is TicketStatus.CANCELLED for _o, t, _a in mine),
                admitted=sum(t.id in self._store.admissions for _o, t, _a in mine),
                revenue_cents=sum(a for _o, _t, a in money),
                refunds_cents=sum(part for _r, i, part in refunds if i == performance_id),
                by_category=self._by_category(money),
                by_method=self._by_method(money),
                by_coupon=_by_coupon(money),
            )

    @staticmethod
    def _by_category(money: list[tuple[Order, Ticket, int]]) -> tuple[CategoryFigures, ...]:
        found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for _order, ticket, amount in money:
            row = found[ticket.category_name]
            row[0 if ticket.status is TicketStatus.VALID else 1] += 1
            row[2] += amount
        return tuple(
            CategoryFigures(name=name, sold=r[0], refunded=r[1], revenue_cents=r[2])
            for name, r in sorted(found.items())
        )

    def _by_method(self, money: list[tuple[Order, Ticket, int]]) -> tuple[MethodFigures, ...]:
        orders: dict[str | None, set[uuid.UUID]] = defaultdict(set)
        revenue: dict[str | None, int] = defaultdict(int)
        for order, _ticket, amount in money:
            method = self._method(order.id)
            orders[method].add(order.id)
            revenue[method] += amount
        return tuple(
            MethodFigures(method=m, orders=len(orders[m]), revenue_cents=revenue[m])
            for m in sorted(orders, key=lambda m: (m is None, m or ""))
        )

    def period(self, period: Period) -> PeriodReport:
        with self._store.lock:
            placed = [o for o in self._store.orders.values() if _in(period, o.created_at)]
            sold = [(o, t, a) for o in placed for t, a in paid(o) if t.status in MONEY_IN]
            refunds = self._refunds(lambda r: _in(period, r.created_at))
            performances = self._store.performances
            show_of = {i: p.show_id for i, p in performances.items()}
            rows = {
                "performance": _sales_rows(sold, refunds, lambda i: i, self._title),
                "show": _sales_rows(sold, refunds, show_of.__getitem__, self._title),
            }
            occupancy = tuple(
                sorted(
                    (
                        OccupancyRow(
                            performance_id=p.id,
                            title=self._store.shows[p.show_id].title,
                            starts_at=p.starts_at,
                            status=p.status,
                            capacity=p.capacity,
                            sold=self._sold(p.id),
                        )
                        for p in performances.values()
                        if _in(period, p.starts_at)
                    ),
                    key=lambda r: (r.starts_at, r.title),
                )
            )
        return PeriodReport(
            period=period,
            totals=PeriodTotals(
                orders=len(placed),
                paid_orders=sum(o.paid_at is not None for o in placed),
                tickets=len(sold),
                revenue_cents=sum(a for _o, _t, a in sold),
                refunds_cents=sum(part for _r, _i, part in refunds),
            ),
            shows=tuple(sorted(rows["show"], key=lambda r: (-r.revenue_cents, r.title, str(r.id)))),
            performances=tuple(
                sorted(rows["performance"], key=lambda r: (r.starts_at, r.title, str(r.id)))
            ),
            occupancy=occupancy,
        )

    def _sold(self, performance_id: uuid.UUID) -> int:
        return sum(
            t.performance_id == performance_id and t.status is TicketStatus.VALID
            for o in self._store.orders.values()
            for t in o.tickets
        )

    def _title(self, performance_id: uuid.UUID) -> tuple[str, Any]:
        performance = self._store.performances[performance_id]
        return self._store.shows[performance.show_id].title, performance.starts_at

    def daily_sales(self, performance_ids: Sequence[uuid.UUID]) -> list[DailySales]:
        found = []
        with self._store.lock:
            for performance_id in performance_ids:
                performance = self._store.performances.get(performance_id)
                if performance is None:
                    continue
                per_day: dict[int, int] = defaultdict(int)
                for order in self._store.orders.values():
                    for ticket in order.tickets:
                        if ticket.performance_id == performance_id and ticket.status in MONEY_IN:
                            ahead = performance.starts_at - order.created_at
                            per_day[max(0, int(ahead.total_seconds() // 86400))] += 1
                found.append(
                    DailySales(
                        performance_id=performance_id,
                        label=self._store.shows[performance.show_id].title,
                        starts_at=performance.starts_at,
                        per_day=tuple(sorted(per_day.items(), reverse=True)),
                    )
                )
        return found

    def revenue_per_bucket(self, buckets: Sequence[Period]) -> list[int]:
        with self._store.lock:
            return [
                sum(
                    amount
                    for order in self._store.orders.values()
                    if _in(bucket, order.created_at)
                    for ticket, amount in paid(order)
                    if ticket.status in MONEY_IN
                )
                for bucket in buckets
            ]

    def _show_of(self, performance_id: uuid.UUID) -> uuid.UUID:
        return self._store.performances[performance_id].show_id

    def _orders(self, only: LineFilter) -> list[Order]:
        with self._store.lock:
            return [
                o
                for o in self._store.orders.values()
                if _in(only.period, o.created_at) and only.status in (None, o.status)
            ]

    def _wanted(self, only: LineFilter, performance_id: uuid.UUID) -> bool:
        return only.performance_id in (None, performance_id) and only.show_id in (
            None,
            self._show_of(performance_id),
        )

    def ticket_lines(self, only: LineFilter) -> Iterator[TicketLine]:
        lines = []
        for order in self._orders(only):
            for position, (ticket, amount) in enumerate(paid(order)):
                if not self._wanted(only, ticket.performance_id):
                    continue
                performance = self._store.performances[ticket.performance_id]
                show = self._store.shows[performance.show_id]
                key = (performance.starts_at, performance.id, order.number, position)
                lines.append(
                    (
                        key,
                        _ticket_line(
                            order,
                            ticket,
                            amount,
                            show,
                            performance.starts_at,
                            self._store.admissions.get(ticket.id),
                            self._seat_name(order, ticket),
                        ),
                    )
                )
        return iter([line for _key, line in sorted(lines, key=lambda item: item[0])])

    def _seat_name(self, order: Order, ticket: Ticket) -> str:
        seat = MemorySeating(self._store).seats_of_order(order.id).get(ticket.id)
        return seat.ref.describe() if seat is not None else ""

    def order_lines(self, only: LineFilter) -> Iterator[OrderLine]:
        found = [
            OrderLine(
                **_of_order(o),
                paid_at=o.paid_at,
                status=o.status,
                tickets=len(o.tickets),
                subtotal_cents=o.subtotal.cents,
                discount_cents=o.discount.cents,
                total_cents=o.total.cents,
                coupon_code=o.coupon_code,
                payment_method=self._method(o.id),
            )
            for o in sorted(self._orders(only), key=lambda o: (o.created_at, o.number))
            if (only.performance_id is None and only.show_id is None)
            or any(self._wanted(only, t.performance_id) for t in o.tickets)
        ]
        return iter(found)

    def money_lines(self, only: LineFilter) -> Iterator[MoneyLine]:
        payments: list[tuple[Any, MoneyLine]] = []
        for order in self._orders(only):
            if order.paid_at is None:
                continue
            gross: dict[uuid.UUID, int] = defaultdict(int)
            for ticket, amount in paid(order):
                if ticket.status in MONEY_IN and self._wanted(only, ticket.performance_id):
                    gross[self._show_of(ticket.performance_id)] += amount
            for payment in self._store.payments.values():
                if payment.order_id != order.id or payment.status is not PaymentStatus.PAID:
                    continue
                for show_id, cents in gross.items():
                    line = self._money_line("betaling", order, payment, show_id, cents)
                    payments.append(((line.at, line.order_number, line.show_title), line))
        refunds: list[tuple[Any, MoneyLine]] = []
        per_show: dict[tuple[uuid.UUID, uuid.UUID], int] = defaultdict(int)
        wanted = self._refunds(
            lambda r: (
                _in(only.period, r.created_at)
                and only.status in (None, self._store.orders[r.order_id].status)
            )
        )
        for refund, performance_id, part in wanted:
            if self._wanted(only, performance_id):
                per_show[(refund.id, self._show_of(performance_id))] += part
        for (refund_id, show_id), cents in per_show.items():
            refund = self._store.refunds[refund_id]
            order = self._store.orders[refund.order_id]
            line = self._money_line("terugbetaling", order, refund, show_id, -cents)
            refunds.append(((line.at, line.order_number, line.show_title), line))
        ordered = sorted(payments, key=lambda i: i[0]) + sorted(refunds, key=lambda i: i[0])
        return iter([line for _key, line in ordered])

    def _money_line(
        self, kind: str, order: Order, source: Any, show_id: uuid.UUID, cents: int
    ) -> MoneyLine:
        show = self._store.shows[show_id]
        refund = kind == "terugbetaling"
        reference = source.provider_refund_id if refund else source.provider_payment_id
        return MoneyLine(
            kind=kind,
            at=source.created_at if refund else order.paid_at,
            order_number=order.number,
            reference=reference or str(source.id),
            method=self._method(order.id),
            status=source.status.value,
            show_title=show.title,
            gross_cents=cents,
            vat_rate=show.vat_rate,
        )


def _of_order(order: Order) -> dict[str, Any]:
    """What a ticket line and an order line both show of the order."""
    return {
        "order_number": order.number,
        "ordered_at": order.created_at,
        "name": order.name,
        "email": order.email,
    }


def _ticket_line(
    order: Order,
    ticket: Ticket,
    amount: int,
    show: Show,
    starts: datetime,
    admitted: Admission | None,
    seat: str,
) -> TicketLine:
    return TicketLine(
        **_of_order(order),
        ticket_id=ticket.id,
        order_status=order.status,
        status=ticket.status,
        show_title=show.title,
        starts_at=starts,
        category=ticket.category_name,
        price_cents=ticket.price.cents,
        paid_cents=amount,
        vat_rate=show.vat_rate,
        admitted_at=admitted.at if admitted else None,
        seat=seat,
    )


def _by_coupon(money: list[tuple[Order, Ticket, int]]) -> tuple[CouponFigures, ...]:
    found: dict[str | None, list[Any]] = defaultdict(lambda: [set(), 0, 0, 0])
    for order, ticket, amount in money:
        row = found[order.coupon_code]
        row[0].add(order.id)
        row[1] += 1
        row[2] += ticket.price.cents - amount
        row[3] += amount
    return tuple(
        CouponFigures(
            code=c, orders=len(r[0]), tickets=r[1], discount_cents=r[2], revenue_cents=r[3]
        )
        for c, r in sorted(found.items(), key=lambda item: (item[0] is None, item[0] or ""))
    )


def _sales_rows(
    sold: list[tuple[Order, Ticket, int]],
    refunds: list[tuple[Refund, uuid.UUID, int]],
    key_of: Callable[[uuid.UUID], uuid.UUID],
    title_of: Callable[[uuid.UUID], tuple[str, Any]],
) -> list[SalesRow]:
    orders: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    tickets: dict[uuid.UUID, int] = defaultdict(int)
    revenue: dict[uuid.UUID, int] = defaultdict(int)
    back: dict[uuid.UUID, int] = defaultdict(int)
    heads: dict[uuid.UUID, tuple[str, Any]] = {}
    refunded: dict[uuid.UUID, tuple[str, Any]] = {}  # only used for those without sales
    for order, ticket, amount in sold:
        key = key_of(ticket.performance_id)
        orders[key].add(order.id)
        tickets[key] += 1
        revenue[key] += amount
        heads[key] = _earliest(heads.get(key), title_of(ticket.performance_id))
    for _refund, performance_id, part in refunds:
        key = key_of(performance_id)
        back[key] += part
        refunded[key] = _earliest(refunded.get(key), title_of(performance_id))
    heads = refunded | heads
    return [
        SalesRow(
            id=key,
            title=title,
            starts_at=starts,
            orders=len(orders[key]),
            tickets=tickets[key],
            revenue_cents=revenue[key],
            refunds_cents=back[key],
        )
        for key, (title, starts) in heads.items()
    ]


def _earliest(known: tuple[str, Any] | None, found: tuple[str, Any]) -> tuple[str, Any]:
    return found if known is None or found[1] < known[1] else known
