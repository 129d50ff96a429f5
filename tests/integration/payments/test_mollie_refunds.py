"""Refunds at Mollie over HTTP: what is sent, and the answers that are not in the contract."""

from __future__ import annotations

import uuid

import pytest

from mierloos_adapters.mollie import MolliePaymentGateway
from mierloos_core.errors import DependencyUnavailable, PermanentFailure
from mierloos_core.model.money import Money
from mierloos_core.model.payments import (
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
    RefundRequest,
    RefundStatus,
)
from tests.integration.payments.conftest import MOLLIE_TIMEOUT
from tests.integration.payments.mollie_server import MollieServer


def paid(server: MollieServer, gateway: MolliePaymentGateway) -> ProviderPayment:
    order_id = uuid.uuid4()
    payment = gateway.create_payment(
        PaymentRequest(
            order_id=order_id,
            amount=Money.euros("30.00"),
            description="Ons Mierloos Theater bestelling",
            redirect_url="https://tickets.example/bestelling/x",
            webhook_url="https://tickets.example/webhooks/mollie",
            idempotency_key=f"payment-{order_id}",
        )
    )
    server.set_status(payment.provider_payment_id, "paid")
    return payment


def refund(payment: ProviderPayment, amount: str = "12.50", key: str = "refund-1") -> RefundRequest:
    return RefundRequest(
        provider_payment_id=payment.provider_payment_id,
        amount=Money.euros(amount),
        description="Ons Mierloos Theater terugbetaling bestelling 123",
        idempotency_key=key,
    )


def test_a_refund_posts_mollies_amount_description_and_idempotency_key(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    payment = paid(mollie_server, mollie_gateway)

    created = mollie_gateway.create_refund(refund(payment, "12.50", key="refund-abc"))

    [sent] = mollie_server.refund_creates()
    assert sent.path == f"/v2/payments/{payment.provider_payment_id}/refunds"
    assert sent.body["amount"] == {"currency": "EUR", "value": "12.50"}
    assert sent.body["description"] == "Ons Mierloos Theater terugbetaling bestelling 123"
    assert sent.headers["idempotency-key"] == "refund-abc"
    assert created.status is RefundStatus.PENDING


def test_a_refund_that_outlasts_the_timeout_is_found_again_with_its_key(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    payment = paid(mollie_server, mollie_gateway)
    mollie_server.delay_seconds = MOLLIE_TIMEOUT + 0.5

    with pytest.raises(DependencyUnavailable):
        mollie_gateway.create_refund(refund(payment, key="refund-slow"))
    assert mollie_server.wait_idle(timeout=MOLLIE_TIMEOUT + 5)
    mollie_server.delay_seconds = 0
    made_meanwhile = next(iter(mollie_server.refunds))

    again = mollie_gateway.create_refund(refund(payment, key="refund-slow"))

    assert again.provider_refund_id == made_meanwhile
    assert len(mollie_server.refunds) == 1


@pytest.mark.parametrize("status", [409, 429, 500, 502, 503])
def test_busy_or_broken_mollie_answers_make_a_refund_unavailable_not_refused(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway, status: int
) -> None:
    payment = paid(mollie_server, mollie_gateway)
    mollie_server.error_status = status

    with pytest.raises(DependencyUnavailable):
        mollie_gateway.create_refund(refund(payment))


@pytest.mark.parametrize("status", [409, 502])
def test_a_proxy_error_page_makes_a_refund_unavailable(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway, status: int
) -> None:
    payment = paid(mollie_server, mollie_gateway)
    mollie_server.error_status = status
    mollie_server.error_as_html = True

    with pytest.raises(DependencyUnavailable):
        mollie_gateway.create_refund(refund(payment))


def test_a_refund_of_a_payment_mollie_does_not_know_is_refused(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    unknown = ProviderPayment(
        provider_payment_id="tr_unknown123",
        status=PaymentStatus.PAID,
        amount=Money(3000),
        order_id=None,
    )

    with pytest.raises(PermanentFailure):
        mollie_gateway.create_refund(refund(unknown))
