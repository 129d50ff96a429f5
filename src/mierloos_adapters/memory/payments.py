"""A payment provider in memory, steered by tests."""

from __future__ import annotations

import threading

import attrs

from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure
from mierloos_core.model import payments as model
from mierloos_core.model.ids import new_secret
from mierloos_core.model.money import Money


@attrs.define
class _FakePayment:
    payment: model.ProviderPayment
    request: model.PaymentRequest


class MemoryPaymentGateway:
    """A payment provider in memory. Tests steer it: `set_status`, `down`, `refuse`."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.payments: dict[str, _FakePayment] = {}
        self._by_key: dict[str, str] = {}
        self.down = False
        self.refuse = False
        self.create_calls = 0
        self.get_calls = 0
        self.refunds: dict[str, model.ProviderRefund] = {}
        self._refund_keys: dict[str, str] = {}
        self.refund_calls = 0
        self.cancel_calls = 0

    def create_payment(self, request: model.PaymentRequest) -> model.ProviderPayment:
        with self._lock:
            self.create_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            if self.refuse:
                raise PermanentFailure("payment refused by provider")
            known = self._by_key.get(request.idempotency_key)
            if known is not None:
                return self.payments[known].payment
            provider_id = "tr_" + new_secret()[:10]
            payment = model.ProviderPayment(
                provider_payment_id=provider_id,
                status=model.PaymentStatus.OPEN,
                amount=request.amount,
                order_id=request.order_id,
                checkout_url=f"https://pay.example/{provider_id}",
                cancelable=True,
            )
            self.payments[provider_id] = _FakePayment(payment, request)
            self._by_key[request.idempotency_key] = provider_id
            return payment

    def get_payment(self, provider_payment_id: str) -> model.ProviderPayment:
        with self._lock:
            self.get_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            try:
                return self.payments[provider_payment_id].payment
            except KeyError:
                raise NotFound(provider_payment_id=provider_payment_id) from None

    def set_status(self, provider_payment_id: str, status: model.PaymentStatus) -> None:
        with self._lock:
            fake = self.payments[provider_payment_id]
            cancelable = status is model.PaymentStatus.OPEN
            fake.payment = attrs.evolve(fake.payment, status=status, cancelable=cancelable)

    def charge_back(self, provider_payment_id: str, amount: Money) -> None:
        """The buyer's bank took `amount` of a paid payment back."""
        with self._lock:
            fake = self.payments[provider_payment_id]
            fake.payment = attrs.evolve(fake.payment, amount_charged_back=amount)

    def cancel_payment(self, provider_payment_id: str) -> model.ProviderPayment:
        """Open payments become `canceled`; any other is returned as it stands, like Mollie's."""
        with self._lock:
            self.cancel_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            fake = self.payments.get(provider_payment_id)
            if fake is None:
                raise NotFound(provider_payment_id=provider_payment_id)
            if fake.payment.cancelable:
                fake.payment = attrs.evolve(
                    fake.payment,
                    status=model.PaymentStatus.CANCELED,
                    cancelable=False,
                    checkout_url=None,
                )
            return fake.payment

    def create_refund(self, request: model.RefundRequest) -> model.ProviderRefund:
        """Refunds start `pending`, like Mollie's; tests move them with `set_refund_status`."""
        with self._lock:
            self.refund_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            known = self._refund_keys.get(request.idempotency_key)
            if known is not None:
                return self.refunds[known]
            fake = self.payments.get(request.provider_payment_id)
            if self.refuse or fake is None or fake.payment.status is not model.PaymentStatus.PAID:
                raise PermanentFailure("refund refused by provider")
            refunded = sum(
                r.amount.cents
                for r in self.refunds.values()
                if r.provider_payment_id == request.provider_payment_id and r.status.counts
            )
            if not 0 < request.amount.cents <= fake.payment.amount.cents - refunded:
                raise PermanentFailure("refund amount exceeds what is refundable")
            refund = model.ProviderRefund(
                provider_refund_id="re_" + new_secret()[:10],
                provider_payment_id=request.provider_payment_id,
                status=model.RefundStatus.PENDING,
                amount=request.amount,
            )
            self.refunds[refund.provider_refund_id] = refund
            self._refund_keys[request.idempotency_key] = refund.provider_refund_id
            return refund

    def get_refund(self, provider_payment_id: str, provider_refund_id: str) -> model.ProviderRefund:
        with self._lock:
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            refund = self.refunds.get(provider_refund_id)
            if refund is None or refund.provider_payment_id != provider_payment_id:
                raise NotFound(provider_refund_id=provider_refund_id)
            return refund

    def set_refund_status(self, provider_refund_id: str, status: model.RefundStatus) -> None:
        with self._lock:
            refund = self.refunds[provider_refund_id]
            self.refunds[provider_refund_id] = attrs.evolve(refund, status=status)
