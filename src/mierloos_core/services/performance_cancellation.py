"""Cancelling a performance: its pending orders close, its paid orders are refunded.

Cancelling is refused while the performance has paid orders, unless staff ask to refund them:
then each paid order gets a `refund` job in the cancelling transaction, for its tickets of
this performance (the whole order when all its tickets are for it), sent by a worker. Its
pending orders are cancelled with it: their seats and coupon use go back, a `payment_cancel`
job withdraws the open payment at the provider, and the buyer gets the "order cancelled"
e-mail saying the performance was cancelled. Money that still arrives is refunded by the
payment service, as for any payment that arrives after its order closed. Its waiting list
closes: whoever waits or holds an offer is told by mail, and the offers' orders close.

Locks are taken in the order of `order_lifecycle`, as every other writer takes them: a payment
closing one of these orders meanwhile waits for this instead of deadlocking.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, PerformanceStatus
from mierloos_core.model.commands import RefundOrder
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.ports import UnitOfWork
from mierloos_core.services import waitlist_seats
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.order_lifecycle import (
    close_order,
    get_performance,
    lock_orders,
    lock_performances,
)

_CANCEL_MAIL = {"reason": "performance_cancelled"}  # the "order cancelled" mail says why


@attrs.frozen(kw_only=True)
class Cancellation:
    performance: Performance
    cancelled_orders: int
    refunds_queued: int = 0


@attrs.frozen(kw_only=True)
class RefundProgress:
    """The refunds a "cancel and refund" of a performance started, by where they stand."""

    orders: int  # paid orders it refunds
    done: int  # the provider took the refund on (or it is paid out)
    failed: int  # refused by the provider: staff act on the order's page
    waiting: int  # not (yet) accepted: queued, or the provider did not answer yet


def cancel_refund_key(performance_id: uuid.UUID) -> str:
    return f"cancel-{performance_id.hex}"


def cancel_performance(
    uow: UnitOfWork, performance_id: uuid.UUID, now: datetime, *, refund_paid: bool = False
) -> Cancellation:
    """Cancel the published performance and its pending orders in the open unit of work (the
    caller commits); with `refund_paid`, queue a refund of every paid order too, else a paid
    order refuses the cancel (InvalidTransition)."""
    get_performance(uow, performance_id).move_to(PerformanceStatus.CANCELLED, now)
    listed = _open_orders(uow, performance_id)
    orders = lock_orders(uow, listed)
    if not refund_paid:
        _refuse_if_paid(performance_id, orders)
    lock_performances(uow, {performance_id} | {t.performance_id for o in orders for t in o.tickets})
    performance = get_performance(uow, performance_id, lock=True)
    performance.move_to(PerformanceStatus.CANCELLED, now)
    # A checkout that took seats after the listing left an order not locked above;
    # locking it now would break the order of locks. Start again instead (Busy).
    if set(_open_orders(uow, performance_id)) - set(listed):
        raise errors.Busy()
    uow.performances.update(performance)
    # Before the orders close: an offer's order then closes without a mail of its own.
    waitlist_seats.performance_cancelled(uow, performance)
    cancelled = refunds = 0
    for order in orders:
        if order.status is OrderStatus.PAID:
            _queue_refund(uow, order, performance_id)
            refunds += 1
            continue
        if close_order(uow, order, OrderStatus.CANCELLED, now, context=_CANCEL_MAIL):
            cancelled += 1
    stored = get_performance(uow, performance_id)
    return Cancellation(performance=stored, cancelled_orders=cancelled, refunds_queued=refunds)


def _open_orders(uow: UnitOfWork, performance_id: uuid.UUID) -> list[uuid.UUID]:
    return uow.orders.ids_for_performance(performance_id, (OrderStatus.PENDING, OrderStatus.PAID))


def _queue_refund(uow: UnitOfWork, order: Order, performance_id: uuid.UUID) -> None:
    """A refund job for the order's tickets of the cancelled performance."""
    mine = [t for t in order.valid_tickets if t.performance_id == performance_id]
    amount = None  # the whole order
    if len(mine) < len(order.valid_tickets) and order.subtotal.cents > 0:
        # Part of the order: its share of what was paid, the discount spread pro rata.
        share = sum(t.price.cents for t in mine) * order.total.cents // order.subtotal.cents
        if share <= 0:
            return
        amount = Money(share)
    refund = RefundOrder(
        order_id=order.id,
        request_key=cancel_refund_key(performance_id),
        reason="Voorstelling geannuleerd",
        amount=amount,
    )
    enqueue(uow, refund)


def refund_progress(uow: UnitOfWork, performance: Performance) -> RefundProgress | None:
    """Where the refunds of a cancelled performance stand; None when it has none."""
    if performance.status is not PerformanceStatus.CANCELLED:
        return None
    key = cancel_refund_key(performance.id)
    done = failed = waiting = 0
    sold = uow.orders.ids_for_performance(performance.id, (OrderStatus.PAID, OrderStatus.REFUNDED))
    for order_id in sold:
        mine = [r for r in uow.refunds.for_order(order_id) if r.request_key == key]
        order = uow.orders.get(order_id)
        if not mine:
            # Still paid and nothing recorded: its refund job has not run (or is retrying).
            waiting += order is not None and order.status is OrderStatus.PAID
        elif mine[0].status.accepted:
            done += 1
        elif not mine[0].status.counts:
            failed += 1
        else:
            waiting += 1
    total = done + failed + waiting
    return (
        RefundProgress(orders=total, done=done, failed=failed, waiting=waiting) if total else None
    )


def _refuse_if_paid(performance_id: uuid.UUID, orders: list[Order]) -> None:
    paid = sum(1 for order in orders if order.status is OrderStatus.PAID)
    if paid:
        raise errors.InvalidTransition(
            f"Deze voorstelling heeft {_orders_text(paid, 'betaalde')}. "
            "Betaal die eerst terug; daarna kan de voorstelling geannuleerd worden.",
            performance_id=str(performance_id),
            paid_orders=paid,
        )


def _orders_text(count: int, kind: str) -> str:
    return f"{count} {kind} bestelling" if count == 1 else f"{count} {kind} bestellingen"
