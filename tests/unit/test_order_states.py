import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from mierloos_core.errors import InvalidTransition
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketStatus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
A, B = uuid.uuid4(), uuid.uuid4()


def order_with(*performances):
    order = Order(
        email="a@b.nl",
        name="A",
        subtotal=Money(100),
        discount=Money(0),
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    order.tickets = [
        Ticket(
            order_id=order.id,
            performance_id=p,
            category_id=p,  # each performance's one category, known by the same id here
            category_name="Regulier",
            price=Money(50),
        )
        for p in performances
    ]
    return order


def test_paying_validates_the_tickets_once():
    order = order_with(A, A)
    assert order.mark_paid(NOW)
    assert not order.mark_paid(NOW)  # duplicate confirmation changes nothing
    assert order.status is OrderStatus.PAID
    assert {t.status for t in order.tickets} == {TicketStatus.VALID}
    assert order.paid_at == NOW


def test_cancelling_returns_the_held_seats_once():
    order = order_with(A, A, B)
    assert order.cancel(NOW) == Counter({A: 2, B: 1})
    assert order.cancel(NOW) == Counter()
    assert order.expire(NOW) == Counter()
    assert order.status is OrderStatus.CANCELLED
    assert order.seats_held() == Counter()


def test_a_paid_order_cannot_be_cancelled_or_expired_by_a_late_failure():
    order = order_with(A)
    order.mark_paid(NOW)
    with pytest.raises(InvalidTransition):
        order.cancel(NOW)
    with pytest.raises(InvalidTransition):
        order.expire(NOW)
    assert order.status is OrderStatus.PAID


def test_an_expired_order_cannot_be_paid():
    order = order_with(A)
    order.expire(NOW)
    with pytest.raises(InvalidTransition):
        order.mark_paid(NOW)


def test_overdue_means_pending_and_past_expiry():
    order = order_with(A)
    assert not order.is_overdue(NOW + timedelta(minutes=14))
    assert order.is_overdue(NOW + timedelta(minutes=15))
    order.mark_paid(NOW)
    assert not order.is_overdue(NOW + timedelta(hours=1))


def test_order_secrets_and_numbers_are_unguessable_and_distinct():
    orders = [order_with(A) for _ in range(200)]
    assert len({o.secret for o in orders}) == 200
    assert min(len(o.secret) for o in orders) >= 40
    assert len({t.secret for o in orders for t in o.tickets}) == 200
