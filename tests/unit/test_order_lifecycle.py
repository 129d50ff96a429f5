"""Getting, locking and closing orders, as every service does it."""

from __future__ import annotations

import uuid

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import OrderStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import (
    close_order,
    get_order,
    lock_order,
    lock_orders,
)
from tests.catalog_builders import CatalogBuilder


def test_an_unknown_order_is_not_found_locked_or_not(uow: MemoryUnitOfWork) -> None:
    with uow, pytest.raises(errors.OrderNotFound):
        get_order(uow, uuid.uuid4())
    with uow, pytest.raises(errors.OrderNotFound):
        lock_order(uow, uuid.uuid4())


def test_orders_are_locked_in_id_order_and_missing_ones_left_out(
    uow: MemoryUnitOfWork, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance()
    orders = [catalog.order([(performance, 1)]) for _ in range(3)]
    wanted = [order.id for order in reversed(orders)] + [uuid.uuid4()]

    with uow:
        locked = lock_orders(uow, wanted)

    assert [order.id for order in locked] == sorted(order.id for order in orders)


def test_closing_gives_back_the_seats_and_the_coupon_use_once_and_tells_the_buyer(
    store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder
) -> None:
    performance = catalog.performance(capacity=10)
    coupon = catalog.coupon("HALF", value=50)
    line = CartLine(performance_id=performance.id, quantity=3, added_at=clock.now())
    request = CheckoutRequest(email="an@example.nl", name="An", lines=[line], coupon_code="HALF")
    placed = checkout(MemoryUnitOfWork(store, clock), clock, request)
    assert (catalog.seats_left(performance), catalog.coupon_usage_count(coupon)) == (7, 1)

    closed = []
    for _ in range(2):
        with MemoryUnitOfWork(store, clock) as uow:
            order = lock_order(uow, placed.order_id)
            closed.append(close_order(uow, order, OrderStatus.CANCELLED, clock.now()))
            uow.commit()

    assert closed == [True, False]
    assert (catalog.seats_left(performance), catalog.coupon_usage_count(coupon)) == (10, 0)
    mails = [job.data for job in store.jobs.values() if job.type == "email"]
    assert [mail["template"] for mail in mails] == ["order_cancelled"]
    with MemoryUnitOfWork(store, clock) as uow:
        assert get_order(uow, placed.order_id).status is OrderStatus.CANCELLED
