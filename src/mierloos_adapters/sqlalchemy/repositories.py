"""Repositories over SQLAlchemy Core. Rows become attrs objects here and nowhere else."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, false, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as _pg_insert
from sqlalchemy.dialects.sqlite import insert as _sqlite_insert
from sqlalchemy.exc import IntegrityError

from mierloos_adapters.jobqueue.signals import CHANNEL, announce, payload
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core import errors
from mierloos_core.model.accounts import PasswordResetToken, Role, User, normalize_email
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.coupons import Coupon, CouponUsage, DiscountKind, normalize_code
from mierloos_core.model.files import Image, ImageStatus
from mierloos_core.model.jobs import Job, JobStatus
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketsPdf, TicketStatus
from mierloos_core.model.payments import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from mierloos_core.ports import Clock, OrderSearch, OrderSearchPage, OrderSummary


class _Repository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection


# --- catalog ------------------------------------------------------------------------------------


def _show(row: Row[Any]) -> Show:
    return Show(
        id=row.id,
        title=row.title,
        slug=row.slug,
        description=row.description,
        genre=row.genre,
        duration_minutes=row.duration_minutes,
        age_advice=row.age_advice,
        image_id=row.image_id,
        created_at=row.created_at,
    )


def _show_values(show: Show) -> dict[str, Any]:
    return {
        "id": show.id,
        "title": show.title,
        "slug": show.slug,
        "description": show.description,
        "genre": show.genre,
        "duration_minutes": show.duration_minutes,
        "age_advice": show.age_advice,
        "image_id": show.image_id,
        "created_at": show.created_at,
    }


_SHOW_BY_ID = select(t.shows).where(t.shows.c.id == bindparam("show_id"))


class SqlShows(_Repository):
    def add(self, show: Show) -> None:
        self.db.execute(insert(t.shows).values(_show_values(show)))

    def get(self, show_id: uuid.UUID) -> Show | None:
        row = self.db.execute(_SHOW_BY_ID, {"show_id": show_id}).first()
        return _show(row) if row else None

    def get_by_slug(self, slug: str) -> Show | None:
        row = self.db.execute(select(t.shows).where(t.shows.c.slug == slug)).first()
        return _show(row) if row else None

    def list(self) -> list[Show]:
        return [_show(r) for r in self.db.execute(select(t.shows).order_by(t.shows.c.title))]

    def update(self, show: Show) -> None:
        values = _show_values(show)
        del values["id"]
        self.db.execute(update(t.shows).where(t.shows.c.id == show.id).values(values))


def _performance(row: Row[Any]) -> Performance:
    return Performance(
        id=row.id,
        show_id=row.show_id,
        starts_at=row.starts_at,
        price=Money(row.price_cents),
        capacity=row.capacity,
        available_seats=row.available_seats,
        status=PerformanceStatus(row.status),
        hall=row.hall,
    )


# Statements on the checkout path are built once: building them per call costs more Python
# time than the round trip to the database.
_PERFORMANCES_BY_IDS = select(t.performances).where(
    t.performances.c.id.in_(bindparam("ids", expanding=True))
)
_INSERT_ORDER = insert(t.orders)
_INSERT_TICKETS = insert(t.tickets)


class SqlPerformances(_Repository):
    def add(self, performance: Performance) -> None:
        self.db.execute(
            insert(t.performances).values(
                id=performance.id,
                show_id=performance.show_id,
                starts_at=performance.starts_at,
                price_cents=performance.price.cents,
                capacity=performance.capacity,
                available_seats=performance.available_seats,
                status=performance.status.value,
                hall=performance.hall,
            )
        )

    def get(self, performance_id: uuid.UUID, *, for_update: bool = False) -> Performance | None:
        query = select(t.performances).where(t.performances.c.id == performance_id)
        row = self.db.execute(query.with_for_update() if for_update else query).first()
        return _performance(row) if row else None

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Performance]:
        if not ids:
            return {}
        rows = self.db.execute(_PERFORMANCES_BY_IDS, {"ids": list(ids)})
        return {row.id: _performance(row) for row in rows}

    def for_show(self, show_id: uuid.UUID) -> list[Performance]:
        rows = self.db.execute(
            select(t.performances)
            .where(t.performances.c.show_id == show_id)
            .order_by(t.performances.c.starts_at)
        )
        return [_performance(r) for r in rows]

    def upcoming(self, after: datetime) -> list[Performance]:
        rows = self.db.execute(
            select(t.performances)
            .where(
                t.performances.c.status == PerformanceStatus.PUBLISHED.value,
                t.performances.c.starts_at > after,
            )
            .order_by(t.performances.c.starts_at)
        )
        return [_performance(r) for r in rows]

    def update(self, performance: Performance) -> None:
        self.db.execute(
            update(t.performances)
            .where(t.performances.c.id == performance.id)
            .values(
                starts_at=performance.starts_at,
                price_cents=performance.price.cents,
                status=performance.status.value,
                hall=performance.hall,
                # Capacity changes move the available seats by the same amount, atomically.
                available_seats=t.performances.c.available_seats
                + (performance.capacity - t.performances.c.capacity),
                capacity=performance.capacity,
            )
        )

    def change_capacity(self, performance_id: uuid.UUID, capacity: int) -> bool:
        seats = t.performances.c
        changed = self.db.execute(
            update(t.performances)
            .where(seats.id == performance_id, seats.capacity - seats.available_seats <= capacity)
            .values(
                available_seats=seats.available_seats + (capacity - seats.capacity),
                capacity=capacity,
            )
        )
        return changed.rowcount == 1


class SqlSeatInventory(_Repository):
    """One conditional UPDATE per performance, in sorted id order, row count checked."""

    _take = (
        update(t.performances)
        .where(
            t.performances.c.id == bindparam("performance_id"),
            t.performances.c.status == PerformanceStatus.PUBLISHED.value,
            t.performances.c.available_seats >= bindparam("seats"),
        )
        .values(available_seats=t.performances.c.available_seats - bindparam("seats"))
    )
    _give_back = (
        update(t.performances)
        .where(
            t.performances.c.id == bindparam("performance_id"),
            t.performances.c.available_seats + bindparam("seats") <= t.performances.c.capacity,
        )
        .values(available_seats=t.performances.c.available_seats + bindparam("seats"))
    )

    def reserve(self, seats: Mapping[uuid.UUID, int]) -> None:
        for performance_id in sorted(seats):
            wanted = seats[performance_id]
            if wanted <= 0:
                raise ValueError("seats must be positive")
            result = self.db.execute(
                self._take, {"performance_id": performance_id, "seats": wanted}
            )
            if result.rowcount != 1:
                raise self._refusal(performance_id, wanted)

    def release(self, seats: Mapping[uuid.UUID, int]) -> None:
        for performance_id in sorted(seats):
            result = self.db.execute(
                self._give_back, {"performance_id": performance_id, "seats": seats[performance_id]}
            )
            if result.rowcount != 1:
                raise ValueError(f"cannot give back {seats[performance_id]} seats")

    def _refusal(self, performance_id: uuid.UUID, wanted: int) -> errors.MierloosError:
        status = self.db.execute(
            select(t.performances.c.status).where(t.performances.c.id == performance_id)
        ).scalar()
        details = {"performance_id": str(performance_id), "requested": wanted}
        if status is None:
            return errors.UnknownPerformance(**details)
        if status != PerformanceStatus.PUBLISHED.value:
            return errors.PerformanceUnavailable(**details)
        return errors.NotEnoughSeats(**details)


# --- coupons ------------------------------------------------------------------------------------


def _coupon(row: Row[Any]) -> Coupon:
    return Coupon(
        id=row.id,
        code=row.code,
        kind=DiscountKind(row.kind),
        value=Decimal(row.value),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        max_usages=row.max_usages,
        usage_count=row.usage_count,
        minimum_order=Money(row.minimum_order_cents),
        active=row.active,
        description=row.description,
    )


def _usage(row: Row[Any]) -> CouponUsage:
    return CouponUsage(
        id=row.id,
        coupon_id=row.coupon_id,
        order_id=row.order_id,
        discount=Money(row.discount_cents),
        created_at=row.created_at,
        released_at=row.released_at,
    )


class SqlCoupons(_Repository):
    def _values(self, coupon: Coupon) -> dict[str, Any]:
        return {
            "code": coupon.code,
            "kind": coupon.kind.value,
            "value": coupon.value,
            "valid_from": coupon.valid_from,
            "valid_until": coupon.valid_until,
            "max_usages": coupon.max_usages,
            "minimum_order_cents": coupon.minimum_order.cents,
            "active": coupon.active,
            "description": coupon.description,
        }

    def add(self, coupon: Coupon) -> None:
        self.db.execute(
            insert(t.coupons).values(
                id=coupon.id, usage_count=coupon.usage_count, **self._values(coupon)
            )
        )

    def get(self, coupon_id: uuid.UUID, *, for_update: bool = False) -> Coupon | None:
        query = select(t.coupons).where(t.coupons.c.id == coupon_id)
        row = self.db.execute(query.with_for_update() if for_update else query).first()
        return _coupon(row) if row else None

    def get_by_code(self, code: str) -> Coupon | None:
        row = self.db.execute(
            select(t.coupons).where(t.coupons.c.code == normalize_code(code))
        ).first()
        return _coupon(row) if row else None

    def list(self) -> list[Coupon]:
        return [_coupon(r) for r in self.db.execute(select(t.coupons).order_by(t.coupons.c.code))]

    def update(self, coupon: Coupon) -> None:
        self.db.execute(
            update(t.coupons).where(t.coupons.c.id == coupon.id).values(self._values(coupon))
        )

    def claim_usage(self, usage: CouponUsage) -> bool:
        claimed = self.db.execute(
            update(t.coupons)
            .where(
                t.coupons.c.id == usage.coupon_id,
                or_(
                    t.coupons.c.max_usages.is_(None),
                    t.coupons.c.usage_count < t.coupons.c.max_usages,
                ),
            )
            .values(usage_count=t.coupons.c.usage_count + 1)
        )
        if claimed.rowcount != 1:
            return False
        self.db.execute(
            insert(t.coupon_usages).values(
                id=usage.id,
                coupon_id=usage.coupon_id,
                order_id=usage.order_id,
                discount_cents=usage.discount.cents,
                created_at=usage.created_at,
                released_at=usage.released_at,
            )
        )
        return True

    def release_usage(self, order_id: uuid.UUID, at: datetime) -> bool:
        coupon_id = self.db.execute(
            update(t.coupon_usages)
            .where(t.coupon_usages.c.order_id == order_id, t.coupon_usages.c.released_at.is_(None))
            .values(released_at=at)
            .returning(t.coupon_usages.c.coupon_id)
        ).scalar()
        if coupon_id is None:
            return False
        self.db.execute(
            update(t.coupons)
            .where(t.coupons.c.id == coupon_id)
            .values(usage_count=t.coupons.c.usage_count - 1)
        )
        return True

    def usage_for_order(self, order_id: uuid.UUID) -> CouponUsage | None:
        row = self.db.execute(
            select(t.coupon_usages).where(t.coupon_usages.c.order_id == order_id)
        ).first()
        return _usage(row) if row else None


# --- orders -------------------------------------------------------------------------------------


def _ticket(row: Row[Any]) -> Ticket:
    return Ticket(
        id=row.id,
        order_id=row.order_id,
        performance_id=row.performance_id,
        price=Money(row.price_cents),
        status=TicketStatus(row.status),
        secret=row.secret,
    )


class SqlOrders(_Repository):
    _ticket_status = (
        update(t.tickets)
        .where(t.tickets.c.id == bindparam("ticket_id"))
        .values(status=bindparam("new_status"))
    )

    def unpaid_tickets(
        self, performance_id: uuid.UUID, *, email: str, client_address: str | None
    ) -> tuple[int, int]:
        orders = t.orders.c
        held = and_(t.tickets.c.performance_id == performance_id, orders.status == "pending")
        by_client = orders.client_address == client_address if client_address else false()
        query = (
            select(func.count().filter(orders.email == email), func.count().filter(by_client))
            .select_from(t.tickets.join(t.orders, t.tickets.c.order_id == orders.id))
            .where(held)
        )
        row = self.db.execute(query).one()
        return int(row[0]), int(row[1])

    def add(self, order: Order) -> None:
        self.db.execute(
            _INSERT_ORDER,
            {"id": order.id, "number": order.number, "secret": order.secret, **self._state(order)},
        )
        if order.tickets:
            self.db.execute(
                _INSERT_TICKETS,
                [
                    {
                        "id": ticket.id,
                        "order_id": order.id,
                        "position": position,
                        "performance_id": ticket.performance_id,
                        "price_cents": ticket.price.cents,
                        "status": ticket.status.value,
                        "secret": ticket.secret,
                    }
                    for position, ticket in enumerate(order.tickets, start=1)
                ],
            )

    def get(self, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
        query = select(t.orders).where(t.orders.c.id == order_id)
        if for_update:
            query = query.with_for_update()
        return self._load(query)

    def get_by_secret(self, secret: str) -> Order | None:
        return self._load(select(t.orders).where(t.orders.c.secret == secret))

    def get_by_number(self, number: str) -> Order | None:
        return self._load(select(t.orders).where(t.orders.c.number == number))

    def update(self, order: Order) -> None:
        self.db.execute(
            update(t.orders).where(t.orders.c.id == order.id).values(self._state(order))
        )
        if order.tickets:
            self.db.execute(
                self._ticket_status,
                [{"ticket_id": tk.id, "new_status": tk.status.value} for tk in order.tickets],
            )

    def overdue(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = self.db.execute(
            select(t.orders.c.id)
            .where(t.orders.c.status == OrderStatus.PENDING.value, t.orders.c.expires_at <= now)
            .order_by(t.orders.c.expires_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    def seats_held(self, performance_id: uuid.UUID) -> int:
        held = [TicketStatus.RESERVED.value, TicketStatus.VALID.value]
        count = self.db.execute(
            select(func.count())
            .select_from(t.tickets)
            .where(t.tickets.c.performance_id == performance_id, t.tickets.c.status.in_(held))
        ).scalar_one()
        return int(count)

    def for_user(self, user_id: uuid.UUID, *, limit: int) -> list[Order]:
        ids = self.db.execute(
            select(t.orders.c.id)
            .where(t.orders.c.user_id == user_id)
            .order_by(t.orders.c.created_at.desc(), t.orders.c.number.desc())
            .limit(limit)
        ).scalars()
        found = [self.get(order_id) for order_id in list(ids)]
        return [order for order in found if order is not None]

    def search(self, query: OrderSearch) -> OrderSearchPage:
        if query.page < 1 or query.per_page < 1:
            raise ValueError("pages count from 1 and hold at least one order")
        orders = t.orders.c
        conditions: list[Any] = []
        if query.status is not None:
            conditions.append(orders.status == query.status.value)
        if query.needs_attention:
            conditions.append(func.coalesce(orders.needs_attention, "") != "")
        text = query.text.strip().lower()
        if text:
            # icontains with autoescape: % and _ typed by staff match only themselves.
            conditions.append(
                or_(
                    func.lower(orders.number) == text,
                    orders.email.icontains(text, autoescape=True),
                    orders.name.icontains(text, autoescape=True),
                )
            )
        total = self.db.execute(
            select(func.count()).select_from(t.orders).where(*conditions)
        ).scalar_one()
        rows = self.db.execute(
            select(
                orders.id,
                orders.number,
                orders.email,
                orders.name,
                orders.status,
                orders.subtotal_cents,
                orders.discount_cents,
                orders.created_at,
                orders.needs_attention,
            )
            .where(*conditions)
            .order_by(orders.created_at.desc(), orders.id.desc())
            .limit(query.per_page)
            .offset((query.page - 1) * query.per_page)
        )
        return OrderSearchPage(
            orders=tuple(
                OrderSummary(
                    id=row.id,
                    number=row.number,
                    email=row.email,
                    name=row.name,
                    status=OrderStatus(row.status),
                    total=Money(row.subtotal_cents - row.discount_cents),
                    created_at=row.created_at,
                    needs_attention=row.needs_attention,
                )
                for row in rows
            ),
            total=int(total),
            page=query.page,
            per_page=query.per_page,
        )

    def ids_for_performance(
        self, performance_id: uuid.UUID, statuses: Collection[OrderStatus]
    ) -> list[uuid.UUID]:
        if not statuses:
            return []
        rows = self.db.execute(
            select(t.orders.c.id)
            .where(
                t.orders.c.status.in_([status.value for status in statuses]),
                t.orders.c.id.in_(
                    select(t.tickets.c.order_id).where(t.tickets.c.performance_id == performance_id)
                ),
            )
            .order_by(t.orders.c.created_at)
        )
        return [row.id for row in rows]

    def _load(self, query: Any) -> Order | None:
        row = self.db.execute(query).first()
        if row is None:
            return None
        ticket_rows = self.db.execute(
            select(t.tickets).where(t.tickets.c.order_id == row.id).order_by(t.tickets.c.position)
        )
        return Order(
            id=row.id,
            number=row.number,
            secret=row.secret,
            email=row.email,
            name=row.name,
            status=OrderStatus(row.status),
            subtotal=Money(row.subtotal_cents),
            discount=Money(row.discount_cents),
            coupon_code=row.coupon_code,
            user_id=row.user_id,
            newsletter=row.newsletter,
            client_address=row.client_address,
            language=row.language,
            created_at=row.created_at,
            expires_at=row.expires_at,
            paid_at=row.paid_at,
            closed_at=row.closed_at,
            needs_attention=row.needs_attention,
            tickets_pdf=TicketsPdf(
                key=row.tickets_pdf_key,
                pages=row.tickets_pdf_pages,
                size=row.tickets_pdf_size,
                created_at=row.tickets_pdf_created_at,
            )
            if row.tickets_pdf_key
            else None,
            tickets=[_ticket(r) for r in ticket_rows],
        )

    @staticmethod
    def _state(order: Order) -> dict[str, Any]:
        pdf = order.tickets_pdf
        return {
            "email": order.email,
            "name": order.name,
            "status": order.status.value,
            "subtotal_cents": order.subtotal.cents,
            "discount_cents": order.discount.cents,
            "coupon_code": order.coupon_code,
            "user_id": order.user_id,
            "newsletter": order.newsletter,
            "client_address": order.client_address,
            "language": order.language,
            "created_at": order.created_at,
            "expires_at": order.expires_at,
            "paid_at": order.paid_at,
            "closed_at": order.closed_at,
            "needs_attention": order.needs_attention,
            "tickets_pdf_key": pdf.key if pdf else None,
            "tickets_pdf_pages": pdf.pages if pdf else None,
            "tickets_pdf_size": pdf.size if pdf else None,
            "tickets_pdf_created_at": pdf.created_at if pdf else None,
        }


# --- payments -----------------------------------------------------------------------------------


def _payment(row: Row[Any]) -> Payment:
    return Payment(
        id=row.id,
        order_id=row.order_id,
        provider=row.provider,
        provider_payment_id=row.provider_payment_id,
        status=PaymentStatus(row.status),
        amount=Money(row.amount_cents),
        checkout_url=row.checkout_url,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlPayments(_Repository):
    @staticmethod
    def _values(payment: Payment) -> dict[str, Any]:
        return {
            "order_id": payment.order_id,
            "provider": payment.provider,
            "provider_payment_id": payment.provider_payment_id,
            "status": payment.status.value,
            "amount_cents": payment.amount.cents,
            "checkout_url": payment.checkout_url,
            "expires_at": payment.expires_at,
            "created_at": payment.created_at,
            "updated_at": payment.updated_at,
        }

    def add(self, payment: Payment) -> None:
        self.db.execute(insert(t.payments).values(id=payment.id, **self._values(payment)))

    def latest_for_order(self, order_id: uuid.UUID) -> Payment | None:
        row = self.db.execute(
            select(t.payments)
            .where(t.payments.c.order_id == order_id)
            .order_by(t.payments.c.created_at.desc())
            .limit(1)
        ).first()
        return _payment(row) if row else None

    def paid_for_order(self, order_id: uuid.UUID) -> Payment | None:
        row = self.db.execute(
            select(t.payments)
            .where(
                t.payments.c.order_id == order_id,
                t.payments.c.status == PaymentStatus.PAID.value,
            )
            .order_by(t.payments.c.created_at.desc())
            .limit(1)
        ).first()
        return _payment(row) if row else None

    def get_by_provider_id(
        self, provider_payment_id: str, *, for_update: bool = False
    ) -> Payment | None:
        query = select(t.payments).where(t.payments.c.provider_payment_id == provider_payment_id)
        row = self.db.execute(query.with_for_update() if for_update else query).first()
        return _payment(row) if row else None

    def update(self, payment: Payment) -> None:
        self.db.execute(
            update(t.payments).where(t.payments.c.id == payment.id).values(self._values(payment))
        )

    def add_event(self, event: PaymentEvent) -> None:
        self.db.execute(
            insert(t.payment_events).values(
                id=event.id,
                payment_id=event.payment_id,
                status=event.status.value,
                at=event.at,
                source=event.source,
            )
        )

    def events(self, payment_id: uuid.UUID) -> list[PaymentEvent]:
        rows = self.db.execute(
            select(t.payment_events)
            .where(t.payment_events.c.payment_id == payment_id)
            .order_by(t.payment_events.c.at)
        )
        return [
            PaymentEvent(
                id=r.id,
                payment_id=r.payment_id,
                status=PaymentStatus(r.status),
                at=r.at,
                source=r.source,
            )
            for r in rows
        ]


def _refund(row: Row[Any]) -> Refund:
    return Refund(
        id=row.id,
        order_id=row.order_id,
        payment_id=row.payment_id,
        amount=Money(row.amount_cents),
        whole=row.whole,
        status=RefundStatus(row.status),
        reason=row.reason,
        requested_by=row.requested_by,
        request_key=row.request_key,
        provider_refund_id=row.provider_refund_id,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlRefunds(_Repository):
    @staticmethod
    def _values(refund: Refund) -> dict[str, Any]:
        return {
            "order_id": refund.order_id,
            "payment_id": refund.payment_id,
            "amount_cents": refund.amount.cents,
            "whole": refund.whole,
            "status": refund.status.value,
            "reason": refund.reason,
            "requested_by": refund.requested_by,
            "request_key": refund.request_key,
            "provider_refund_id": refund.provider_refund_id,
            "error": refund.error,
            "created_at": refund.created_at,
            "updated_at": refund.updated_at,
        }

    def add(self, refund: Refund) -> None:
        self.db.execute(insert(t.refunds).values(id=refund.id, **self._values(refund)))

    def get(self, refund_id: uuid.UUID) -> Refund | None:
        row = self.db.execute(select(t.refunds).where(t.refunds.c.id == refund_id)).first()
        return _refund(row) if row else None

    def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        rows = self.db.execute(
            select(t.refunds)
            .where(t.refunds.c.order_id == order_id)
            .order_by(t.refunds.c.created_at, t.refunds.c.id)
        )
        return [_refund(row) for row in rows]

    def update(self, refund: Refund) -> None:
        self.db.execute(
            update(t.refunds).where(t.refunds.c.id == refund.id).values(self._values(refund))
        )

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


# --- accounts -----------------------------------------------------------------------------------


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        password_hash=row.password_hash,
        role=Role(row.role),
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
    )


class SqlUsers(_Repository):
    @staticmethod
    def _values(user: User) -> dict[str, Any]:
        return {
            "email": user.email,
            "name": user.name,
            "password_hash": user.password_hash,
            "role": user.role.value,
            "created_at": user.created_at,
            "password_changed_at": user.password_changed_at,
        }

    def add(self, user: User) -> None:
        try:
            with self.db.begin_nested():
                self.db.execute(insert(t.users).values(id=user.id, **self._values(user)))
        except IntegrityError:
            raise ValueError("duplicate e-mail") from None

    def get(self, user_id: uuid.UUID) -> User | None:
        row = self.db.execute(select(t.users).where(t.users.c.id == user_id)).first()
        return _user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self.db.execute(
            select(t.users).where(t.users.c.email == normalize_email(email))
        ).first()
        return _user(row) if row else None

    def update(self, user: User) -> None:
        self.db.execute(update(t.users).where(t.users.c.id == user.id).values(self._values(user)))


def _token(row: Row[Any]) -> PasswordResetToken:
    return PasswordResetToken(
        id=row.id,
        user_id=row.user_id,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class SqlResetTokens(_Repository):
    def add(self, token: PasswordResetToken) -> None:
        self.db.execute(
            insert(t.password_reset_tokens).values(
                id=token.id,
                user_id=token.user_id,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )

    def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> PasswordResetToken | None:
        query = select(t.password_reset_tokens).where(
            t.password_reset_tokens.c.token_hash == token_hash
        )
        if for_update:
            query = query.with_for_update()
        row = self.db.execute(query).first()
        return _token(row) if row else None

    def update(self, token: PasswordResetToken) -> None:
        self.db.execute(
            update(t.password_reset_tokens)
            .where(t.password_reset_tokens.c.id == token.id)
            .values(used_at=token.used_at, expires_at=token.expires_at)
        )

    def void_all(self, user_id: uuid.UUID, at: datetime) -> None:
        self.db.execute(
            update(t.password_reset_tokens)
            .where(
                t.password_reset_tokens.c.user_id == user_id,
                t.password_reset_tokens.c.used_at.is_(None),
            )
            .values(used_at=at)
        )

    def count_since(self, user_id: uuid.UUID, since: datetime) -> int:
        count = self.db.execute(
            select(func.count())
            .select_from(t.password_reset_tokens)
            .where(
                t.password_reset_tokens.c.user_id == user_id,
                t.password_reset_tokens.c.created_at >= since,
            )
        ).scalar_one()
        return int(count)


# --- images -------------------------------------------------------------------------------------


def _image(row: Row[Any]) -> Image:
    return Image(
        id=row.id,
        show_id=row.show_id,
        original_key=row.original_key,
        content_type=row.content_type,
        status=ImageStatus(row.status),
        variants=dict(row.variants),
        created_at=row.created_at,
    )


class SqlImages(_Repository):
    def add(self, image: Image) -> None:
        self.db.execute(
            insert(t.images).values(
                id=image.id,
                show_id=image.show_id,
                original_key=image.original_key,
                content_type=image.content_type,
                status=image.status.value,
                variants=image.variants,
                created_at=image.created_at,
            )
        )

    def get(self, image_id: uuid.UUID) -> Image | None:
        row = self.db.execute(select(t.images).where(t.images.c.id == image_id)).first()
        return _image(row) if row else None

    def update(self, image: Image) -> None:
        self.db.execute(
            update(t.images)
            .where(t.images.c.id == image.id)
            .values(status=image.status.value, variants=image.variants)
        )

    def latest_for_show(self, show_id: uuid.UUID) -> Image | None:
        row = self.db.execute(
            select(t.images)
            .where(t.images.c.show_id == show_id)
            .order_by(t.images.c.created_at.desc())
            .limit(1)
        ).first()
        return _image(row) if row else None


# --- jobs ---------------------------------------------------------------------------------------


def job_from_row(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        type=row.type,
        status=JobStatus(row.status),
        priority=row.priority,
        data=row.data,
        result=row.result,
        error_message=row.error_message,
        execution_count=row.execution_count,
        max_attempts=row.max_attempts,
        next_retry_at=row.next_retry_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        dedupe_key=row.dedupe_key,
    )


_JOB_COLUMNS = (
    "id",
    "type",
    "queue_name",
    "status",
    "priority",
    "data",
    "execution_count",
    "next_retry_at",
    "created_at",
    "updated_at",
    "dedupe_key",
)


def _job_insert(dml: Any) -> Any:
    """INSERT of one job that steps aside (no error) for a row with the same dedupe key."""
    return (
        dml(t.jobs)
        .values({name: bindparam(name, type_=t.jobs.c[name].type) for name in _JOB_COLUMNS})
        .on_conflict_do_nothing(index_elements=[t.jobs.c.dedupe_key])
        .returning(t.jobs.c.id)
    )


_ENQUEUE_SQLITE = _job_insert(_sqlite_insert)
_inserted_job = _job_insert(_pg_insert).cte("inserted_job")
_ENQUEUE_AND_NOTIFY_PG = select(
    _inserted_job.c.id, func.pg_notify(CHANNEL, bindparam("wake"))
).select_from(_inserted_job)


class SqlJobQueue(_Repository):
    """Writes jobs in the caller's transaction. The broker (jobqueue package) runs them.

    On Postgres the enqueue also sends a NOTIFY in that transaction: idle workers wake when it
    commits, and never for a transaction that rolls back.
    """

    queue_name = "default"

    def __init__(self, connection: Connection, clock: Clock) -> None:
        super().__init__(connection)
        self.clock = clock

    def enqueue(
        self,
        job_type: str,
        data: Mapping[str, Any],
        *,
        priority: int = 0,
        run_at: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> uuid.UUID:
        now = self.clock.now()
        job_id = uuid.uuid4()
        values = {
            "id": job_id,
            "type": str(job_type),
            "queue_name": self.queue_name,
            "status": JobStatus.PENDING.value,
            "priority": priority,
            "data": dict(data),
            "execution_count": 0,
            "next_retry_at": run_at,
            "created_at": now,
            "updated_at": now,
            "dedupe_key": dedupe_key,
        }
        if self.db.dialect.name == "postgresql":
            # Insert and NOTIFY in one round trip; the NOTIFY only when a row went in.
            values["wake"] = payload(self.queue_name, run_at)
            inserted = self.db.execute(_ENQUEUE_AND_NOTIFY_PG, values).first() is not None
        else:
            inserted = self.db.execute(_ENQUEUE_SQLITE, values).first() is not None
            if inserted:
                announce(self.db, self.queue_name, run_at)
        if inserted:
            return job_id
        # Only a dedupe key can keep a row out: a transaction enqueueing the same key (workers
        # scheduling a recurring job) inserted it first, or finished earlier.
        existing = self._dedupe(dedupe_key) if dedupe_key is not None else None
        if existing is None:  # pragma: no cover - the conflicting row must be there
            raise RuntimeError(f"job {dedupe_key!r} neither inserted nor found")
        return existing

    def _dedupe(self, dedupe_key: str) -> uuid.UUID | None:
        existing = self.db.execute(
            select(t.jobs.c.id).where(t.jobs.c.dedupe_key == dedupe_key)
        ).scalar()
        return None if existing is None else uuid.UUID(str(existing))

    def get(self, job_id: uuid.UUID) -> Job | None:
        row = self.db.execute(select(t.jobs).where(t.jobs.c.id == job_id)).first()
        return job_from_row(row) if row else None

    def list(self, *, job_type: str | None = None, status: str | None = None) -> list[Job]:
        query = select(t.jobs).order_by(t.jobs.c.created_at)
        conditions = []
        if job_type is not None:
            conditions.append(t.jobs.c.type == job_type)
        if status is not None:
            conditions.append(t.jobs.c.status == status)
        if conditions:
            query = query.where(and_(*conditions))
        return [job_from_row(r) for r in self.db.execute(query)]
