"""Payments at the provider, as this system knows them."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime

import attrs

from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.timeutil import require_aware


class PaymentStatus(enum.StrEnum):
    """Mollie's payment statuses."""

    OPEN = "open"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_final_failure(self) -> bool:
        return self in (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED)


@attrs.define(kw_only=True)
class Payment:
    order_id: uuid.UUID
    provider: str
    amount: Money
    created_at: datetime = attrs.field(validator=require_aware)
    status: PaymentStatus = PaymentStatus.OPEN
    provider_payment_id: str | None = None
    checkout_url: str | None = None
    expires_at: datetime | None = attrs.field(default=None, validator=require_aware)
    updated_at: datetime | None = attrs.field(default=None, validator=require_aware)
    id: uuid.UUID = attrs.field(factory=new_id)


@attrs.frozen(kw_only=True)
class PaymentEvent:
    """One observed status of a payment: the audit trail of every change."""

    payment_id: uuid.UUID
    status: PaymentStatus
    at: datetime = attrs.field(validator=require_aware)
    source: str = ""
    id: uuid.UUID = attrs.field(factory=new_id)


@attrs.frozen(kw_only=True)
class PaymentRequest:
    """What a gateway needs to open a payment for an order."""

    order_id: uuid.UUID
    amount: Money
    description: str
    redirect_url: str
    webhook_url: str
    # The same key for every attempt for one order, so a retry never opens a second payment.
    idempotency_key: str


@attrs.frozen(kw_only=True)
class ProviderPayment:
    """A payment as the provider reports it: the only trusted source of its status."""

    provider_payment_id: str
    status: PaymentStatus
    amount: Money
    order_id: uuid.UUID | None
    checkout_url: str | None = None
    expires_at: datetime | None = attrs.field(default=None, validator=require_aware)
    # Money the buyer's bank took back after the payment was paid (Mollie's chargebacks).
    amount_charged_back: Money = attrs.field(factory=Money.zero)
    # Whether the provider still lets this payment be cancelled (Mollie's `isCancelable`).
    cancelable: bool = False


class RefundStatus(enum.StrEnum):
    """Mollie's refund statuses, plus `requested`: recorded here, not yet accepted there."""

    REQUESTED = "requested"
    QUEUED = "queued"
    PENDING = "pending"
    PROCESSING = "processing"
    REFUNDED = "refunded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def counts(self) -> bool:
        """The money is (or may still be) on its way back: it is no longer refundable."""
        return self not in (RefundStatus.FAILED, RefundStatus.CANCELED)

    @property
    def accepted(self) -> bool:
        """The provider took the refund on."""
        return self.counts and self is not RefundStatus.REQUESTED

    @property
    def is_final(self) -> bool:
        return self in (RefundStatus.REFUNDED, RefundStatus.FAILED, RefundStatus.CANCELED)


def _ids(ids: Iterable[uuid.UUID]) -> tuple[uuid.UUID, ...]:
    return tuple(ids)


@attrs.define(kw_only=True)
class Refund:
    """Money of a paid order going back, whole or in part.

    A refund is `whole` when the provider's acceptance of it brought the accepted refunds of
    the order to what was paid: that closed the order (tickets invalid, seats returned). Until
    then every refund is money only and the tickets stay valid. `request_key` is the key of
    the staff form that asked for it: the same key for the same order is the same refund.
    """

    order_id: uuid.UUID
    payment_id: uuid.UUID
    amount: Money
    created_at: datetime = attrs.field(validator=require_aware)
    whole: bool = False
    reason: str = ""
    requested_by: str = ""
    request_key: str | None = None
    # The tickets whose money this is (empty: an amount of the order). Once accepted they
    # become invalid and their seats go back.
    ticket_ids: tuple[uuid.UUID, ...] = attrs.field(default=(), converter=_ids)
    status: RefundStatus = RefundStatus.REQUESTED
    provider_refund_id: str | None = None
    error: str | None = None
    updated_at: datetime | None = attrs.field(default=None, validator=require_aware)
    id: uuid.UUID = attrs.field(factory=new_id)

    @property
    def idempotency_key(self) -> str:
        # One key per refund: a retry after a timeout finds the refund the provider made.
        return f"mierloos-refund-{self.id}"


@attrs.frozen(kw_only=True)
class RefundRequest:
    """What a gateway needs to refund (part of) a payment."""

    provider_payment_id: str
    amount: Money
    description: str
    idempotency_key: str


@attrs.frozen(kw_only=True)
class ProviderRefund:
    """A refund as the provider reports it."""

    provider_refund_id: str
    provider_payment_id: str
    status: RefundStatus
    amount: Money
