"""Placing an order and opening its payment, the order views and the webhook intake, on fakes."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import MemoryPaymentGateway, MemoryThrottleStore, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.jobs import JobType
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.checkout import CheckoutPolicy, CheckoutRequest
from mierloos_core.services.order_views import OrderViews
from mierloos_core.services.ordering import (
    CHECKOUT_WINDOW,
    CheckoutRefused,
    Ordering,
    OrderPlaced,
)
from mierloos_core.services.payments import Payments

CLIENT = "203.0.113.7"


@pytest.fixture
def gateway():
    return MemoryPaymentGateway()


@pytest.fixture
def new_uow(store, clock):
    return lambda: MemoryUnitOfWork(store, clock)


@pytest.fixture
def payments(new_uow, clock, gateway):
    return Payments(new_uow, clock, gateway, SiteLinks("http://127.0.0.1:8000"))


@pytest.fixture
def contexts():
    """The order ids the core told the host it was working on, in order."""
    return []


@pytest.fixture
def ordering(new_uow, clock, payments, contexts):
    @contextlib.contextmanager
    def order_context(order_id: uuid.UUID) -> Iterator[None]:
        contexts.append(order_id)
        yield

    return Ordering(
        uow=new_uow,
        clock=clock,
        policy=CheckoutPolicy(max_unpaid_per_performance=0),
        payments=payments,
        throttles=MemoryThrottleStore(clock),
        checkouts_per_client=2,
        order_context=order_context,
    )


@pytest.fixture
def views(new_uow, clock, payments):
    return OrderViews(uow=new_uow, clock=clock, payments=payments)


def order_request(performance, quantity=2, **fields):
    return CheckoutRequest(
        email=fields.pop("email", "bezoeker@example.nl"),
        name="Bezoeker",
        lines=[CartLine(performance_id=performance.id, quantity=quantity)],
        **fields,
    )


def placed(ordering, request, client=CLIENT) -> OrderPlaced:
    outcome = ordering.place_and_pay(request, client)
    assert isinstance(outcome, OrderPlaced)
    return outcome


def order_of(new_uow, order_id):
    with new_uow() as uow:
        return uow.orders.get(order_id)


def test_places_the_order_for_the_client_and_opens_its_payment(
    ordering, catalog, new_uow, gateway, contexts
) -> None:
    outcome = placed(ordering, order_request(catalog.performance()), client="x" * 80)

    assert outcome.payment.kind == "redirect"
    [fake] = gateway.payments.values()
    assert outcome.payment.checkout_url == fake.payment.checkout_url
    order = order_of(new_uow, outcome.order.order_id)
    assert order.status is OrderStatus.PENDING
    assert order.client_address == "x" * 64
    assert contexts == [outcome.order.order_id]  # the payment opened inside the order's context


def test_a_refused_checkout_comes_back_as_a_value_and_places_nothing(ordering, catalog) -> None:
    performance = catalog.performance(available=1)

    outcome = ordering.place_and_pay(order_request(performance, quantity=2), CLIENT)

    assert isinstance(outcome, CheckoutRefused)
    assert isinstance(outcome.error, errors.NotEnoughSeats)


def test_only_placed_orders_count_against_the_client_limit(ordering, catalog, clock) -> None:
    performance = catalog.performance()
    bad = order_request(performance, email="geen-adres")
    for _ in range(3):
        refused = ordering.place_and_pay(bad, CLIENT)
        assert isinstance(refused, CheckoutRefused)
        assert isinstance(refused.error, errors.InvalidEmail)
    placed(ordering, order_request(performance))
    placed(ordering, order_request(performance))

    third = ordering.place_and_pay(order_request(performance), CLIENT)

    assert isinstance(third, CheckoutRefused)
    assert isinstance(third.error, errors.TooManyAttempts)
    placed(ordering, order_request(performance), client="198.51.100.1")  # another client
    clock.advance(CHECKOUT_WINDOW)
    placed(ordering, order_request(performance))


def test_no_limit_when_checkouts_per_client_is_zero(ordering, catalog) -> None:
    ordering.checkouts_per_client = 0
    performance = catalog.performance()
    for _ in range(4):
        placed(ordering, order_request(performance, quantity=1))


def test_provider_down_defers_and_a_refusing_provider_cancels_the_order(
    ordering, catalog, gateway, new_uow
) -> None:
    performance = catalog.performance()
    gateway.down = True
    deferred = placed(ordering, order_request(performance))
    gateway.down = False
    gateway.refuse = True
    refused = placed(ordering, order_request(performance))

    assert deferred.payment.kind == "deferred"
    assert order_of(new_uow, deferred.order.order_id).status is OrderStatus.PENDING
    assert refused.payment.kind == "refused"
    assert order_of(new_uow, refused.order.order_id).status is OrderStatus.CANCELLED


def test_pay_reuses_the_open_payment(ordering, catalog, gateway, contexts) -> None:
    outcome = placed(ordering, order_request(catalog.performance()))

    again = ordering.pay(outcome.order.order_id)

    assert again.kind == "redirect"
    assert again.checkout_url == outcome.payment.checkout_url
    assert gateway.create_calls == 1
    assert contexts == [outcome.order.order_id] * 2


def test_the_order_view_lists_the_lines_soonest_first_with_the_open_payment(
    ordering, views, catalog
) -> None:
    later = catalog.performance(catalog.show("Later"), starts_in=timedelta(days=9))
    sooner = catalog.performance(catalog.show("Eerder"), starts_in=timedelta(days=2))
    request = CheckoutRequest(
        email="bezoeker@example.nl",
        name="Bezoeker",
        lines=[
            CartLine(performance_id=later.id, quantity=1),
            CartLine(performance_id=sooner.id, quantity=3),
        ],
    )
    outcome = placed(ordering, request)

    view = views.find(outcome.order.secret)

    assert view is not None
    assert view.is_pending
    assert view.has_payment
    assert view.payment_url == outcome.payment.checkout_url
    assert [(line.show_title, line.quantity) for line in view.lines] == [
        ("Eerder", 3),
        ("Later", 1),
    ]
    assert view.lines[0].total == sooner.price * 3
    assert views.find("onbekend-geheim") is None


def test_an_expired_payment_is_no_longer_offered(ordering, views, catalog, clock, new_uow) -> None:
    outcome = placed(ordering, order_request(catalog.performance()))
    with new_uow() as uow:
        payment = uow.payments.latest_for_order(outcome.order.order_id)
        payment.expires_at = clock.now() + timedelta(minutes=10)
        uow.payments.update(payment)
        uow.commit()

    clock.advance(timedelta(minutes=10))

    assert views.find(outcome.order.secret).payment_url is None


def test_the_current_view_asks_the_provider_while_the_order_waits(
    ordering, views, catalog, gateway
) -> None:
    outcome = placed(ordering, order_request(catalog.performance()))
    [provider_id] = gateway.payments
    gateway.set_status(provider_id, PaymentStatus.PAID)

    assert views.find(outcome.order.secret).status is OrderStatus.PENDING
    assert views.current(outcome.order.secret).status is OrderStatus.PAID


def test_account_orders_are_the_users_own(ordering, views, catalog) -> None:
    user_id = uuid.uuid4()
    performance = catalog.performance()
    mine = placed(ordering, order_request(performance, quantity=3, user_id=user_id))
    placed(ordering, order_request(performance, user_id=uuid.uuid4()))

    [line] = views.account_orders(user_id, limit=10)

    assert (line.order_id, line.tickets, line.tickets_ready) == (mine.order.order_id, 3, False)


def test_a_webhook_for_one_of_our_payments_queues_one_sync(
    ordering, payments, catalog, gateway, new_uow
) -> None:
    placed(ordering, order_request(catalog.performance()))
    [provider_id] = gateway.payments

    assert payments.receive_webhook("tr_onbekend") is False
    assert payments.receive_webhook(provider_id) is True
    assert payments.receive_webhook(provider_id) is True
    with new_uow() as uow:
        [job] = uow.jobs.list(job_type=JobType.PAYMENT_WEBHOOK)
    assert job.data == {"provider_payment_id": provider_id}
