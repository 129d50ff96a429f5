"""What only the Mollie adapter does: HTTP, timeouts, the wire format, the API key."""

from __future__ import annotations

import logging
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mierloos_adapters.mollie import MolliePaymentGateway
from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure
from mierloos_core.model.money import Money
from mierloos_core.model.payments import PaymentRequest, PaymentStatus
from tests.integration.payments.mollie_server import DEFAULT_API_KEY, MollieServer

UNKNOWN_BUT_WELL_FORMED_KEY = "test_someOtherAccount9876543210zyx"
MOLLIE_TIMEOUT = 2.0


def payment_request(amount: str = "12.50", key: str | None = None) -> PaymentRequest:
    order_id = uuid.uuid4()
    return PaymentRequest(
        order_id=order_id,
        amount=Money.euros(amount),
        description="Ons Mierloos Theater, bestelling OMT-7K3QX9PD",
        redirect_url=f"https://tickets.example/bestelling/{order_id}?s=abc",
        webhook_url="https://tickets.example/webhooks/mollie",
        idempotency_key=key or f"payment-{order_id}",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- wire format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "wire_value", "cents"),
    [
        ("0.01", "0.01", 1),
        ("12.5", "12.50", 1250),
        ("1234.56", "1234.56", 123456),
        ("7", "7.00", 700),
    ],
)
def test_amounts_are_sent_in_euros_with_two_decimals(
    mollie_server: MollieServer,
    mollie_gateway: MolliePaymentGateway,
    amount: str,
    wire_value: str,
    cents: int,
) -> None:
    payment = mollie_gateway.create_payment(payment_request(amount))

    (sent,) = mollie_server.creates()
    assert sent.body["amount"] == {"currency": "EUR", "value": wire_value}
    assert payment.amount == Money(cents)


def test_create_sends_exactly_the_urls_description_and_order_metadata(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    request = payment_request("25.00")

    mollie_gateway.create_payment(request)

    (sent,) = mollie_server.creates()
    assert sent.path == "/v2/payments"
    assert sent.body == {
        "amount": {"currency": "EUR", "value": "25.00"},
        "description": request.description,
        "redirectUrl": request.redirect_url,
        "webhookUrl": request.webhook_url,
        "metadata": {"order_id": str(request.order_id)},
    }
    assert sent.headers["idempotency-key"] == request.idempotency_key
    assert sent.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"


def test_create_reports_the_expiry_mollie_gives_as_aware_utc(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    payment = mollie_gateway.create_payment(payment_request())

    stored = mollie_server.payments[payment.provider_payment_id]
    assert payment.expires_at == datetime.fromisoformat(stored["expiresAt"])
    assert payment.expires_at is not None
    assert payment.expires_at.utcoffset() == timedelta(0)
    assert before + timedelta(minutes=14) < payment.expires_at <= before + timedelta(minutes=16)
    assert payment.checkout_url == stored["_links"]["checkout"]["href"]


def test_a_paid_payment_has_no_checkout_url_left(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    created = mollie_gateway.create_payment(payment_request())
    mollie_server.set_status(created.provider_payment_id, "paid")

    fetched = mollie_gateway.get_payment(created.provider_payment_id)

    assert fetched.status is PaymentStatus.PAID
    assert fetched.checkout_url is None


def test_a_payment_without_order_metadata_has_no_order_id(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    created = mollie_gateway.create_payment(payment_request())
    mollie_server.payments[created.provider_payment_id]["metadata"] = None

    fetched = mollie_gateway.get_payment(created.provider_payment_id)

    assert fetched.order_id is None


def test_get_of_a_malformed_id_is_not_found_without_asking_mollie(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    with pytest.raises(NotFound):
        mollie_gateway.get_payment("ord_notapayment")

    assert mollie_server.received == []


# -- failures ---------------------------------------------------------------------------------


def test_a_timeout_raises_dependency_unavailable_within_the_configured_timeout(
    mollie_server: MollieServer,
) -> None:
    timeout = 0.5
    gateway = MolliePaymentGateway(
        DEFAULT_API_KEY, api_endpoint=mollie_server.base_url, timeout=timeout
    )
    mollie_server.delay_seconds = timeout + 1.5

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        gateway.create_payment(payment_request())
    elapsed = time.monotonic() - started

    assert timeout * 0.9 <= elapsed < timeout + 0.75


def test_retrying_after_a_timeout_with_the_same_key_leaves_one_payment(
    mollie_server: MollieServer,
) -> None:
    gateway = MolliePaymentGateway(
        DEFAULT_API_KEY, api_endpoint=mollie_server.base_url, timeout=0.3
    )
    request = payment_request()
    mollie_server.delay_seconds = 0.8
    with pytest.raises(DependencyUnavailable):
        gateway.create_payment(request)
    mollie_server.delay_seconds = 0.0

    retried = gateway.create_payment(request)
    assert mollie_server.wait_idle(timeout=5)

    assert list(mollie_server.payments) == [retried.provider_payment_id]
    assert len(mollie_server.creates()) == 2


def test_create_succeeds_once_mollie_recovers_from_503s(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    request = payment_request()
    mollie_server.fail_next_creates = 2

    for _ in range(2):
        with pytest.raises(DependencyUnavailable):
            mollie_gateway.create_payment(request)
    payment = mollie_gateway.create_payment(request)

    assert payment.status is PaymentStatus.OPEN
    assert list(mollie_server.payments) == [payment.provider_payment_id]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_raise_dependency_unavailable(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway, status: int
) -> None:
    created = mollie_gateway.create_payment(payment_request())
    mollie_server.error_status = status

    with pytest.raises(DependencyUnavailable) as on_get:
        mollie_gateway.get_payment(created.provider_payment_id)
    with pytest.raises(DependencyUnavailable) as on_create:
        mollie_gateway.create_payment(payment_request())

    assert on_get.value.details["status"] == status
    assert on_create.value.details["status"] == status


def test_an_html_error_page_from_a_proxy_raises_dependency_unavailable(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    mollie_server.error_status = 502
    mollie_server.error_as_html = True

    with pytest.raises(DependencyUnavailable) as caught:
        mollie_gateway.create_payment(payment_request())

    assert caught.value.details["status"] == 502


def test_an_unreachable_mollie_raises_dependency_unavailable() -> None:
    gateway = MolliePaymentGateway(
        DEFAULT_API_KEY, api_endpoint=f"http://127.0.0.1:{free_port()}", timeout=MOLLIE_TIMEOUT
    )

    with pytest.raises(DependencyUnavailable):
        gateway.create_payment(payment_request())
    with pytest.raises(DependencyUnavailable):
        gateway.get_payment("tr_abcdefghij")


def test_a_validation_error_raises_permanent_failure_with_mollies_field(
    mollie_server: MollieServer, mollie_gateway: MolliePaymentGateway
) -> None:
    mollie_server.refuse_creates = True

    with pytest.raises(PermanentFailure) as caught:
        mollie_gateway.create_payment(payment_request())

    assert caught.value.details["status"] == 422
    assert caught.value.details["field"] == "amount"
    assert "test server" not in caught.value.message  # the provider's words stay in details
    assert mollie_server.payments == {}


def test_a_key_mollie_does_not_know_raises_permanent_failure(
    mollie_server: MollieServer,
) -> None:
    gateway = MolliePaymentGateway(
        UNKNOWN_BUT_WELL_FORMED_KEY, api_endpoint=mollie_server.base_url, timeout=MOLLIE_TIMEOUT
    )

    with pytest.raises(PermanentFailure) as caught:
        gateway.create_payment(payment_request())

    assert caught.value.details["status"] == 401
    assert UNKNOWN_BUT_WELL_FORMED_KEY not in str(caught.value)
    assert mollie_server.payments == {}


# -- the API key ------------------------------------------------------------------------------


def test_the_api_key_never_appears_in_logs_or_errors(
    mollie_server: MollieServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = MolliePaymentGateway(
        DEFAULT_API_KEY, api_endpoint=mollie_server.base_url, timeout=0.3
    )
    errors: list[Exception] = []

    def collect_error(call: Callable[[], object]) -> None:
        try:
            call()
        except (DependencyUnavailable, PermanentFailure, NotFound) as exc:
            errors.append(exc)

    request = payment_request()
    created = gateway.create_payment(request)
    gateway.create_payment(request)  # an idempotent replay, which the client logs
    gateway.get_payment(created.provider_payment_id)
    mollie_server.error_status = 503
    collect_error(lambda: gateway.create_payment(payment_request()))
    mollie_server.reset()
    mollie_server.refuse_creates = True
    collect_error(lambda: gateway.create_payment(payment_request()))
    mollie_server.reset()
    mollie_server.delay_seconds = 1.0
    collect_error(lambda: gateway.create_payment(payment_request()))
    mollie_server.reset()
    collect_error(lambda: gateway.get_payment("tr_unknown1234"))
    wrong_key = MolliePaymentGateway(
        UNKNOWN_BUT_WELL_FORMED_KEY, api_endpoint=mollie_server.base_url, timeout=0.3
    )
    collect_error(lambda: wrong_key.create_payment(payment_request()))

    assert [type(e) for e in errors] == [
        DependencyUnavailable,
        PermanentFailure,
        DependencyUnavailable,
        NotFound,
        PermanentFailure,
    ]
    assert "mollie:" in caplog.text  # the adapter did log, so the check below means something
    for secret in (DEFAULT_API_KEY, UNKNOWN_BUT_WELL_FORMED_KEY):
        assert secret not in caplog.text
        for error in errors:
            assert secret not in "".join(traceback.format_exception(error))
            assert secret not in repr(getattr(error, "details", {}))
    assert DEFAULT_API_KEY not in repr(gateway)


@pytest.mark.parametrize(
    "bad_key",
    [
        "test_tooShort123",
        "prod_abcdefghijklmnopqrstuvwxyz0123456789",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "test_abcdefghijklmnop qrstuvwxyz0123456789",
        "live_abcdefghijklmnopqrstuvwxyz-0123456789",
    ],
)
def test_a_badly_formed_api_key_is_refused_without_being_echoed(bad_key: str) -> None:
    with pytest.raises(ValueError, match="test_") as caught:
        MolliePaymentGateway(bad_key)

    assert bad_key not in str(caught.value)
    assert bad_key.strip()[5:] not in str(caught.value)


def test_an_empty_api_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 30 characters"):
        MolliePaymentGateway("")


def test_a_well_formed_key_with_surrounding_whitespace_is_accepted(
    mollie_server: MollieServer,
) -> None:
    gateway = MolliePaymentGateway(f"  {DEFAULT_API_KEY}\n", api_endpoint=mollie_server.base_url)

    payment = gateway.create_payment(payment_request())

    assert payment.provider_payment_id in mollie_server.payments
    assert gateway.name == "mollie"
