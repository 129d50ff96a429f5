"""Whatever happens, in whatever order: seats and coupon uses add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import (
    FixedClock,
    MemoryPaymentGateway,
    MemoryStore,
    MemoryUnitOfWork,
)
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.payments import Payments
from tests.catalog_builders import CatalogBuilder

events = st.lists(
    st.one_of(
        st.tuples(st.just("checkout"), st.integers(0, 1), st.integers(1, 4), st.booleans()),
        st.tuples(st.just("start"), st.integers(0, 9)),
        st.tuples(
            st.just("provider"),
            st.integers(0, 9),
            st.sampled_from(
                [
                    PaymentStatus.PAID,
                    PaymentStatus.FAILED,
                    PaymentStatus.CANCELED,
                    PaymentStatus.EXPIRED,
                ]
            ),
        ),
        st.tuples(st.just("webhook"), st.integers(0, 9), st.integers(1, 3)),
        st.tuples(st.just("return"), st.integers(0, 9)),
        st.tuples(st.just("time"), st.integers(1, 40)),
        st.tuples(st.just("cleanup")),
        st.tuples(st.just("outage"), st.booleans()),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_seats_and_coupon_uses_always_match_the_orders(script):
    clock = FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    store = MemoryStore()
    uow = lambda: MemoryUnitOfWork(store, clock)  # noqa: E731
    catalog = CatalogBuilder(uow, clock)
    performances = [catalog.performance(capacity=6, starts_in=timedelta(days=2)) for _ in range(2)]
    coupon = catalog.coupon("DRIE", max_usages=3)
    gateway = MemoryPaymentGateway()
    payments = Payments(uow, clock, gateway, SiteLinks("http://127.0.0.1:8000"))
    orders = []

    def order_at(index):
        return orders[index % len(orders)] if orders else None

    def latest_payment(order_id):
        with uow() as u:
            return u.payments.latest_for_order(order_id)

    for event in script:
        kind = event[0]
        try:
            if kind == "checkout":
                _, which, quantity, with_coupon = event
                placed = checkout(
                    uow(),
                    clock,
                    CheckoutRequest(
                        email="k@example.nl",
                        name="K",
                        lines=[CartLine(performance_id=performances[which].id, quantity=quantity)],
                        coupon_code="DRIE" if with_coupon else None,
                    ),
                )
                orders.append(placed.order_id)
            elif kind == "start" and orders:
                payments.start(order_at(event[1]))
            elif kind == "provider" and orders:
                payment = latest_payment(order_at(event[1]))
                if payment is not None:
                    gateway.set_status(payment.provider_payment_id, event[2])
            elif kind == "webhook" and orders:
                payment = latest_payment(order_at(event[1]))
                if payment is not None:
                    for _ in range(event[2]):
                        payments.sync(payment.provider_payment_id)
            elif kind == "return" and orders:
                payments.refresh_order(order_at(event[1]))
            elif kind == "time":
                clock.advance(timedelta(minutes=event[1]))
            elif kind == "cleanup":
                payments.expire_overdue()
            elif kind == "outage":
                gateway.down = event[1]
        except (errors.NotEnoughSeats, errors.CouponExhausted, errors.PerformanceUnavailable):
            pass  # refusals are fine; the books must still balance
        except errors.DependencyUnavailable:
            assert gateway.down

        with uow() as u:
            for performance in performances:
                current = u.performances.get(performance.id)
                held = u.orders.seats_held(performance.id)
                assert current.available_seats == current.capacity - held
            usages = [u.coupons.usage_for_order(o) for o in orders]
            live = [x for x in usages if x is not None and x.released_at is None]
            assert u.coupons.get(coupon.id).usage_count == len(live) <= 3
            for order_id in orders:
                order = u.orders.get(order_id)
                usage = u.coupons.usage_for_order(order_id)
                if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                    assert order.seats_held() == {}
                    assert usage is None or usage.released_at is not None
