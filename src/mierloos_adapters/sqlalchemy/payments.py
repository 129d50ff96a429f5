"""Payments with their status events, and refunds."""

from __future__ import annotations

import uuid

from sqlalchemy import func, insert, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, cents, enum_value, locked
from mierloos_core.model.payments import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)

PAYMENT_ROWS = RowMap(Payment, status=enum_value(PaymentStatus), amount=cents("amount_cents"))
EVENT_ROWS = RowMap(PaymentEvent, status=enum_value(PaymentStatus))
REFUND_ROWS = RowMap(Refund, status=enum_value(RefundStatus), amount=cents("amount_cents"))


class SqlPayments(SqlRepository):
    def add(self, payment: Payment) -> None:
        self.db.execute(insert(t.payments).values(PAYMENT_ROWS.values(payment)))

    def latest_for_order(self, order_id: uuid.UUID) -> Payment | None:
        return self._first(
            PAYMENT_ROWS,
            select(t.payments)
            .where(t.payments.c.order_id == order_id)
            .order_by(t.payments.c.created_at.desc())
            .limit(1),
        )

    def paid_for_order(self, order_id: uuid.UUID) -> Payment | None:
        return self._first(
            PAYMENT_ROWS,
            select(t.payments)
            .where(
                t.payments.c.order_id == order_id,
                t.payments.c.status == PaymentStatus.PAID.value,
            )
            .order_by(t.payments.c.created_at.desc())
            .limit(1),
        )

    def get_by_provider_id(
        self, provider_payment_id: str, *, for_update: bool = False
    ) -> Payment | None:
        query = select(t.payments).where(t.payments.c.provider_payment_id == provider_payment_id)
        return self._first(PAYMENT_ROWS, locked(query, for_update))

    def update(self, payment: Payment) -> None:
        values = PAYMENT_ROWS.values(payment, without=["id"])
        self.db.execute(update(t.payments).where(t.payments.c.id == payment.id).values(values))

    def add_event(self, event: PaymentEvent) -> None:
        self.db.execute(insert(t.payment_events).values(EVENT_ROWS.values(event)))

    def events(self, payment_id: uuid.UUID) -> list[PaymentEvent]:
        return self._all(
            EVENT_ROWS,
            select(t.payment_events)
            .where(t.payment_events.c.payment_id == payment_id)
            .order_by(t.payment_events.c.at),
        )


class SqlRefunds(SqlRepository):
    def add(self, refund: Refund) -> None:
        self.db.execute(insert(t.refunds).values(REFUND_ROWS.values(refund)))

    def get(self, refund_id: uuid.UUID) -> Refund | None:
        return self._first(REFUND_ROWS, select(t.refunds).where(t.refunds.c.id == refund_id))

    def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        return self._all(
            REFUND_ROWS,
            select(t.refunds)
            .where(t.refunds.c.order_id == order_id)
            .order_by(t.refunds.c.created_at, t.refunds.c.id),
        )

    def update(self, refund: Refund) -> None:
        values = REFUND_ROWS.values(refund, without=["id"])
        self.db.execute(update(t.refunds).where(t.refunds.c.id == refund.id).values(values))

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
