"""Getting, locking and closing orders: the only code that knows the order of locks.

Every transaction that changes an order and what it holds takes its row locks in one order,
so no two of them can deadlock:

1. the order rows, by id (`lock_order`, `lock_orders`);
2. then the coupon (claiming or giving back its use);
3. then the performances, by id (taking or giving back seats; `lock_performances`);
4. then the price categories, by id (taking or giving back seats under a category's own
   limit);
4a. then a reserved performance's numbered seats (`seat_holds`: one conditional change of
   exactly the seat rows concerned, after the counts above, so takers queue on 3);
5. then waiting-list entries (an offer closing or paid, `waitlist_seats`).

Checkout and the counter (a sale, a phone booking) insert the new order and then take 2, 3
and 4 (`hold`), so the web shop and the counter take seats alike; payments, refunds and staff
lock the order first and give back what it holds through `close_order`, `close_refunded` or
`release_refunded_tickets`, which release in that same order. The seat inventory takes the
performances by id itself, and then the categories by id: a seat sold comes from both, in one
transaction. Staff changing a category lock its performance first (`get_performance`), then
the category.

Seats come back only through `give_back` (orders) and `seats_added` (staff raising a capacity or
a category's limit): both hand them to the performance's waiting list first when it has
entries waiting (`waitlist_seats.seats_returned`), in the same transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from mierloos_core import errors
from mierloos_core.model.catalog import Performance
from mierloos_core.model.commands import CancelPayment
from mierloos_core.model.coupons import Coupon, CouponUsage
from mierloos_core.model.orders import Order, OrderStatus, PaymentMethod
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.fulfilment import enqueue_fulfilment, mail_buyer
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.seat_holds import SeatRequest, take_seats
from mierloos_core.services.waitlist_seats import offer_closed, offer_paid, seats_returned


def get_order(uow: UnitOfWork, order_id: uuid.UUID) -> Order:
    """The order as stored, unlocked; OrderNotFound when there is none."""
    return errors.required(uow.orders.get(order_id), errors.OrderNotFound(order_id=str(order_id)))


def lock_order(uow: UnitOfWork, order_id: uuid.UUID) -> Order:
    """The order with its row locked until the unit of work ends; OrderNotFound if none."""
    order = lock_order_if_any(uow, order_id)
    return errors.required(order, errors.OrderNotFound(order_id=str(order_id)))


def lock_order_if_any(uow: UnitOfWork, order_id: uuid.UUID) -> Order | None:
    """The order with its row locked, or None (a job about an order that is gone)."""
    return uow.orders.get(order_id, for_update=True)


def lock_orders(uow: UnitOfWork, order_ids: Iterable[uuid.UUID]) -> list[Order]:
    """The orders that exist, each row locked, in id order."""
    locked = (lock_order_if_any(uow, order_id) for order_id in sorted(set(order_ids)))
    return [order for order in locked if order is not None]


def get_performance(
    uow: UnitOfWork, performance_id: uuid.UUID, *, lock: bool = False
) -> Performance:
    """The performance, its row locked with `lock` (take order locks first); UnknownPerformance
    when there is none."""
    missing = errors.UnknownPerformance(performance_id=str(performance_id))
    return errors.required(uow.performances.get(performance_id, for_update=lock), missing)


def lock_performances(uow: UnitOfWork, performance_ids: Iterable[uuid.UUID]) -> None:
    """Lock the performance rows in id order; call after locking the orders concerned."""
    for performance_id in sorted(set(performance_ids)):
        uow.performances.get(performance_id, for_update=True)


def first_start(uow: UnitOfWork, order: Order) -> datetime | None:
    """When the order's first performance begins: no seat is held, nor sold, past it."""
    starts = [
        performance.starts_at
        for performance_id in {t.performance_id for t in order.tickets}
        if (performance := uow.performances.get(performance_id)) is not None
    ]
    return min(starts, default=None)


def hold(
    uow: UnitOfWork, order: Order, coupon: Coupon | None, seats: SeatRequest | None = None
) -> None:
    """Take what a new (just added) order holds: its coupon use, then its seats from each
    performance, then from each price category's own limit, then the numbered seats of its
    reserved performances (`seats`: the chosen ones; the best available otherwise).

    Raises CouponExhausted when the coupon's last use went meanwhile, and the seat
    inventory's refusal (NotEnoughSeats, PriceCategorySoldOut) when the seats did, and
    SeatsUnavailable / NoAdjacentSeats when numbered seats cannot be had.
    """
    if coupon is not None:
        usage = CouponUsage(
            coupon_id=coupon.id,
            order_id=order.id,
            discount=order.discount,
            created_at=order.created_at,
        )
        if not uow.coupons.claim_usage(usage):
            raise errors.CouponExhausted(code=coupon.code)
    plans = uow.seats.reserve(order.seats_held())
    uow.seats.reserve_in_categories(order.category_seats_held())
    take_seats(uow, order, seats or SeatRequest(), plans)


def settle_paid(
    uow: UnitOfWork, order: Order, now: datetime, method: PaymentMethod | None = None
) -> None:
    """A locked pending order is paid (by `method`): its tickets become valid, its numbered
    seats sold, a waiting-list offer it was converts, and its PDF and mails are queued."""
    order.mark_paid(now, method=method)
    uow.orders.update(order)
    uow.seating.sell(order.id)
    offer_paid(uow, order.id)
    enqueue_fulfilment(uow, order)


def close_order(
    uow: UnitOfWork,
    order: Order,
    status: OrderStatus,
    now: datetime,
    *,
    context: Mapping[str, Any] | None = None,
) -> bool:
    """Cancel or expire a locked pending order: give back its coupon use and seats, withdraw
    its open payment and tell the buyer (the mail's `context` added), once. True if it closed.
    A waiting-list offer's order only marks its entry: no mail about an "order".
    """
    categories = order.category_seats_held()
    seats = order.expire(now) if status is OrderStatus.EXPIRED else order.cancel(now)
    if not seats:
        return False
    uow.orders.update(order)
    uow.coupons.release_usage(order.id, now)
    give_back(uow, seats, categories, source=f"order:{order.id}")
    uow.seating.release(order.id)
    cancel_open_payment(uow, order.id)
    if not offer_closed(uow, order.id):  # an offer's own page says it passed on
        mail_buyer(uow, order, "order_cancelled", once_key=str(order.id), context=context)
    return True


def close_refunded(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """The accepted refunds of a locked paid order cover what was paid: it is refunded, its
    tickets invalid, and its seats go back (the coupon use stays: that sale happened)."""
    categories = order.category_seats_held()
    seats = order.refund(now)
    uow.orders.update(order)
    if seats:
        give_back(uow, seats, categories, source=f"refund:{order.id}")
        uow.seating.release(order.id)


def release_refunded_tickets(
    uow: UnitOfWork, order: Order, ticket_ids: Collection[uuid.UUID]
) -> None:
    """The accepted refund of chosen tickets of a locked paid order: they become invalid and
    their seats go back to their performances and price categories, once."""
    seats, categories = order.refund_tickets(ticket_ids)
    uow.orders.update(order)
    if seats:
        tickets = ",".join(sorted(str(ticket_id) for ticket_id in ticket_ids))
        give_back(uow, seats, categories, source=f"refund:{order.id}:{_digest(tickets)}")
        uow.seating.release(order.id, ticket_ids)


def give_back(
    uow: UnitOfWork,
    seats: Mapping[uuid.UUID, int],
    categories: Mapping[uuid.UUID, int],
    *,
    source: str,
) -> None:
    """Return seats to their performances, then to their price categories, then offer them to
    the waiting lists that wait for them (`source` names this release, once)."""
    uow.seats.release(seats)
    uow.seats.release_in_categories(categories)
    seats_returned(uow, seats, source)


def seats_added(uow: UnitOfWork, performance_id: uuid.UUID, seats: int, *, source: str) -> None:
    """Staff gave a locked performance `seats` more (0: a price category got more): offered to
    its waiting list first, like seats given back."""
    seats_returned(uow, {performance_id: max(seats, 0)}, source)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cancel_open_payment(uow: UnitOfWork, order_id: uuid.UUID) -> None:
    """The order closed: have its open payment cancelled at the provider (a job), so it can no
    longer be paid. Money that arrives anyway is refunded (see `Payments._refund_late`)."""
    payment = uow.payments.latest_for_order(order_id)
    if payment is None or payment.provider_payment_id is None:
        return
    if payment.status not in (PaymentStatus.OPEN, PaymentStatus.PENDING):
        return
    enqueue(uow, CancelPayment(provider_payment_id=payment.provider_payment_id))
