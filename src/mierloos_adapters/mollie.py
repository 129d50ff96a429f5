"""The PaymentGateway port over Mollie's Payments API, with the official mollie-api-python client.

Errors are translated to the core's:

- connection errors, timeouts, 409, 429 and 5xx answers -> ``DependencyUnavailable`` (try
  again later; 409 is Mollie's answer to a request whose idempotency key is still in flight);
- other 4xx answers (401 bad key, 422 validation, ...) -> ``PermanentFailure``;
- 404 on a payment or refund lookup -> ``NotFound`` (on a refund's creation: a refusal).

The API key lives only inside the mollie client objects: it is never logged, never put into an
exception message and never shown by ``repr``.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import InvalidOperation
from typing import Any, NoReturn

from mollie.api.client import Client
from mollie.api.error import (
    Error,
    IdentifierError,
    RequestError,
    RequestSetupError,
    ResponseError,
    ResponseHandlingError,
)
from mollie.api.objects.payment import Payment as MolliePayment
from mollie.api.resources.refunds import PaymentRefunds

from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure
from mierloos_core.model import payments as model
from mierloos_core.model.money import Money

logger = logging.getLogger(__name__)

_KEY_PATTERN = re.compile(r"(test|live)_\w+")
_MIN_KEY_LENGTH = 30
_PAYMENT_ID_PREFIX = "tr_"
_REFUND_ID_PREFIX = "re_"
_STATUS_IN_MESSAGE = re.compile(r"status code: (\d{3})")

_UNAVAILABLE = "De betaalprovider is tijdelijk niet bereikbaar."
_REFUSED = "De betaalprovider weigerde het verzoek."
_UNKNOWN_PAYMENT = "Deze betaling is niet bekend bij de betaalprovider."
_UNKNOWN_REFUND = "Deze terugbetaling is niet bekend bij de betaalprovider."


def _check_api_key(api_key: object) -> str:
    """The key, stripped, or a ValueError that describes the problem without echoing the key."""
    if not isinstance(api_key, str):
        raise ValueError("The Mollie API key must be a string.")
    key = api_key.strip()
    if not _KEY_PATTERN.fullmatch(key) or len(key) < _MIN_KEY_LENGTH:
        raise ValueError(
            "Invalid Mollie API key: it must start with 'test_' or 'live_', contain only "
            f"letters, digits and underscores, and be at least {_MIN_KEY_LENGTH} characters "
            f"long (the given value has {len(key)} characters)."
        )
    return key


class MolliePaymentGateway:
    """Payments at Mollie.

    ``api_endpoint`` replaces ``https://api.mollie.com`` (tests point it at a local server);
    ``timeout`` (seconds) bounds connecting and each wait for the answer;
    ``connect_retries`` is how often the client retries a failed *connect* over https
    (answers and read timeouts are never retried here: the caller's job retries with backoff,
    and the idempotency key makes that safe).
    """

    name = "mollie"

    def __init__(
        self,
        api_key: str,
        *,
        api_endpoint: str | None = None,
        timeout: float = 10.0,
        connect_retries: int = 1,
    ) -> None:
        self._api_key = _check_api_key(api_key)
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if connect_retries < 0:
            raise ValueError("connect_retries must not be negative")
        self._api_endpoint = api_endpoint or ""
        self._timeout = timeout
        self._connect_retries = connect_retries
        # A mollie Client holds a requests.Session, which is not meant to be shared between
        # threads: every worker thread gets its own client.
        self._local = threading.local()
        self.mode = "live" if self._api_key.startswith("live_") else "test"

    def __repr__(self) -> str:
        endpoint = self._api_endpoint or Client.API_ENDPOINT
        return f"MolliePaymentGateway(mode={self.mode!r}, api_endpoint={endpoint!r})"

    def _client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                api_endpoint=self._api_endpoint,
                timeout=self._timeout,  # type: ignore[arg-type]  # requests accepts floats
                retry=self._connect_retries,
            )
            try:
                client.set_api_key(self._api_key)
            except RequestSetupError:
                # The library's message contains the key: never let it out.
                raise ValueError("The Mollie client refused the API key.") from None
            self._local.client = client
        return client

    def create_payment(self, request: model.PaymentRequest) -> model.ProviderPayment:
        data: dict[str, Any] = {
            "amount": {"currency": "EUR", "value": request.amount.provider_value()},
            "description": request.description,
            "redirectUrl": request.redirect_url,
            "webhookUrl": request.webhook_url,
            "metadata": {"order_id": str(request.order_id)},
        }
        logger.info(
            "mollie: creating payment of %s for order %s",
            request.amount.provider_value(),
            request.order_id,
        )
        try:
            result = self._client().payments.create(data, idempotency_key=request.idempotency_key)
        except Error as exc:
            self._translate(exc, action="create", order_id=str(request.order_id))
        payment = self._to_provider_payment(result)
        logger.info(
            "mollie: payment %s for order %s is %s",
            payment.provider_payment_id,
            request.order_id,
            payment.status,
        )
        return payment

    def verify_credentials(self) -> None:
        """One authenticated read (the newest payment, if any): proves the key and the address.

        Raises PermanentFailure when Mollie refuses the key, DependencyUnavailable when it does
        not answer.
        """
        try:
            self._client().payments.list(limit=1)
        except Error as exc:
            self._translate(exc, action="list")

    def get_payment(self, provider_payment_id: str) -> model.ProviderPayment:
        if not provider_payment_id.startswith(_PAYMENT_ID_PREFIX):
            # Mollie has no such payment; the client would refuse to ask anyway.
            raise NotFound(_UNKNOWN_PAYMENT, provider_payment_id=provider_payment_id)
        try:
            result = self._client().payments.get(provider_payment_id)
        except Error as exc:
            self._translate(exc, action="get", provider_payment_id=provider_payment_id)
        return self._to_provider_payment(result)

    def cancel_payment(self, provider_payment_id: str) -> model.ProviderPayment:
        current = self.get_payment(provider_payment_id)
        if not current.cancelable:
            return current  # paid, pending at the bank or closed: Mollie would answer 422
        logger.info("mollie: cancelling payment %s", provider_payment_id)
        try:
            result = self._client().payments.delete(provider_payment_id)
        except Error as exc:
            if isinstance(exc, ResponseError) and exc.status == 422:
                # No longer cancelable since we looked (paid meanwhile): report what it is.
                return self.get_payment(provider_payment_id)
            self._translate(exc, action="cancel", provider_payment_id=provider_payment_id)
        return self._to_provider_payment(result)

    def create_refund(self, request: model.RefundRequest) -> model.ProviderRefund:
        data: dict[str, Any] = {
            "amount": {"currency": "EUR", "value": request.amount.provider_value()},
            "description": request.description,
        }
        logger.info(
            "mollie: refunding %s of payment %s",
            request.amount.provider_value(),
            request.provider_payment_id,
        )
        if not request.provider_payment_id.startswith(_PAYMENT_ID_PREFIX):
            raise PermanentFailure(
                _UNKNOWN_PAYMENT, provider_payment_id=request.provider_payment_id
            )
        try:
            result = self._refunds(request.provider_payment_id).create(
                data, idempotency_key=request.idempotency_key
            )
        except Error as exc:
            self._translate(exc, action="refund", provider_payment_id=request.provider_payment_id)
        refund = self._to_provider_refund(result, request.provider_payment_id)
        logger.info(
            "mollie: refund %s of payment %s is %s",
            refund.provider_refund_id,
            request.provider_payment_id,
            refund.status,
        )
        return refund

    def get_refund(self, provider_payment_id: str, provider_refund_id: str) -> model.ProviderRefund:
        if not provider_payment_id.startswith(_PAYMENT_ID_PREFIX) or not (
            provider_refund_id.startswith(_REFUND_ID_PREFIX)
        ):
            raise NotFound(_UNKNOWN_REFUND, provider_refund_id=provider_refund_id)
        try:
            result = self._refunds(provider_payment_id).get(provider_refund_id)
        except Error as exc:
            self._translate(
                exc,
                action="get_refund",
                provider_payment_id=provider_payment_id,
                provider_refund_id=provider_refund_id,
            )
        return self._to_provider_refund(result, provider_payment_id)

    def _refunds(self, provider_payment_id: str) -> PaymentRefunds:
        # The payment's refunds endpoint, without first fetching the payment itself.
        client = self._client()
        payment = MolliePayment({"id": provider_payment_id}, client)  # type: ignore[no-untyped-call]
        return PaymentRefunds(client, payment)

    def _translate(self, exc: Error, *, action: str, **context: str) -> NoReturn:
        """Raise the domain error for a failed call to Mollie."""
        if isinstance(exc, IdentifierError):
            raise NotFound(_UNKNOWN_PAYMENT, provider="mollie", **context) from None
        if isinstance(exc, RequestSetupError):
            # Setup errors may quote the API key: do not chain them.
            logger.error("mollie: %s refused by the client library before sending", action)
            raise PermanentFailure(_REFUSED, provider="mollie", **context) from None
        if isinstance(exc, ResponseError):
            status = int(exc.status) if exc.status is not None else 0
            detail = str(exc)
            if status == 404 and action == "get":
                raise NotFound(_UNKNOWN_PAYMENT, provider="mollie", **context) from exc
            if status == 404 and action == "get_refund":
                raise NotFound(_UNKNOWN_REFUND, provider="mollie", **context) from exc
            if status in (409, 429) or status >= 500:
                logger.warning("mollie: %s failed with HTTP %s: %s", action, status, detail)
                raise DependencyUnavailable(
                    _UNAVAILABLE, provider="mollie", status=status, **context
                ) from exc
            logger.error("mollie: %s refused with HTTP %s: %s", action, status, detail)
            raise PermanentFailure(
                _REFUSED,
                provider="mollie",
                status=status,
                field=exc.field,
                detail=detail,
                **context,
            ) from exc
        if isinstance(exc, ResponseHandlingError):
            # An answer that is not Mollie's JSON: typically a proxy's error page.
            match = _STATUS_IN_MESSAGE.search(str(exc))
            status = int(match.group(1)) if match else 0
            if 400 <= status < 500 and status not in (404, 408, 409, 429):
                logger.error("mollie: %s got an unreadable HTTP %s answer", action, status)
                raise PermanentFailure(
                    _REFUSED, provider="mollie", status=status, **context
                ) from exc
            logger.warning("mollie: %s got an unreadable answer (HTTP %s)", action, status)
            raise DependencyUnavailable(
                _UNAVAILABLE, provider="mollie", status=status, **context
            ) from exc
        if isinstance(exc, RequestError):
            # Connection refused, DNS, TLS, timeouts: the requests exception is wrapped here.
            logger.warning("mollie: %s could not reach Mollie: %s", action, exc)
            raise DependencyUnavailable(_UNAVAILABLE, provider="mollie", **context) from exc
        raise exc

    def _to_provider_payment(self, data: Mapping[str, Any]) -> model.ProviderPayment:
        try:
            amount = data["amount"]
            if amount["currency"] != "EUR":
                raise PermanentFailure(
                    "De betaalprovider gaf een bedrag in een onverwachte munteenheid.",
                    provider="mollie",
                    currency=str(amount["currency"]),
                )
            links = data.get("_links") or {}
            checkout = links.get("checkout") or {}
            return model.ProviderPayment(
                provider_payment_id=str(data["id"]),
                status=model.PaymentStatus(data["status"]),
                amount=Money.euros(str(amount["value"])),
                order_id=_order_id(data.get("metadata")),
                checkout_url=checkout.get("href"),
                expires_at=_timestamp(data.get("expiresAt")),
                amount_charged_back=_euros(data.get("amountChargedBack")),
                cancelable=bool(data.get("isCancelable", False)),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
            logger.warning("mollie: unexpected payment data: %r", exc)
            raise DependencyUnavailable(
                "De betaalprovider gaf een onverwacht antwoord.", provider="mollie"
            ) from exc

    def _to_provider_refund(
        self, data: Mapping[str, Any], provider_payment_id: str
    ) -> model.ProviderRefund:
        try:
            amount = data["amount"]
            if amount["currency"] != "EUR":
                raise ValueError("unexpected currency")
            return model.ProviderRefund(
                provider_refund_id=str(data["id"]),
                provider_payment_id=str(data.get("paymentId") or provider_payment_id),
                status=model.RefundStatus(data["status"]),
                amount=Money.euros(str(amount["value"])),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
            logger.warning("mollie: unexpected refund data: %r", exc)
            raise DependencyUnavailable(
                "De betaalprovider gaf een onverwacht antwoord.", provider="mollie"
            ) from exc


def _order_id(metadata: object) -> uuid.UUID | None:
    if not isinstance(metadata, Mapping):
        return None
    value = metadata.get("order_id")
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _euros(amount: object) -> Money:
    if not isinstance(amount, Mapping) or amount.get("currency") != "EUR":
        return Money.zero()
    return Money.euros(str(amount["value"]))


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
