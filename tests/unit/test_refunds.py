"""Refund rules against the memory fakes: amounts, whole vs partial, seats once, provider trouble.

A whole refund (all that is left) makes the tickets invalid and gives their seats back once
the provider accepts it; a partial refund is money only, the tickets stay valid.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import MemoryPaymentGateway, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.payments import (
    PaymentStatus,
    ProviderRefund,
    RefundRequest,
    RefundStatus,
)
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.payments import Payments
from mierloos_core.services.refunds import Refunds

CAPACITY = 20
TICKETS = 2  # of 25 euros each: orders are 50 euros before a coupon


@pytest.fixture
def gateway():
    return MemoryPaymentGateway()


@pytest.fixture
def make_uow(store, clock):
    return lambda: MemoryUnitOfWork(store, clock)


@pytest.fixture
def refunds(make_uow, clock, gateway):
    return Refunds(make_uow, clock, gateway)


@pytest.fixture
def performance(catalog):
    return catalog.performance(capacity=CAPACITY)


def place(make_uow, clock, performance, coupon=None):
    request = CheckoutRequest(
        email="bezoeker@example.nl",
        name="Bezoeker",
        lines=[CartLine(performance_id=performance.id, quantity=TICKETS)],
        coupon_code=coupon,
    )
    return checkout(make_uow(), clock, request)


def pay(make_uow, clock, gateway, placed):
    payments = Payments(make_uow, clock, gateway, SiteLinks("http://127.0.0.1:8000"))
    payments.start(placed.order_id)
    with make_uow() as uow:
        provider_id = uow.payments.latest_for_order(placed.order_id).provider_payment_id
    gateway.set_status(provider_id, PaymentStatus.PAID)
    assert payments.sync(provider_id) is OrderStatus.PAID
    return provider_id


@pytest.fixture
def paid(make_uow, clock, gateway, performance):
    placed = place(make_uow, clock, performance)
    pay(make_uow, clock, gateway, placed)
    return placed


def order_of(make_uow, order_id):
    with make_uow() as uow:
        return uow.orders.get(order_id)


def recorded(make_uow, order_id):
    with make_uow() as uow:
        return uow.refunds.for_order(order_id)


def ticket_states(order):
    return {ticket.status for ticket in order.tickets}


# --- whole and partial ---------------------------------------------------------------------------


def test_a_whole_refund_invalidates_the_tickets_and_gives_their_seats_back(
    refunds, paid, make_uow, gateway, catalog, performance
):
    assert catalog.seats_left(performance) == CAPACITY - TICKETS

    refund = refunds.refund(paid.order_id, reason="Voorstelling verzet")

    order = order_of(make_uow, paid.order_id)
    assert refund.amount == Money(5000)
    assert refund.whole
    assert refund.status is RefundStatus.PENDING
    assert refund.provider_refund_id in gateway.refunds
    assert gateway.refunds[refund.provider_refund_id].amount == Money(5000)
    assert order.status is OrderStatus.REFUNDED
    assert ticket_states(order) == {TicketStatus.REFUNDED}
    assert catalog.seats_left(performance) == CAPACITY


def test_a_partial_refund_is_money_only_and_keeps_the_tickets_valid(
    refunds, paid, make_uow, catalog, performance
):
    refund = refunds.refund(paid.order_id, amount=Money(1250), reason="Slecht zicht")

    order = order_of(make_uow, paid.order_id)
    assert not refund.whole
    assert order.status is OrderStatus.PAID
    assert ticket_states(order) == {TicketStatus.VALID}
    assert catalog.seats_left(performance) == CAPACITY - TICKETS
    assert refunds.summary(paid.order_id).refundable == Money(3750)


def test_partial_refunds_that_reach_the_paid_amount_close_the_order_and_free_seats_once(
    refunds, paid, make_uow, catalog, performance
):
    first = refunds.refund(paid.order_id, amount=Money(2000))
    last = refunds.refund(paid.order_id, amount=Money(3000))

    order = order_of(make_uow, paid.order_id)
    assert (first.whole, last.whole) == (False, True)
    assert order.status is OrderStatus.REFUNDED
    assert catalog.seats_left(performance) == CAPACITY
    assert refunds.summary(paid.order_id).refundable == Money(0)


def test_a_refund_keeps_the_coupon_use(refunds, make_uow, clock, gateway, catalog, performance):
    coupon = catalog.coupon("KORT", value=10, max_usages=3)
    placed = place(make_uow, clock, performance, coupon="KORT")
    pay(make_uow, clock, gateway, placed)

    refund = refunds.refund(placed.order_id)

    assert refund.amount == Money(4500)  # what was paid, after the discount
    assert catalog.coupon_usage_count(coupon) == 1
    with make_uow() as uow:
        assert uow.coupons.usage_for_order(placed.order_id).released_at is None


# --- amounts and states --------------------------------------------------------------------------


@pytest.mark.parametrize("cents", [0, -100, 5001])
def test_amounts_outside_one_cent_to_what_is_left_are_refused_and_nothing_is_sent(
    refunds, paid, make_uow, gateway, cents
):
    with pytest.raises(errors.InvalidRefundAmount) as caught:
        refunds.refund(paid.order_id, amount=Money(cents))

    assert "€ 50,00" in caught.value.message
    assert recorded(make_uow, paid.order_id) == []
    assert gateway.refund_calls == 0


def test_what_was_refunded_already_is_not_refundable_again(refunds, paid, make_uow, gateway):
    refunds.refund(paid.order_id, amount=Money(4000))

    with pytest.raises(errors.InvalidRefundAmount):
        refunds.refund(paid.order_id, amount=Money(1001))

    assert [r.amount for r in recorded(make_uow, paid.order_id)] == [Money(4000)]
    assert gateway.refund_calls == 1


def test_a_second_whole_refund_is_refused_and_the_seats_come_back_once(
    refunds, paid, gateway, catalog, performance
):
    refunds.refund(paid.order_id)

    with pytest.raises(errors.RefundNotAllowed):
        refunds.refund(paid.order_id)

    assert gateway.refund_calls == 1
    assert catalog.seats_left(performance) == CAPACITY


def test_an_unpaid_order_cannot_be_refunded(refunds, make_uow, clock, gateway, performance):
    placed = place(make_uow, clock, performance)

    with pytest.raises(errors.RefundNotAllowed):
        refunds.refund(placed.order_id)

    assert gateway.refund_calls == 0
    assert order_of(make_uow, placed.order_id).status is OrderStatus.PENDING


def test_a_cancelled_order_cannot_be_refunded(refunds, make_uow, clock, gateway, performance):
    placed = place(make_uow, clock, performance)
    Payments(make_uow, clock, gateway, SiteLinks("http://x")).abandon(placed.order_id)

    with pytest.raises(errors.RefundNotAllowed):
        refunds.refund(placed.order_id)

    assert gateway.refund_calls == 0


def test_an_unknown_order_cannot_be_refunded(refunds):
    with pytest.raises(errors.OrderNotFound):
        refunds.refund(uuid.uuid4())


def test_a_reason_longer_than_200_characters_is_refused(refunds, paid, make_uow, gateway):
    with pytest.raises(errors.ValidationError):
        refunds.refund(paid.order_id, reason="x" * 201)

    assert recorded(make_uow, paid.order_id) == []
    assert gateway.refund_calls == 0


# --- the provider down or refusing ---------------------------------------------------------------


def test_a_refund_while_the_provider_is_down_stays_requested_and_changes_nothing_else(
    refunds, paid, make_uow, gateway, catalog, performance
):
    gateway.down = True

    with pytest.raises(errors.RefundDelayed):
        refunds.refund(paid.order_id)

    [refund] = recorded(make_uow, paid.order_id)
    order = order_of(make_uow, paid.order_id)
    assert refund.status is RefundStatus.REQUESTED
    assert refund.provider_refund_id is None
    assert order.status is OrderStatus.PAID
    assert ticket_states(order) == {TicketStatus.VALID}
    assert catalog.seats_left(performance) == CAPACITY - TICKETS
    # It still counts: a second press cannot refund the order twice.
    with pytest.raises(errors.RefundNotAllowed):
        refunds.refund(paid.order_id)


def test_refresh_sends_a_requested_refund_again_once_the_provider_is_back(
    refunds, paid, make_uow, gateway, catalog, performance
):
    gateway.down = True
    with pytest.raises(errors.RefundDelayed):
        refunds.refund(paid.order_id)
    gateway.down = False

    summary = refunds.refresh(paid.order_id)

    [refund] = summary.refunds
    assert refund.status is RefundStatus.PENDING
    assert len(gateway.refunds) == 1
    assert order_of(make_uow, paid.order_id).status is OrderStatus.REFUNDED
    assert catalog.seats_left(performance) == CAPACITY


class AnswerLost:
    """A gateway whose first refund reaches the provider but whose answer times out."""

    def __init__(self, inner: MemoryPaymentGateway) -> None:
        self.inner = inner
        self.name = inner.name
        self.lost = 0

    def create_payment(self, request):
        return self.inner.create_payment(request)

    def get_payment(self, provider_payment_id):
        return self.inner.get_payment(provider_payment_id)

    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        refund = self.inner.create_refund(request)
        if self.lost == 0:
            self.lost += 1
            raise errors.DependencyUnavailable("read timeout")
        return refund

    def get_refund(self, provider_payment_id, provider_refund_id):
        return self.inner.get_refund(provider_payment_id, provider_refund_id)


def test_a_refund_whose_answer_was_lost_is_found_again_not_made_twice(
    paid, make_uow, clock, gateway
):
    refunds = Refunds(make_uow, clock, AnswerLost(gateway))
    with pytest.raises(errors.RefundDelayed):
        refunds.refund(paid.order_id)

    [refund] = refunds.refresh(paid.order_id).refunds

    [made] = gateway.refunds.values()
    assert refund.provider_refund_id == made.provider_refund_id
    assert order_of(make_uow, paid.order_id).status is OrderStatus.REFUNDED


def test_a_refund_the_provider_refuses_is_marked_failed_and_changes_nothing_else(
    refunds, paid, make_uow, gateway, catalog, performance
):
    gateway.refuse = True

    with pytest.raises(errors.RefundRefused):
        refunds.refund(paid.order_id)

    [refund] = recorded(make_uow, paid.order_id)
    order = order_of(make_uow, paid.order_id)
    assert refund.status is RefundStatus.FAILED
    assert refund.error
    assert order.status is OrderStatus.PAID
    assert ticket_states(order) == {TicketStatus.VALID}
    assert catalog.seats_left(performance) == CAPACITY - TICKETS
    assert refunds.summary(paid.order_id).refundable == Money(5000)


def test_after_a_refusal_staff_can_refund_again(refunds, paid, make_uow, gateway):
    gateway.refuse = True
    with pytest.raises(errors.RefundRefused):
        refunds.refund(paid.order_id)
    gateway.refuse = False

    refund = refunds.refund(paid.order_id)

    assert refund.status is RefundStatus.PENDING
    assert order_of(make_uow, paid.order_id).status is OrderStatus.REFUNDED


# --- following the status ------------------------------------------------------------------------


def test_refresh_records_the_status_the_provider_reports(refunds, paid, gateway):
    refund = refunds.refund(paid.order_id, amount=Money(1000))
    gateway.set_refund_status(refund.provider_refund_id, RefundStatus.REFUNDED)

    [after] = refunds.refresh(paid.order_id).refunds

    assert after.status is RefundStatus.REFUNDED
    assert gateway.refund_calls == 1  # followed with a get, not sent again


def test_refresh_with_the_provider_down_leaves_refunds_as_they_were(refunds, paid, gateway):
    refund = refunds.refund(paid.order_id, amount=Money(1000))
    gateway.down = True

    [after] = refunds.refresh(paid.order_id).refunds

    assert after.status is refund.status


def test_a_failed_partial_refund_makes_its_amount_refundable_again(refunds, paid, gateway):
    refund = refunds.refund(paid.order_id, amount=Money(1000))
    gateway.set_refund_status(refund.provider_refund_id, RefundStatus.FAILED)

    summary = refunds.refresh(paid.order_id)

    assert summary.refundable == Money(5000)
    assert summary.order_status is OrderStatus.PAID


def test_a_whole_refund_failing_later_flags_the_order_and_takes_no_seats_back(
    refunds, paid, make_uow, gateway, catalog, performance
):
    refund = refunds.refund(paid.order_id)
    gateway.set_refund_status(refund.provider_refund_id, RefundStatus.FAILED)

    refunds.refresh(paid.order_id)

    order = order_of(make_uow, paid.order_id)
    assert order.status is OrderStatus.REFUNDED
    assert "mislukte" in (order.needs_attention or "")
    assert ticket_states(order) == {TicketStatus.REFUNDED}
    assert catalog.seats_left(performance) == CAPACITY


def test_a_final_status_is_never_overwritten(refunds, paid, gateway):
    refund = refunds.refund(paid.order_id, amount=Money(1000))
    gateway.set_refund_status(refund.provider_refund_id, RefundStatus.REFUNDED)
    refunds.refresh(paid.order_id)
    gateway.set_refund_status(refund.provider_refund_id, RefundStatus.PENDING)

    [after] = refunds.refresh(paid.order_id).refunds

    assert after.status is RefundStatus.REFUNDED


# --- concurrency ---------------------------------------------------------------------------------


def test_ten_whole_refunds_in_turn_refund_once(
    refunds, paid, make_uow, gateway, catalog, performance
):
    barrier = threading.Barrier(10)
    outcomes: list[object] = []

    def press() -> None:
        barrier.wait()
        try:
            outcomes.append(refunds.refund(paid.order_id))
        except errors.MierloosError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=press) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    refused = [o for o in outcomes if isinstance(o, errors.RefundNotAllowed)]
    assert len(outcomes) == 10
    assert len(refused) == 9
    assert len(recorded(make_uow, paid.order_id)) == 1
    assert len(gateway.refunds) == 1
    assert catalog.seats_left(performance) == CAPACITY


def test_the_follow_up_job_sends_held_up_refunds_and_records_decisions_without_staff(
    refunds, paid, make_uow, gateway, catalog, performance
):
    gateway.down = True
    with pytest.raises(errors.RefundDelayed):
        refunds.refund(paid.order_id)
    gateway.down = False

    assert refunds.follow_up() == 1

    [sent] = recorded(make_uow, paid.order_id)
    assert sent.provider_refund_id is not None
    assert catalog.seats_left(performance) == CAPACITY
    gateway.set_refund_status(sent.provider_refund_id, RefundStatus.REFUNDED)
    assert refunds.follow_up() == 1
    [done] = recorded(make_uow, paid.order_id)
    assert done.status is RefundStatus.REFUNDED
    assert refunds.follow_up() == 0, "finished refunds are not looked at again"


def test_the_customer_is_mailed_once_when_the_provider_takes_a_refund_on(
    refunds, paid, make_uow, gateway
):
    def refund_mails():
        with make_uow() as uow:
            mails = uow.jobs.list(job_type="email")
        return [job for job in mails if job.data["template"] == "order_refunded"]

    gateway.down = True
    with pytest.raises(errors.RefundDelayed):
        refunds.refund(paid.order_id, amount=Money(1250))
    assert refund_mails() == [], "nothing is said before the provider has it"
    gateway.down = False

    refunds.refresh(paid.order_id)
    refunds.refresh(paid.order_id)

    mails = refund_mails()
    assert len(mails) == 1
    assert mails[0].data["context"] == {"amount_cents": 1250, "whole": False, "closed": False}
    assert mails[0].data["order_id"] == str(paid.order_id)


# --- which payment is refunded -------------------------------------------------------------------


def test_the_paid_payment_is_refunded_when_a_later_one_was_opened_and_left(
    refunds, make_uow, clock, gateway, performance
):
    placed = place(make_uow, clock, performance)
    payments = Payments(make_uow, clock, gateway, SiteLinks("http://x"))
    payments.start(placed.order_id)
    with make_uow() as uow:
        first = uow.payments.latest_for_order(placed.order_id)
        first.status = PaymentStatus.PENDING  # the visitor is at their bank: not reusable
        uow.payments.update(first)
        uow.commit()
    clock.advance(timedelta(minutes=1))
    payments.start(placed.order_id)  # a second tab opens a second payment
    with make_uow() as uow:
        assert uow.payments.latest_for_order(placed.order_id).id != first.id
    gateway.set_status(first.provider_payment_id, PaymentStatus.PAID)
    assert payments.sync(first.provider_payment_id) is OrderStatus.PAID

    refund = refunds.refund(placed.order_id, amount=Money(1000))

    assert refund.payment_id == first.id
    assert gateway.refunds[refund.provider_refund_id].provider_payment_id == (
        first.provider_payment_id
    )
    summary = refunds.refresh(placed.order_id)
    assert summary.paid == Money(5000)
    assert summary.refundable == Money(4000)


def test_a_paid_payment_unknown_at_the_provider_is_refused_before_anything_is_recorded(
    refunds, paid, make_uow, gateway
):
    with make_uow() as uow:
        payment = uow.payments.paid_for_order(paid.order_id)
        payment.provider_payment_id = None
        uow.payments.update(payment)
        uow.commit()

    with pytest.raises(errors.RefundNotAllowed) as caught:
        refunds.refund(paid.order_id)

    assert "niet bekend bij de betaalprovider" in caught.value.message
    assert recorded(make_uow, paid.order_id) == []
    assert gateway.refund_calls == 0
    assert refunds.follow_up() == 0, "no refund is left waiting for a provider id"


# --- the order closes when the money is back, not when the rest is asked -------------------------


def refund_held_up(refunds, gateway, clock, order_id, cents):
    gateway.down = True
    with pytest.raises(errors.RefundDelayed):
        refunds.refund(order_id, amount=Money(cents))
    gateway.down = False
    clock.advance(timedelta(minutes=1))


def test_the_rest_accepted_while_an_earlier_refund_is_unsent_keeps_the_tickets_valid(
    refunds, paid, make_uow, clock, gateway, catalog, performance
):
    refund_held_up(refunds, gateway, clock, paid.order_id, 1000)

    rest = refunds.refund(paid.order_id)  # all that is left: 40 euros

    assert rest.amount == Money(4000)
    assert rest.status is RefundStatus.PENDING
    assert not rest.whole
    order = order_of(make_uow, paid.order_id)
    assert order.status is OrderStatus.PAID
    assert ticket_states(order) == {TicketStatus.VALID}
    assert catalog.seats_left(performance) == CAPACITY - TICKETS


def test_when_the_earlier_refund_then_fails_the_customer_keeps_valid_tickets(
    refunds, paid, make_uow, clock, gateway, catalog, performance
):
    refund_held_up(refunds, gateway, clock, paid.order_id, 1000)
    refunds.refund(paid.order_id)
    gateway.refuse = True

    summary = refunds.refresh(paid.order_id)

    assert [r.status for r in summary.refunds] == [RefundStatus.FAILED, RefundStatus.PENDING]
    assert summary.refundable == Money(1000)
    order = order_of(make_uow, paid.order_id)
    assert order.status is OrderStatus.PAID
    assert order.needs_attention is None
    assert ticket_states(order) == {TicketStatus.VALID}
    assert catalog.seats_left(performance) == CAPACITY - TICKETS


def test_when_the_earlier_refund_is_accepted_last_it_closes_the_order_once(
    refunds, paid, make_uow, clock, gateway, catalog, performance
):
    refund_held_up(refunds, gateway, clock, paid.order_id, 1000)
    refunds.refund(paid.order_id)

    first, rest = refunds.refresh(paid.order_id).refunds
    refunds.refresh(paid.order_id)

    assert (first.amount, first.status, first.whole) == (
        Money(1000),
        RefundStatus.PENDING,
        True,
    )
    assert not rest.whole
    order = order_of(make_uow, paid.order_id)
    assert order.status is OrderStatus.REFUNDED
    assert ticket_states(order) == {TicketStatus.REFUNDED}
    assert catalog.seats_left(performance) == CAPACITY


def test_a_partial_refund_failing_after_the_order_closed_flags_it_and_takes_no_seats_back(
    refunds, paid, make_uow, clock, gateway, catalog, performance
):
    first = refunds.refund(paid.order_id, amount=Money(1000))
    clock.advance(timedelta(minutes=1))
    refunds.refund(paid.order_id)  # the rest: both accepted, the order closes
    assert order_of(make_uow, paid.order_id).status is OrderStatus.REFUNDED
    gateway.set_refund_status(first.provider_refund_id, RefundStatus.FAILED)

    refunds.refresh(paid.order_id)

    order = order_of(make_uow, paid.order_id)
    assert order.status is OrderStatus.REFUNDED
    assert "€ 10,00 mislukte" in (order.needs_attention or "")
    assert ticket_states(order) == {TicketStatus.REFUNDED}
    assert catalog.seats_left(performance) == CAPACITY
