"""The PaymentGateway contract: the same assertions for the memory fake and the Mollie adapter.

Each provider comes with a driver that plays the provider's side: the customer paying, the
provider going down, the provider refusing.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Protocol

import pytest

from mierloos_adapters.fake_payments import FakePaymentProvider
from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_adapters.mollie import MolliePaymentGateway
from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure
from mierloos_core.model.money import Money
from mierloos_core.model.payments import (
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
    RefundRequest,
    RefundStatus,
)
from mierloos_core.ports import PaymentGateway
from tests.integration.payments.mollie_server import MollieServer


class ProviderDriver(Protocol):
    gateway: PaymentGateway

    def change_status(self, provider_payment_id: str, status: PaymentStatus) -> None: ...
    def go_down(self) -> None: ...
    def refuse_payments(self) -> None: ...
    def payment_count(self) -> int: ...
    def change_refund_status(self, provider_refund_id: str, status: RefundStatus) -> None: ...
    def refuse_refunds(self) -> None: ...
    def refund_count(self) -> int: ...


class MemoryDriver:
    def __init__(self) -> None:
        self.fake = MemoryPaymentGateway()
        self.gateway: PaymentGateway = self.fake

    def change_status(self, provider_payment_id: str, status: PaymentStatus) -> None:
        self.fake.set_status(provider_payment_id, status)

    def go_down(self) -> None:
        self.fake.down = True

    def refuse_payments(self) -> None:
        self.fake.refuse = True

    def payment_count(self) -> int:
        return len(self.fake.payments)

    def change_refund_status(self, provider_refund_id: str, status: RefundStatus) -> None:
        self.fake.set_refund_status(provider_refund_id, status)

    def refuse_refunds(self) -> None:
        self.fake.refuse = True

    def refund_count(self) -> int:
        return len(self.fake.refunds)


class MollieDriver:
    def __init__(self, server: MollieServer, gateway: MolliePaymentGateway) -> None:
        self.server = server
        self.gateway: PaymentGateway = gateway

    def change_status(self, provider_payment_id: str, status: PaymentStatus) -> None:
        self.server.set_status(provider_payment_id, status.value)

    def go_down(self) -> None:
        self.server.error_status = 503

    def refuse_payments(self) -> None:
        self.server.refuse_creates = True

    def payment_count(self) -> int:
        return len(self.server.payments)

    def change_refund_status(self, provider_refund_id: str, status: RefundStatus) -> None:
        self.server.set_refund_status(provider_refund_id, status.value)

    def refuse_refunds(self) -> None:
        self.server.refuse_refunds = True

    def refund_count(self) -> int:
        return len(self.server.refunds)


class FakeProviderDriver:
    """The embedded default's provider, steered through the files it reads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.fake = FakePaymentProvider(directory, base_url="http://127.0.0.1:8000")
        self.gateway: PaymentGateway = self.fake

    def change_status(self, provider_payment_id: str, status: PaymentStatus) -> None:
        self.fake.set_status(provider_payment_id, status)

    def go_down(self) -> None:
        (self.directory / "down").touch()

    def refuse_payments(self) -> None:
        (self.directory / "refuse").touch()

    def payment_count(self) -> int:
        return len(list(self.directory.glob("tr_fake*.json")))

    def change_refund_status(self, provider_refund_id: str, status: RefundStatus) -> None:
        self.fake.set_refund_status(provider_refund_id, status)

    def refuse_refunds(self) -> None:
        (self.directory / "refuse").touch()

    def refund_count(self) -> int:
        return len(list(self.directory.glob("re_fake*.json")))


@pytest.fixture(params=["memory", "fake", "mollie"])
def provider(request: pytest.FixtureRequest, tmp_path: Path) -> ProviderDriver:
    if request.param == "memory":
        return MemoryDriver()
    if request.param == "fake":
        return FakeProviderDriver(tmp_path / "fake-payments")
    server: MollieServer = request.getfixturevalue("mollie_server")
    gateway: MolliePaymentGateway = request.getfixturevalue("mollie_gateway")
    return MollieDriver(server, gateway)


def payment_request(
    amount: str = "12.50", *, order_id: uuid.UUID | None = None, key: str | None = None
) -> PaymentRequest:
    order_id = order_id or uuid.uuid4()
    return PaymentRequest(
        order_id=order_id,
        amount=Money.euros(amount),
        description=f"Ons Mierloos Theater, bestelling {str(order_id)[:8]}",
        redirect_url=f"https://tickets.example/bestelling/{order_id}",
        webhook_url="https://tickets.example/webhooks/mollie",
        idempotency_key=key or f"payment-{order_id}",
    )


def test_create_opens_a_payment_with_checkout_url_amount_and_order(
    provider: ProviderDriver,
) -> None:
    request = payment_request("12.50")

    payment = provider.gateway.create_payment(request)

    assert payment.provider_payment_id.startswith("tr_")
    assert payment.status is PaymentStatus.OPEN
    assert payment.checkout_url is not None
    assert payment.checkout_url.startswith(("http://", "https://"))
    assert payment.amount == Money(1250)
    assert payment.order_id == request.order_id
    assert provider.payment_count() == 1


def test_the_same_idempotency_key_twice_gives_one_payment(provider: ProviderDriver) -> None:
    request = payment_request()

    first = provider.gateway.create_payment(request)
    second = provider.gateway.create_payment(request)

    assert second.provider_payment_id == first.provider_payment_id
    assert second.order_id == request.order_id
    assert provider.payment_count() == 1


def test_different_idempotency_keys_give_different_payments(provider: ProviderDriver) -> None:
    first = provider.gateway.create_payment(payment_request(key="order-a"))
    second = provider.gateway.create_payment(payment_request(key="order-b"))

    assert first.provider_payment_id != second.provider_payment_id
    assert provider.payment_count() == 2


def test_get_returns_an_open_payment_as_created(provider: ProviderDriver) -> None:
    request = payment_request("1234.56")
    created = provider.gateway.create_payment(request)

    fetched = provider.gateway.get_payment(created.provider_payment_id)

    assert fetched.provider_payment_id == created.provider_payment_id
    assert fetched.status is PaymentStatus.OPEN
    assert fetched.amount == Money(123456)
    assert fetched.order_id == request.order_id
    assert fetched.checkout_url == created.checkout_url


def test_cancel_makes_an_open_payment_canceled_and_unpayable(provider: ProviderDriver) -> None:
    created = provider.gateway.create_payment(payment_request())
    assert created.cancelable

    canceled = provider.gateway.cancel_payment(created.provider_payment_id)
    again = provider.gateway.cancel_payment(created.provider_payment_id)

    assert canceled.status is PaymentStatus.CANCELED
    assert not canceled.cancelable
    assert canceled.checkout_url is None
    assert again.status is PaymentStatus.CANCELED
    assert provider.gateway.get_payment(created.provider_payment_id).status is (
        PaymentStatus.CANCELED
    )


def test_cancel_leaves_a_paid_payment_paid(provider: ProviderDriver) -> None:
    created = provider.gateway.create_payment(payment_request())
    provider.change_status(created.provider_payment_id, PaymentStatus.PAID)

    answer = provider.gateway.cancel_payment(created.provider_payment_id)

    assert answer.status is PaymentStatus.PAID
    assert provider.gateway.get_payment(created.provider_payment_id).status is PaymentStatus.PAID


def test_cancel_of_an_unknown_payment_is_not_found(provider: ProviderDriver) -> None:
    with pytest.raises(NotFound):
        provider.gateway.cancel_payment("tr_unknown0000")


def test_cancel_while_the_provider_is_down_is_unavailable(provider: ProviderDriver) -> None:
    created = provider.gateway.create_payment(payment_request())
    provider.go_down()

    with pytest.raises(DependencyUnavailable):
        provider.gateway.cancel_payment(created.provider_payment_id)


@pytest.mark.parametrize(
    "status",
    [PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED],
)
def test_get_reports_the_status_the_provider_moved_the_payment_to(
    provider: ProviderDriver, status: PaymentStatus
) -> None:
    request = payment_request()
    created = provider.gateway.create_payment(request)

    provider.change_status(created.provider_payment_id, status)
    fetched = provider.gateway.get_payment(created.provider_payment_id)

    assert fetched.status is status
    assert fetched.provider_payment_id == created.provider_payment_id
    assert fetched.order_id == request.order_id
    assert fetched.amount == request.amount


@pytest.mark.parametrize("unknown_id", ["tr_doesnotexist", "not-a-payment-id"])
def test_get_of_an_unknown_payment_raises_not_found(
    provider: ProviderDriver, unknown_id: str
) -> None:
    with pytest.raises(NotFound):
        provider.gateway.get_payment(unknown_id)


def test_create_while_the_provider_is_down_raises_dependency_unavailable(
    provider: ProviderDriver,
) -> None:
    provider.go_down()

    with pytest.raises(DependencyUnavailable):
        provider.gateway.create_payment(payment_request())

    assert provider.payment_count() == 0


def test_get_while_the_provider_is_down_raises_dependency_unavailable(
    provider: ProviderDriver,
) -> None:
    created = provider.gateway.create_payment(payment_request())
    provider.go_down()

    with pytest.raises(DependencyUnavailable):
        provider.gateway.get_payment(created.provider_payment_id)


def test_create_refused_by_the_provider_raises_permanent_failure(
    provider: ProviderDriver,
) -> None:
    provider.refuse_payments()

    with pytest.raises(PermanentFailure) as caught:
        provider.gateway.create_payment(payment_request())

    assert caught.value.message  # a message safe to show, never empty
    assert provider.payment_count() == 0


# --- refunds ------------------------------------------------------------------------------------


def paid_payment(provider: ProviderDriver, amount: str = "25.00") -> ProviderPayment:
    payment = provider.gateway.create_payment(payment_request(amount))
    provider.change_status(payment.provider_payment_id, PaymentStatus.PAID)
    return payment


def refund_request(
    payment: ProviderPayment, amount: str = "25.00", *, key: str | None = None
) -> RefundRequest:
    return RefundRequest(
        provider_payment_id=payment.provider_payment_id,
        amount=Money.euros(amount),
        description="Ons Mierloos Theater terugbetaling",
        idempotency_key=key or f"refund-{uuid.uuid4()}",
    )


def test_a_refund_of_a_paid_payment_is_accepted_for_its_amount(provider: ProviderDriver) -> None:
    payment = paid_payment(provider, "25.00")

    refund = provider.gateway.create_refund(refund_request(payment, "10.00"))

    assert refund.provider_refund_id.startswith("re_")
    assert refund.provider_payment_id == payment.provider_payment_id
    assert refund.amount == Money(1000)
    assert refund.status.accepted
    assert provider.refund_count() == 1


def test_the_same_refund_key_twice_refunds_once(provider: ProviderDriver) -> None:
    payment = paid_payment(provider)
    request = refund_request(payment, "25.00", key="refund-once")

    first = provider.gateway.create_refund(request)
    second = provider.gateway.create_refund(request)

    assert second.provider_refund_id == first.provider_refund_id
    assert provider.refund_count() == 1


def test_partial_refunds_add_up_to_the_payment_and_no_further(provider: ProviderDriver) -> None:
    payment = paid_payment(provider, "25.00")
    provider.gateway.create_refund(refund_request(payment, "10.00"))
    provider.gateway.create_refund(refund_request(payment, "15.00"))

    with pytest.raises(PermanentFailure):
        provider.gateway.create_refund(refund_request(payment, "0.01"))

    assert provider.refund_count() == 2


def test_a_refund_larger_than_the_payment_is_refused(provider: ProviderDriver) -> None:
    payment = paid_payment(provider, "25.00")

    with pytest.raises(PermanentFailure) as caught:
        provider.gateway.create_refund(refund_request(payment, "25.01"))

    assert caught.value.message
    assert provider.refund_count() == 0


def test_a_refund_of_an_unpaid_payment_is_refused(provider: ProviderDriver) -> None:
    payment = provider.gateway.create_payment(payment_request("25.00"))

    with pytest.raises(PermanentFailure):
        provider.gateway.create_refund(refund_request(payment, "5.00"))

    assert provider.refund_count() == 0


def test_a_refund_the_provider_refuses_raises_permanent_failure(
    provider: ProviderDriver,
) -> None:
    payment = paid_payment(provider)
    provider.refuse_refunds()

    with pytest.raises(PermanentFailure):
        provider.gateway.create_refund(refund_request(payment, "5.00"))

    assert provider.refund_count() == 0


@pytest.mark.parametrize(
    "status", [RefundStatus.PROCESSING, RefundStatus.REFUNDED, RefundStatus.FAILED]
)
def test_get_refund_reports_the_status_the_provider_moved_it_to(
    provider: ProviderDriver, status: RefundStatus
) -> None:
    payment = paid_payment(provider)
    created = provider.gateway.create_refund(refund_request(payment, "7.50"))

    provider.change_refund_status(created.provider_refund_id, status)
    fetched = provider.gateway.get_refund(payment.provider_payment_id, created.provider_refund_id)

    assert fetched.status is status
    assert fetched.provider_refund_id == created.provider_refund_id
    assert fetched.amount == Money(750)


def test_a_failed_refund_leaves_its_amount_refundable(provider: ProviderDriver) -> None:
    payment = paid_payment(provider, "25.00")
    failed = provider.gateway.create_refund(refund_request(payment, "25.00"))
    provider.change_refund_status(failed.provider_refund_id, RefundStatus.FAILED)

    again = provider.gateway.create_refund(refund_request(payment, "25.00"))

    assert again.provider_refund_id != failed.provider_refund_id
    assert again.status.accepted


@pytest.mark.parametrize("unknown_id", ["re_doesnotexist", "not-a-refund-id"])
def test_get_of_an_unknown_refund_raises_not_found(
    provider: ProviderDriver, unknown_id: str
) -> None:
    payment = paid_payment(provider)

    with pytest.raises(NotFound):
        provider.gateway.get_refund(payment.provider_payment_id, unknown_id)


def test_refund_while_the_provider_is_down_raises_dependency_unavailable(
    provider: ProviderDriver,
) -> None:
    payment = paid_payment(provider)
    provider.go_down()

    with pytest.raises(DependencyUnavailable):
        provider.gateway.create_refund(refund_request(payment, "5.00"))

    assert provider.refund_count() == 0


def test_get_refund_while_the_provider_is_down_raises_dependency_unavailable(
    provider: ProviderDriver,
) -> None:
    payment = paid_payment(provider)
    created = provider.gateway.create_refund(refund_request(payment, "5.00"))
    provider.go_down()

    with pytest.raises(DependencyUnavailable):
        provider.gateway.get_refund(payment.provider_payment_id, created.provider_refund_id)
