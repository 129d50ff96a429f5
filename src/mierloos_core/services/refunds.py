"""Refunds: staff give back the money of a paid order, whole or in part.

Rules:

- Only a paid order can be refunded, for at least one cent and at most what was paid minus
  what is refunded or still on its way back (refunds `requested` here or in progress at the
  provider count; failed and canceled ones do not).
- The order closes when the refunds the provider *accepted* add up to what was paid, not when
  a refund asking for the rest is recorded (an earlier one may still fail): every valid
  ticket becomes refunded (invalid), their seats go back to the performances once and the
  order becomes REFUNDED. The refund whose acceptance closed it is marked `whole`. Until then
  refunds are money only: the tickets stay valid and keep their seats.
- A refund of chosen tickets (`tickets`) is their price less their share of the discount;
  when the provider accepts it, those tickets become refunded (invalid) and their seats go
  back to the performance and the price category, once, while the order stays paid.
- A refund that fails after the order closed leaves the seats where they are (they may be
  sold again) and flags the order `needs_attention`: a person decides.
- A refund does not give back the order's coupon use: the coupon was used for a sale that
  happened.

A double click must not pay out twice: the staff form carries a fresh `request_key` per
rendered page, and a second call with the same (order, key) returns the first refund as it
stands, without asking the provider again (checked under the order lock; the table has a
unique constraint on the pair).

The refund is recorded (`requested`) under the order's row lock before the provider is asked,
so two staff members pressing at once cannot both refund the whole order. The provider is
asked outside any transaction, with a key per refund: if it does not answer, the refund stays
`requested` (and keeps counting) and `refresh` sends it again with the same key, so a refund
the provider did make before a timeout is found, never made twice. A refusal (4xx) marks the
refund failed and changes nothing else. Seats go back only through `Order.refund`, which does
so once, under the order lock.

Orders are got, locked and closed through `order_lifecycle`, which keeps the order of locks.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Collection, Sequence

import attrs

from mierloos_core import errors
from mierloos_core.model.commands import RefundOrder, SendEmail
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, TicketStatus
from mierloos_core.model.payments import (
    Payment,
    ProviderRefund,
    Refund,
    RefundRequest,
    RefundStatus,
)
from mierloos_core.ports import PaymentGateway, UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.order_lifecycle import (
    close_refunded,
    get_order,
    lock_order,
    release_refunded_tickets,
)

log = logging.getLogger(__name__)

THEATRE = "Ons Mierloos Theater"
MAX_REASON_LENGTH = 200
REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
MANUAL_REFUND = "Aan de kassa betaald (contant, pin of overboeking): geef het geld zelf terug."


@attrs.frozen(kw_only=True)
class RefundSummary:
    """An order's refunds as staff see them."""

    order_status: OrderStatus
    paid: Money  # zero for an order that was never paid
    committed: Money  # refunded, or on its way back
    refunds: tuple[Refund, ...]

    @property
    def refundable(self) -> Money:
        return max(self.paid - self.committed, Money.zero())


def committed(refunds: Sequence[Refund]) -> Money:
    return Money(sum(r.amount.cents for r in refunds if r.status.counts))


@attrs.define(eq=False)
class Refunds(Service):
    gateway: PaymentGateway

    def summary(self, order_id: uuid.UUID) -> RefundSummary:
        """What was paid and refunded, from our records only (no call to the provider)."""
        with self.uow() as uow:
            order = get_order(uow, order_id)
            payment = uow.payments.paid_for_order(order_id)
            refunds = uow.refunds.for_order(order_id)
        # A paid payment of a closed order (money that came too late) counts too.
        paid = payment.amount if payment is not None else Money(0)
        return RefundSummary(
            order_status=order.status,
            paid=paid,
            committed=committed(refunds),
            refunds=tuple(refunds),
        )

    def refund(
        self,
        order_id: uuid.UUID,
        *,
        amount: Money | None = None,
        reason: str = "",
        requested_by: str = "",
        request_key: str | None = None,
        closed_ok: bool = False,
        tickets: Collection[uuid.UUID] = (),
    ) -> Refund:
        """Refund `amount` (None: all that is left) of a paid order; or, with `tickets`, the
        money of those valid tickets (their price, less their share of the discount), which
        become invalid and give back their seats once the provider accepts it.

        With `closed_ok`, also the money of a paid payment of a cancelled or expired order
        (one that arrived after the order closed).

        With a `request_key` already used for this order, the refund made for it is returned
        as it stands (whatever its status) and nothing is sent.

        Raises RefundNotAllowed (not paid, or nothing left), InvalidRefundAmount, RefundDelayed
        (the provider did not answer; the refund is recorded and `refresh` sends it again) and
        RefundRefused (the provider refused; the refund is marked failed).
        """
        reason = _checked_reason(reason)
        if request_key is not None and not REQUEST_KEY.fullmatch(request_key):
            raise errors.ValidationError("Dit formulier is verlopen. Laad de pagina opnieuw.")
        now = self.clock.now()
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            earlier = uow.refunds.for_order(order_id)
            if request_key is not None:
                for same in earlier:
                    if same.request_key == request_key:
                        return same
            payment = uow.payments.paid_for_order(order_id)
            if payment is None or not (_is_paid(order) or (closed_ok and _is_closed(order))):
                raise errors.RefundNotAllowed(order_id=str(order_id), status=order.status.value)
            provider_payment_id = _provider_id(order, payment)
            if tickets:
                amount = _tickets_share(order, tickets, earlier)
            refund = Refund(
                order_id=order.id,
                payment_id=payment.id,
                ticket_ids=tuple(sorted(set(tickets))),
                amount=_refundable(order, payment.amount - committed(earlier), amount),
                reason=reason,
                requested_by=requested_by,
                request_key=request_key,
                created_at=now,
                updated_at=now,
            )
            uow.refunds.add(refund)
            uow.commit()
        return self._send(refund, order, provider_payment_id)

    def _send(self, refund: Refund, order: Order, provider_payment_id: str) -> Refund:
        """Ask the provider for a recorded refund, and record its answer."""
        request = self._request(refund, order, provider_payment_id)
        try:
            provider = self.gateway.create_refund(request)
        except errors.DependencyUnavailable as down:
            log.warning("refund %s of order %s not sent yet: %s", refund.id, order.number, down)
            raise errors.RefundDelayed(refund_id=str(refund.id)) from down
        except errors.PermanentFailure as refusal:
            self._refused(refund.id, refusal)
            raise errors.RefundRefused(refund_id=str(refund.id)) from refusal
        return self._record(refund.id, provider)

    def refund_job(self, command: RefundOrder) -> str:
        """The `refund` job: a refund the system decided on (money that came after its order
        closed, a cancelled performance), written in the transaction that decided it.

        Idempotent through its request key: a second run finds the refund of the first and
        sends it again only while the provider has not answered. A provider that is down
        fails the attempt (the job retries); a refusal fails the job and flags the order.
        """
        order_id = command.order_id
        try:
            refund = self.refund(
                order_id,
                amount=command.amount,
                reason=command.reason,
                requested_by="automatisch",
                request_key=command.request_key,
                closed_ok=True,
            )
        except errors.RefundNotAllowed as nothing_left:
            if self._paid_by_hand(order_id):
                return "not refunded: paid at the counter; staff flagged to pay it back"
            return f"not refunded: {nothing_left.message}"  # refunded by staff meanwhile
        except errors.RefundRefused:
            self._flag(order_id, "Automatische terugbetaling geweigerd door de betaalprovider.")
            raise
        if refund.status is RefundStatus.REQUESTED:
            self.refresh(order_id)  # an earlier run recorded it but the provider never answered
            refund = next(r for r in self.summary(order_id).refunds if r.id == refund.id)
            if refund.status is RefundStatus.REQUESTED:
                raise errors.RefundDelayed(refund_id=str(refund.id))
        return str(refund.status)

    def _paid_by_hand(self, order_id: uuid.UUID) -> bool:
        """A paid order staff took the money for (cash, pin, transfer): no provider can refund
        it, so flag it for staff to pay back by hand. True if it is one."""
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            by_hand = order.payment_method.is_staff_entered and order.total.cents > 0
            if order.status is not OrderStatus.PAID or not by_hand:
                return False
            order.needs_attention = MANUAL_REFUND
            uow.orders.update(order)
            uow.commit()
        return True

    def _flag(self, order_id: uuid.UUID, reason: str) -> None:
        with self.uow() as uow:
            order = lock_order(uow, order_id)
            order.needs_attention = reason
            uow.orders.update(order)
            uow.commit()

    def follow_up(self, batch: int = 100) -> int:
        """The `refund_follow_up` job: refresh every order with an unfinished refund.

        Sends again what a provider outage held up and records what the provider decided,
        so a refund's status moves on without staff opening the order. Returns the number
        of orders looked at.
        """
        with self.uow() as uow:
            order_ids = uow.refunds.orders_with_open_refunds(batch)
        for order_id in order_ids:
            self.refresh(order_id)
        return len(order_ids)

    def refresh(self, order_id: uuid.UUID) -> RefundSummary:
        """Follow the order's unfinished refunds at the provider; send unsent ones again.

        For the staff page: a provider that is down leaves the refunds as they were.
        """
        with self.uow() as uow:
            order = get_order(uow, order_id)
            payment = uow.payments.paid_for_order(order_id)
            open_refunds = [r for r in uow.refunds.for_order(order_id) if not r.status.is_final]
        for refund in open_refunds:
            if payment is None or payment.id != refund.payment_id:
                log.error("refund %s is not of the order's paid payment", refund.id)
                continue
            if payment.provider_payment_id is None:
                log.error("refund %s: its payment has no provider id", refund.id)
                continue
            try:
                provider = self._ask(refund, order, payment.provider_payment_id)
            except errors.DependencyUnavailable:
                log.warning("provider unreachable; refunds of %s stay as they are", order.number)
                break
            except errors.NotFound:
                log.error("refund %s unknown at the provider", refund.provider_refund_id)
                continue
            except errors.PermanentFailure as refusal:
                self._refused(refund.id, refusal)
                continue
            self._record(refund.id, provider)
        return self.summary(order_id)

    # --- helpers ----------------------------------------------------------------------------

    def _ask(self, refund: Refund, order: Order, provider_payment_id: str) -> ProviderRefund:
        if refund.provider_refund_id is None:
            # Never answered: ask again with the same key, which finds a refund already made.
            return self.gateway.create_refund(self._request(refund, order, provider_payment_id))
        return self.gateway.get_refund(provider_payment_id, refund.provider_refund_id)

    def _record(self, refund_id: uuid.UUID, provider: ProviderRefund) -> Refund:
        """Store what the provider says; close the order once accepted refunds cover it."""
        now = self.clock.now()
        with self.uow() as uow:
            refund = _refund(uow, refund_id)
            order = lock_order(uow, refund.order_id)
            # Read again under the order's lock: a concurrent refresh may have moved it.
            refund = _refund(uow, refund_id)
            if refund.status.is_final or (
                refund.status is provider.status
                and refund.provider_refund_id == provider.provider_refund_id
            ):
                return refund
            was_accepted = refund.status.accepted
            refund.status = provider.status
            refund.provider_refund_id = provider.provider_refund_id
            refund.updated_at = now
            if refund.status.accepted and not was_accepted:
                if refund.ticket_ids and order.status is OrderStatus.PAID:
                    release_refunded_tickets(uow, order, refund.ticket_ids)
                if order.status is OrderStatus.PAID and _all_accepted(uow, order, refund):
                    refund.whole = True
                    close_refunded(uow, order, now)
                context = {
                    "amount_cents": refund.amount.cents,
                    "whole": refund.whole,
                    "closed": _is_closed(order),
                }
                mail = SendEmail.to_buyer(
                    order, "order_refunded", once_key=str(refund.id), context=context
                )
                enqueue(uow, mail)
            if not refund.status.counts:
                _flag_failed_after_closing(uow, order, refund)
            uow.refunds.update(refund)
            uow.commit()
            return refund

    def _refused(self, refund_id: uuid.UUID, refusal: errors.PermanentFailure) -> None:
        now = self.clock.now()
        with self.uow() as uow:
            refund = _refund(uow, refund_id)
            order = lock_order(uow, refund.order_id)
            refund = _refund(uow, refund_id)
            if refund.status is RefundStatus.REQUESTED:
                refund.status = RefundStatus.FAILED
                refund.error = refusal.message[:500]
                refund.updated_at = now
                uow.refunds.update(refund)
                _flag_failed_after_closing(uow, order, refund)
                uow.commit()

    @staticmethod
    def _request(refund: Refund, order: Order, provider_payment_id: str) -> RefundRequest:
        return RefundRequest(
            provider_payment_id=provider_payment_id,
            amount=refund.amount,
            description=f"{THEATRE} terugbetaling bestelling {order.number}",
            idempotency_key=refund.idempotency_key,
        )


def _checked_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise errors.ValidationError(
            f"De reden mag hoogstens {MAX_REASON_LENGTH} tekens lang zijn."
        )
    return reason


def _provider_id(order: Order, payment: Payment) -> str:
    """The provider's id of the payment that paid the order: a refund goes through it.

    Checked before recording: a refund that can never be sent must not wait.
    """
    if payment.provider_payment_id is None:
        log.error("paid payment %s of order %s has no provider id", payment.id, order.number)
        raise errors.RefundNotAllowed(
            "De betaling van deze bestelling is niet bekend bij de betaalprovider; "
            "terugbetalen kan hier niet.",
            order_id=str(order.id),
        )
    return payment.provider_payment_id


def _refundable(order: Order, left: Money, wanted: Money | None) -> Money:
    """What this refund may be: `wanted` (None: all that is `left`), checked against `left`."""
    if left.cents <= 0:
        raise errors.RefundNotAllowed(
            "Deze bestelling is al volledig terugbetaald, of die terugbetaling loopt nog.",
            order_id=str(order.id),
        )
    amount = left if wanted is None else wanted
    if not 0 < amount.cents <= left.cents:
        raise errors.InvalidRefundAmount(
            f"Vul een bedrag in van minstens € 0,01 en hoogstens {left}.",
            requested=amount.cents,
            refundable=left.cents,
        )
    return amount


def _tickets_share(
    order: Order, tickets: Collection[uuid.UUID], earlier: Sequence[Refund]
) -> Money:
    """What the chosen tickets cost the buyer: their prices less their share of the discount
    (rounded down). Each must be a valid ticket of the order not in another refund."""
    valid = {t.id: t for t in order.tickets if t.status is TicketStatus.VALID}
    pending = {i for r in earlier if r.status.counts for i in r.ticket_ids}
    wrong = [str(i) for i in tickets if i not in valid or i in pending]
    if wrong:
        raise errors.RefundNotAllowed(
            "Kies geldige kaarten van deze bestelling die nog niet terugbetaald worden.",
            order_id=str(order.id),
            tickets=wrong,
        )
    if not order.subtotal.cents:
        return Money.zero()
    prices = sum(valid[i].price.cents for i in set(tickets))
    return Money(prices * order.total.cents // order.subtotal.cents)


def _is_paid(order: Order) -> bool:
    return order.status in (OrderStatus.PAID, OrderStatus.REFUNDED)


def _is_closed(order: Order) -> bool:
    return order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def _refund(uow: UnitOfWork, refund_id: uuid.UUID) -> Refund:
    return errors.required(uow.refunds.get(refund_id), errors.NotFound(refund_id=str(refund_id)))


def _all_accepted(uow: UnitOfWork, order: Order, accepted: Refund) -> bool:
    """Do the accepted refunds, `accepted` (not stored yet) among them, cover what was paid?"""
    payment = uow.payments.paid_for_order(order.id)
    if payment is None:
        return False
    others = [r for r in uow.refunds.for_order(order.id) if r.id != accepted.id]
    back = accepted.amount.cents + sum(r.amount.cents for r in others if r.status.accepted)
    return back >= payment.amount.cents


def _flag_failed_after_closing(uow: UnitOfWork, order: Order, refund: Refund) -> None:
    # The tickets are invalid and the seats may be sold again: a person decides.
    if order.status is OrderStatus.REFUNDED:
        order.needs_attention = (
            f"Terugbetaling van {refund.amount} mislukte bij de betaalprovider, "
            "maar de kaarten zijn al ongeldig."
        )
        uow.orders.update(order)
        log.error("refund %s of order %s failed after closing", refund.id, order.number)
