"""Payments with their status events, and refunds."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, Stored, cents, enum_value
from mierloos_core.model.payments import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)

_AMOUNT = cents("amount_cents")
PAYMENT_ROWS = RowMap(Payment, t.payments, status=enum_value(PaymentStatus), amount=_AMOUNT)
EVENT_ROWS = RowMap(PaymentEvent, t.payment_events, status=enum_value(PaymentStatus))
REFUND_ROWS = RowMap(
    Refund,
    t.refunds,
    status=enum_value(RefundStatus),
    amount=_AMOUNT,
    ticket_ids=Stored(
        load=lambda ids: tuple(uuid.UUID(i) for i in ids or ()),
        dump=lambda ids: [str(i) for i in ids] or None,
    ),
)


class SqlPayments(SqlRepository):
    def add(self, payment: Payment) -> None:
        self._insert(PAYMENT_ROWS, payment)

    def latest_for_order(self, order_id: uuid.UUID) -> Payment | None:
        return self._newest(PAYMENT_ROWS, t.payments.c.order_id == order_id)

    def paid_for_order(self, order_id: uuid.UUID) -> Payment | None:
        return self._newest(
            PAYMENT_ROWS,
            t.payments.c.order_id == order_id,
            t.payments.c.status == PaymentStatus.PAID.value,
        )

    def get_by_provider_id(
        self, provider_payment_id: str, *, for_update: bool = False
    ) -> Payment | None:
        provider_id = t.payments.c.provider_payment_id
        return self._find(PAYMENT_ROWS, provider_id == provider_payment_id, for_update=for_update)

    def update(self, payment: Payment) -> None:
        self._update(PAYMENT_ROWS, payment)

    def add_event(self, event: PaymentEvent) -> None:
        self._insert(EVENT_ROWS, event)

    def events(self, payment_id: uuid.UUID) -> list[PaymentEvent]:
        events = t.payment_events.c
        return self._find_all(EVENT_ROWS, events.payment_id == payment_id, order_by=[events.at])


class SqlRefunds(SqlRepository):
    def add(self, refund: Refund) -> None:
        self._insert(REFUND_ROWS, refund)

    def get(self, refund_id: uuid.UUID) -> Refund | None:
        return self._find(REFUND_ROWS, t.refunds.c.id == refund_id)

    def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        refunds = t.refunds.c
        return self._find_all(
            REFUND_ROWS, refunds.order_id == order_id, order_by=[refunds.created_at, refunds.id]
        )

    def update(self, refund: Refund) -> None:
        self._update(REFUND_ROWS, refund)

    def orders_with_open_refunds(self, limit: int) -> list[uuid.UUID]:
        final = [status.value for status in RefundStatus if status.is_final]
        rows = self.db.execute(
            select(t.refunds.c.order_id)
            .where(t.refunds.c.status.not_in(final))
            .group_by(t.refunds.c.order_id)
            .order_by(func.min(t.refunds.c.created_at))
            .limit(limit)
        )
        return [row.order_id for row in rows]
