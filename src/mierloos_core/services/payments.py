"""Payments: open one at the provider, follow its status, and close orders that never pay.

The provider is the only trusted source of a payment's status: webhooks, the visitor's
return and the cleanup all fetch the payment and apply what it says through `_apply`, which
locks the order row and looks at its current state, so duplicates, races and out-of-order
deliveries change nothing twice.

Orders are got, locked and closed through `order_lifecycle`, which keeps the order of locks.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Literal

import attrs

from mierloos_core import errors
from mierloos_core.model.commands import CreatePayment, RefundOrder, SendEmail
from mierloos_core.model.jobs import JobStatus
from mierloos_core.model.orders import Order, OrderStatus, PaymentMethod
from mierloos_core.model.payments import (
    Payment,
    PaymentEvent,
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
)
from mierloos_core.model.records import copied
from mierloos_core.ports import Links, PaymentGateway, ThrottleStore, UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.checkout import PlacedOrder
from mierloos_core.services.jobs import enqueue, skip_waiting
from mierloos_core.services.order_lifecycle import (
    close_order,
    first_start,
    get_order,
    lock_order,
    settle_paid,
)
from mierloos_core.services.payment_webhooks import queue_webhook

log = logging.getLogger(__name__)

THEATRE = "Ons Mierloos Theater"
LATE_PAYMENT = "Betaald nadat de bestelling was gesloten"
_CLOSED = (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
_SOLD = (OrderStatus.PAID, OrderStatus.REFUNDED)


@attrs.frozen(kw_only=True)
class PaymentPolicy:
    # Seats stay held this long past the payment's own expiry, so a visitor still paying at
    # the last second is not overtaken by the cleanup.
    hold_margin: timedelta = timedelta(minutes=5)


@attrs.frozen(kw_only=True)
class PaymentStart:
    order_status: OrderStatus
    checkout_url: str | None
    created: bool  # this call recorded a new payment


@attrs.frozen(kw_only=True)
class PaymentOpening:
    """What became of a visitor's request to pay (see `Payments.open_or_defer`)."""

    kind: Literal["redirect", "deferred", "refused"]
    checkout_url: str | None = None  # with "redirect": the provider's page (None: not pending)


POLL_EVERY = timedelta(seconds=10)
_Payable = tuple[Order, Payment | None]


@attrs.define(eq=False)
class Payments(Service):
    gateway: PaymentGateway
    links: Links
    policy: PaymentPolicy = PaymentPolicy()
    # Order page views ask the provider at most once per POLL_EVERY per payment.
    polls: ThrottleStore | None = None
    # Where a payment taken back after it was paid (chargeback, late failure) is reported.
    staff_email: str | None = None

    # --- opening a payment ------------------------------------------------------------------

    def start(
        self, order_id: uuid.UUID, *, notify: bool = False, placed: PlacedOrder | None = None
    ) -> PaymentStart:
        """Open a payment for a pending order, or reuse the open one.

        Raises DependencyUnavailable when the provider is down (the payment_creation job will
        retry) and PermanentFailure when it refuses. With `notify`, a newly opened payment's
        link is e-mailed to the visitor (the retry path: they are no longer on the site).
        `placed`: the order as checkout has just placed it (pending, no payment yet), so the
        provider is asked without reading the order first.
        """
        now = self.clock.now()
        if placed is not None and placed.status is not OrderStatus.PENDING:
            return PaymentStart(order_status=placed.status, checkout_url=None, created=False)
        if placed is not None:
            request = self._request(placed, None)
        else:
            payable = self._payable(order_id, now)
            if isinstance(payable, PaymentStart):
                return payable
            request = self._request(*payable)
        provider = self.gateway.create_payment(request)
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            created = uow.payments.get_by_provider_id(provider.provider_payment_id) is None
            if created:
                self._record_new(uow, order, provider, now, notify=notify)
            uow.commit()
        return PaymentStart(
            order_status=order.status, checkout_url=provider.checkout_url, created=created
        )

    def _payable(self, order_id: uuid.UUID, now: datetime) -> PaymentStart | _Payable:
        """The order and its latest payment when a new payment is needed; else the answer."""
        with self.uow() as uow:
            order = get_order(uow, order_id)
            if order.status is not OrderStatus.PENDING:
                return PaymentStart(order_status=order.status, checkout_url=None, created=False)
            latest = uow.payments.latest_for_order(order_id)
        if order.is_overdue(now):
            # Past its hold (which ends at the performance's start at the latest): not payable.
            try:
                self._expire_one(order_id, now)
            except errors.DependencyUnavailable:
                log.warning("provider unreachable; overdue order %s closes later", order_id)
            with self.uow() as uow:
                status = get_order(uow, order_id).status
            return PaymentStart(order_status=status, checkout_url=None, created=False)
        if latest is not None and self._reusable(latest, now):
            return PaymentStart(
                order_status=order.status, checkout_url=latest.checkout_url, created=False
            )
        return order, latest

    def _record_new(
        self,
        uow: UnitOfWork,
        order: Order,
        provider: ProviderPayment,
        now: datetime,
        *,
        notify: bool,
    ) -> None:
        """Store the payment the provider just opened for the locked order, and hold its seats
        while it can be paid; with `notify`, e-mail the visitor its link."""
        # Its id at the provider, status, amount, checkout URL and expiry as the provider said.
        payment = copied(
            Payment,
            provider,
            order_id=order.id,
            provider=self.gateway.name,
            created_at=now,
            updated_at=now,
        )
        uow.payments.add(payment)
        uow.payments.add_event(
            PaymentEvent(payment_id=payment.id, status=provider.status, at=now, source="create")
        )
        self._hold_seats(uow, order, provider)
        uow.orders.update(order)
        if notify and order.status is OrderStatus.PENDING:
            link = SendEmail.to_buyer(
                order,
                "payment_link",
                once_key=provider.provider_payment_id,
                context={"payment_url": provider.checkout_url or ""},
            )
            enqueue(uow, link)

    def open_or_defer(
        self, order_id: uuid.UUID, placed: PlacedOrder | None = None
    ) -> PaymentOpening:
        """The visitor wants to pay, at checkout or later from the order page.

        "redirect": the provider's page is open (or the order is no longer pending).
        "deferred": the provider is down; the link follows by e-mail (see `defer`).
        "refused": the provider refused the payment; the order is cancelled (`abandon`).
        """
        try:
            start = self.start(order_id, placed=placed)
        except errors.DependencyUnavailable:
            log.warning("payment provider unavailable; the link follows by e-mail")
            self.defer(order_id)
            return PaymentOpening(kind="deferred")
        except errors.PermanentFailure:
            log.warning("payment provider refused the payment; order abandoned")
            self.abandon(order_id)
            return PaymentOpening(kind="refused")
        return PaymentOpening(kind="redirect", checkout_url=start.checkout_url)

    def defer(self, order_id: uuid.UUID) -> None:
        """The provider is down: tell the visitor the link follows by e-mail, and see it does.

        The seats stay held. A payment_creation job retries with backoff and e-mails the link
        when it gets one: checkout's own job while it is still waiting, else a new one.
        """
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            if order.status is OrderStatus.PENDING:
                self._queue_creation(uow, order)
                enqueue(
                    uow,
                    SendEmail.to_buyer(order, "order_received", once_key=str(order.id)),
                )
                uow.commit()

    @staticmethod
    def _queue_creation(uow: UnitOfWork, order: Order) -> None:
        job = uow.jobs.get(enqueue(uow, CreatePayment(order_id=order.id)))  # checkout's job
        if job is None or job.status in (JobStatus.PENDING, JobStatus.PROCESSING):
            return
        # Checkout's job is done: one more, once per payment it would replace, so pressing
        # "Betalen" again and again while the provider is down queues one job.
        latest = uow.payments.latest_for_order(order.id)
        after = str(latest.provider_payment_id) if latest is not None else "none"
        enqueue(uow, CreatePayment(order_id=order.id, replacing=after))

    def creation_job(self, order_id: uuid.UUID) -> None:
        """The payment_creation job: opens the payment unless the web request already did."""
        self.start(order_id, notify=True)

    def creation_gave_up(self, order_id: uuid.UUID, reason: str) -> None:
        """Every attempt failed: ask the visitor to pay another way, and flag it for staff."""
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            if order.status is not OrderStatus.PENDING:
                return
            order.needs_attention = f"Betaling kon niet worden aangemaakt: {reason}"[:500]
            uow.orders.update(order)
            enqueue(
                uow,
                SendEmail.to_buyer(order, "payment_required", once_key=str(order.id)),
            )
            uow.commit()

    def abandon(self, order_id: uuid.UUID) -> None:
        """The provider refused the payment outright: cancel the order and free its seats."""
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            if order.status is OrderStatus.PENDING:
                close_order(uow, order, OrderStatus.CANCELLED, self.clock.now())
                uow.commit()

    # --- following a payment ----------------------------------------------------------------

    def receive_webhook(self, provider_payment_id: str) -> bool:
        """The provider's webhook call: queue a sync of the payment (see `queue_webhook`);
        False, and nothing queued, for an id we never opened."""
        return queue_webhook(self.uow(), provider_payment_id)

    def sync(self, provider_payment_id: str, *, source: str = "webhook") -> OrderStatus | None:
        """Fetch the payment from the provider and apply its status. None for unknown ids."""
        try:
            provider = self.gateway.get_payment(provider_payment_id)
        except errors.NotFound:
            log.warning("payment %s unknown at the provider; ignored", provider_payment_id)
            return None
        return self._apply(provider, source)

    def cancel_job(self, provider_payment_id: str) -> OrderStatus | None:
        """The `payment_cancel` job: cancel the payment at the provider where it still can be,
        then apply what it is (a payment paid meanwhile is refunded like any late one)."""
        try:
            provider = self.gateway.cancel_payment(provider_payment_id)
        except errors.NotFound:
            return None
        return self._apply(provider, "cancel")

    def refresh_order(self, order_id: uuid.UUID) -> OrderStatus:
        """The visitor came back from the provider: check the payment now, webhook or not."""
        with self.uow() as uow:
            order = get_order(uow, order_id)
            payment = uow.payments.latest_for_order(order_id)
        if order.status is not OrderStatus.PENDING or payment is None:
            return order.status
        assert payment.provider_payment_id is not None
        key = f"payment-poll:{payment.provider_payment_id}"
        if self.polls is not None and self.polls.hit(key, POLL_EVERY) > 1:
            return order.status  # asked a moment ago: the webhook or the next view will tell
        try:
            status = self.sync(payment.provider_payment_id, source="return")
        except errors.DependencyUnavailable:
            return order.status  # the webhook or the cleanup will tell
        return status or order.status

    def _apply(self, provider: ProviderPayment, source: str) -> OrderStatus | None:
        now = self.clock.now()
        with self.uow() as uow:
            known = uow.payments.get_by_provider_id(provider.provider_payment_id)
            if known is None:
                log.warning("payment %s is not ours; ignored", provider.provider_payment_id)
                return None
            order = lock_order(uow, known.order_id)
            # Read again under the order's lock: a concurrent delivery may have moved it.
            payment = uow.payments.get_by_provider_id(provider.provider_payment_id)
            assert payment is not None
            self._record_status(uow, payment, provider, now, source)
            latest = uow.payments.latest_for_order(order.id)
            is_latest = latest is not None and latest.id == payment.id
            was_pending = order.status is OrderStatus.PENDING
            self._follow(uow, order, payment, provider, now, is_latest=is_latest)
            if was_pending and order.status is not OrderStatus.PENDING:
                # checkout's payment_creation job, still to come, would find nothing to do
                skip_waiting(uow, CreatePayment(order_id=order.id), "order settled")
            uow.commit()
            return order.status

    def _follow(
        self,
        uow: UnitOfWork,
        order: Order,
        payment: Payment,
        provider: ProviderPayment,
        now: datetime,
        *,
        is_latest: bool,
    ) -> None:
        """Move the (locked) order as the provider's status says."""
        if provider.status is PaymentStatus.PAID:
            starts = first_start(uow, order)
            if order.status is OrderStatus.PENDING and starts is not None and now >= starts:
                # Paid after the performance began: too late for seats; the money goes back.
                close_order(uow, order, OrderStatus.EXPIRED, now)
            if order.status is OrderStatus.PENDING:
                settle_paid(uow, order, now, PaymentMethod.MOLLIE)
            elif order.status in _CLOSED:
                self._refund_late(uow, order, payment)
            if order.status in _SOLD and provider.amount_charged_back.cents > 0:
                self._reversed(uow, order, provider)
        elif provider.status.is_final_failure and order.status is OrderStatus.PENDING:
            if is_latest:
                expired = provider.status is PaymentStatus.EXPIRED
                close_order(
                    uow, order, OrderStatus.EXPIRED if expired else OrderStatus.CANCELLED, now
                )
        elif provider.status.is_final_failure and order.status in _SOLD:
            if uow.payments.paid_for_order(order.id) is None:
                self._reversed(uow, order, provider)  # the payment that paid it is undone
        elif order.status is OrderStatus.PENDING and self._hold_seats(uow, order, provider):
            uow.orders.update(order)

    def _refund_late(self, uow: UnitOfWork, order: Order, payment: Payment) -> None:
        """Money arrived for a closed order (its seats are gone): send it back, as a job."""
        refund = RefundOrder(
            order_id=order.id, request_key=f"late-{payment.id.hex}", reason=LATE_PAYMENT
        )
        enqueue(uow, refund)
        if order.needs_attention is None:
            order.needs_attention = f"{LATE_PAYMENT}: het bedrag wordt automatisch terugbetaald."
            uow.orders.update(order)
            log.error("order %s paid after it was closed; refund queued", order.number)

    def _reversed(self, uow: UnitOfWork, order: Order, provider: ProviderPayment) -> None:
        """A payment that paid the order was charged back or reported failed: tell staff."""
        charged_back = provider.amount_charged_back
        what = (
            f"teruggeboekt ({charged_back})"
            if charged_back.cents > 0
            else f"alsnog als '{provider.status}' gemeld"
        )
        flag = f"Betaling {provider.provider_payment_id} is na betaling {what}."
        if order.needs_attention != flag:
            order.needs_attention = flag
            uow.orders.update(order)
            log.error("order %s: payment %s reversed", order.number, provider.provider_payment_id)
        if self.staff_email:
            context = {
                "name": THEATRE,
                "admin_url": self.links.admin_order(order.id),
                "provider_payment_id": provider.provider_payment_id,
                "payment_status": provider.status.value,
                "charged_back_cents": charged_back.cents,
            }
            once = f"{provider.provider_payment_id}:{provider.status}:{charged_back.cents}"
            mail = SendEmail(
                template="payment_reversed",
                to=self.staff_email,
                order_id=order.id,
                context=context,
                once_key=once,
            )
            enqueue(uow, mail)

    # --- orders nobody paid for -------------------------------------------------------------

    def expire_overdue(self, batch: int = 100) -> int:
        """Close pending orders past their expiry, asking the provider first. Returns closed."""
        now = self.clock.now()
        with self.uow() as uow:
            overdue = uow.orders.overdue(now, batch)
        closed = 0
        for order_id in overdue:
            try:
                closed += self._expire_one(order_id, now)
            except errors.DependencyUnavailable:
                log.warning("provider unreachable; order %s stays pending for now", order_id)
        return closed

    def _expire_one(self, order_id: uuid.UUID, now: datetime) -> int:
        with self.uow() as uow:
            payment = uow.payments.latest_for_order(order_id)
        provider = None
        if payment is not None and payment.provider_payment_id is not None:
            try:
                provider = self.gateway.get_payment(payment.provider_payment_id)
            except errors.NotFound:
                provider = None
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            if not order.is_overdue(now):
                return 0  # paid, closed or extended meanwhile
            if provider is not None:
                payment = uow.payments.get_by_provider_id(provider.provider_payment_id)
            if provider is not None and payment is not None:
                self._record_status(uow, payment, provider, now, "cleanup")
                self._follow(uow, order, payment, provider, now, is_latest=True)
            if order.is_overdue(now):
                close_order(uow, order, OrderStatus.EXPIRED, now)
            uow.commit()
            return 1 if order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED) else 0

    # --- helpers ----------------------------------------------------------------------------

    def _record_status(
        self,
        uow: UnitOfWork,
        payment: Payment,
        provider: ProviderPayment,
        now: datetime,
        source: str,
    ) -> None:
        if payment.status is provider.status:
            return
        payment.status = provider.status
        payment.checkout_url = provider.checkout_url
        payment.updated_at = now
        if provider.expires_at is not None:
            payment.expires_at = provider.expires_at
        uow.payments.update(payment)
        uow.payments.add_event(
            PaymentEvent(payment_id=payment.id, status=provider.status, at=now, source=source)
        )

    def _hold_seats(self, uow: UnitOfWork, order: Order, provider: ProviderPayment) -> bool:
        """Keep the seats while the payment can still be completed, never past the performance's
        start; True if that moved the order's expiry.

        A provider that does not say when its payment expires leaves the order's own expiry
        (ORDER_TTL_MINUTES from checkout, itself never past the start) as the hold: what the
        visitor was shown stays true.
        """
        if provider.expires_at is None:
            return False
        until = provider.expires_at + self.policy.hold_margin
        starts = first_start(uow, order)
        if starts is not None:
            until = min(until, starts)
        before = order.expires_at
        order.extend_expiry(until)
        return order.expires_at != before

    def _reusable(self, payment: Payment, now: datetime) -> bool:
        return (
            payment.status is PaymentStatus.OPEN
            and payment.checkout_url is not None
            and (payment.expires_at is None or payment.expires_at > now)
        )

    def _request(self, order: Order | PlacedOrder, previous: Payment | None) -> PaymentRequest:
        # One key per payment attempt: retries of an attempt reuse it, so the provider opens
        # one payment however often we ask; a new attempt after a dead payment gets a new one.
        order_id = order.id if isinstance(order, Order) else order.order_id
        key = f"mierloos-{order_id}"
        if previous is not None:
            key += f"-after-{previous.provider_payment_id}"
        return PaymentRequest(
            order_id=order_id,
            amount=order.total,
            description=f"{THEATRE} bestelling {order.number}",
            redirect_url=self.links.order_page(order.secret),
            webhook_url=self.links.payment_webhook(),
            idempotency_key=key,
        )
