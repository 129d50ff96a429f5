# ruff: noqa: F811 (the fixtures, imported, are test parameters here)
"""Refunds per ticket: the money of chosen tickets goes back, and once the provider accepts it
those tickets become invalid and their seats return to the performance and the category."""

from __future__ import annotations

import uuid

import pytest

from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from tests.unit.test_refunds import gateway, make_uow, order_of, pay, refunds  # noqa: F401


@pytest.fixture
def sale(catalog, make_uow, clock, gateway):
    """A paid order: two CJP tickets (15 euros, limit 5) and one regular (25 euros), 10% off."""
    performance = catalog.performance(capacity=20, price=Money(2500))
    cjp = catalog.category(performance, "CJP", price=Money(1500), limit=5)
    catalog.coupon("TIEN", value=10)
    request = CheckoutRequest(
        email="an@example.nl",
        name="An",
        lines=[
            CartLine(performance_id=performance.id, quantity=2, category_id=cjp.id),
            CartLine(performance_id=performance.id, quantity=1),
        ],
        coupon_code="TIEN",
    )
    placed = checkout(make_uow(), clock, request)
    pay(make_uow, clock, gateway, placed)
    return performance, cjp, placed


def test_refunding_tickets_invalidates_them_and_gives_their_seats_back(
    refunds, sale, make_uow, catalog
):
    performance, cjp, placed = sale
    order = order_of(make_uow, placed.order_id)
    cjp_ticket = next(t for t in order.tickets if t.category_id == cjp.id)

    refund = refunds.refund(placed.order_id, tickets=[cjp_ticket.id], reason="Ziek")

    assert refund.amount == Money(1350)  # 15 euros less its 10% share of the discount
    assert refund.ticket_ids == (cjp_ticket.id,)
    assert not refund.whole
    order = order_of(make_uow, placed.order_id)
    assert order.status is OrderStatus.PAID
    assert sorted(t.status.value for t in order.tickets) == ["refunded", "valid", "valid"]
    assert catalog.seats_left(performance) == 20 - 2
    assert catalog.categories(performance)[1].available == 5 - 1

    with pytest.raises(errors.RefundNotAllowed):  # not twice
        refunds.refund(placed.order_id, tickets=[cjp_ticket.id])

    rest = [t.id for t in order.tickets if t.status is TicketStatus.VALID]
    last = refunds.refund(placed.order_id, tickets=rest)
    assert last.amount == Money(1350 + 2250)
    assert last.whole
    order = order_of(make_uow, placed.order_id)
    assert order.status is OrderStatus.REFUNDED
    assert {t.status for t in order.tickets} == {TicketStatus.REFUNDED}
    assert catalog.seats_left(performance) == 20
    assert catalog.categories(performance)[1].available == 5


def test_a_ticket_of_another_order_is_refused(refunds, sale, make_uow, catalog):
    performance, _, placed = sale
    with pytest.raises(errors.RefundNotAllowed):
        refunds.refund(placed.order_id, tickets=[uuid.uuid4()])
    assert order_of(make_uow, placed.order_id).status is OrderStatus.PAID
    assert catalog.seats_left(performance) == 17
