"""Payment flows against the memory fakes: provider down, webhooks, duplicates, expiry."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import attrs
import pytest

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import MemoryPaymentGateway, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.jobs import JobStatus, JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.payments import PaymentRequest, PaymentStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.payments import Payments, queue_webhook


@pytest.fixture
def gateway():
    return MemoryPaymentGateway()


@pytest.fixture
def payments(store, clock, gateway):
    return Payments(
        lambda: MemoryUnitOfWork(store, clock), clock, gateway, SiteLinks("http://127.0.0.1:8000")
    )


def place(store, clock, performance, quantity=2, coupon=None):
    request = CheckoutRequest(
        email="bezoeker@example.nl",
        name="Bezoeker",
        lines=[CartLine(performance_id=performance.id, quantity=quantity)],
        coupon_code=coupon,
    )
    return checkout(MemoryUnitOfWork(store, clock), clock, request)


def order_of(store, clock, order_id):
    with MemoryUnitOfWork(store, clock) as uow:
        return uow.orders.get(order_id)


def jobs(store, clock, job_type, template=None):
    with MemoryUnitOfWork(store, clock) as uow:
        found = uow.jobs.list(job_type=job_type)
    return [j for j in found if template is None or j.data.get("template") == template]


def emails(store, clock, template):
    return jobs(store, clock, JobType.EMAIL, template)


def provider_id(store, clock, order_id):
    with MemoryUnitOfWork(store, clock) as uow:
        return uow.payments.latest_for_order(order_id).provider_payment_id


def test_checkout_writes_a_payment_creation_job_due_after_a_grace_period(store, clock, catalog):
    placed = place(store, clock, catalog.performance())
    [job] = jobs(store, clock, JobType.PAYMENT_CREATION)
    assert job.data == {"order_id": str(placed.order_id)}
    assert job.next_retry_at == clock.now() + timedelta(seconds=30)


def test_start_opens_one_payment_and_reuses_it_while_open(store, clock, catalog, payments, gateway):
    placed = place(store, clock, catalog.performance())

    first = payments.start(placed.order_id)
    again = payments.start(placed.order_id)

    assert first.created
    assert not again.created
    assert first.checkout_url == again.checkout_url
    assert gateway.create_calls == 1
    [fake] = gateway.payments.values()
    assert fake.request.amount == placed.total
    assert fake.request.redirect_url.endswith(placed.secret)
    assert fake.request.webhook_url.endswith("/webhooks/payments")
    # A provider that names no expiry leaves the hold at the order's TTL (15 minutes here).
    assert order_of(store, clock, placed.order_id).expires_at == clock.now() + timedelta(minutes=15)
    assert emails(store, clock, "payment_link") == []


def test_start_for_an_order_just_placed_opens_the_same_payment(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance())

    first = payments.start(placed.order_id, placed=placed)
    again = payments.start(placed.order_id)

    assert first.created
    assert first.order_status is OrderStatus.PENDING
    assert not again.created
    assert again.checkout_url == first.checkout_url
    [fake] = gateway.payments.values()
    assert fake.request.order_id == placed.order_id
    assert fake.request.amount == placed.total
    assert placed.number in fake.request.description
    assert fake.request.redirect_url.endswith(placed.secret)
    assert fake.request.idempotency_key == f"mierloos-{placed.order_id}"
    assert provider_id(store, clock, placed.order_id) is not None


def test_start_for_an_order_a_coupon_paid_at_checkout_opens_no_payment(
    store, clock, catalog, payments, gateway
):
    catalog.coupon("VRIJ", value=100)
    placed = place(store, clock, catalog.performance(), 2, coupon="VRIJ")
    assert placed.status is OrderStatus.PAID

    start = payments.start(placed.order_id, placed=placed)

    assert (start.order_status, start.checkout_url, start.created) == (
        OrderStatus.PAID,
        None,
        False,
    )
    assert gateway.create_calls == 0


def payment_expiring_at(store, clock, order_id, expires_at):
    with MemoryUnitOfWork(store, clock) as uow:
        payment = uow.payments.latest_for_order(order_id)
        payment.expires_at = expires_at
        uow.payments.update(payment)
        uow.commit()


def test_an_open_payment_is_reused_until_just_before_its_expiry_and_not_at_it(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance())
    first = payments.start(placed.order_id)
    expiry = clock.now() + timedelta(minutes=10)
    payment_expiring_at(store, clock, placed.order_id, expiry)

    clock.set(expiry - timedelta(microseconds=1))
    assert payments.start(placed.order_id).checkout_url == first.checkout_url
    clock.set(expiry)
    at_expiry = payments.start(placed.order_id)

    assert at_expiry.created
    assert at_expiry.checkout_url != first.checkout_url
    assert gateway.create_calls == 2


def test_a_payment_expiring_sooner_never_moves_the_order_expiry_backwards(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance())
    payments.start(placed.order_id)
    held_until = order_of(store, clock, placed.order_id).expires_at
    pid = provider_id(store, clock, placed.order_id)
    fake = gateway.payments[pid]
    fake.payment = attrs.evolve(fake.payment, expires_at=clock.now() + timedelta(minutes=1))

    assert payments.sync(pid) is OrderStatus.PENDING

    assert order_of(store, clock, placed.order_id).expires_at == held_until


def test_provider_down_keeps_the_order_and_tells_the_visitor_a_link_follows(
    store, clock, catalog, payments, gateway
):
    performance = catalog.performance(capacity=10)
    placed = place(store, clock, performance, 2)
    gateway.down = True

    with pytest.raises(errors.DependencyUnavailable):
        payments.start(placed.order_id)
    payments.defer(placed.order_id)
    payments.defer(placed.order_id)

    assert order_of(store, clock, placed.order_id).status is OrderStatus.PENDING
    assert catalog.seats_left(performance) == 8
    assert len(emails(store, clock, "order_received")) == 1


def test_provider_down_three_times_then_up_gives_one_payment_and_one_link_mail(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance())
    gateway.down = True
    for _ in range(3):
        with pytest.raises(errors.DependencyUnavailable):
            payments.creation_job(placed.order_id)
    gateway.down = False
    payments.creation_job(placed.order_id)
    payments.creation_job(placed.order_id)  # a duplicate delivery of the job

    assert len(gateway.payments) == 1
    [mail] = emails(store, clock, "payment_link")
    assert mail.data["context"]["payment_url"].startswith("https://pay.example/")


def test_the_job_after_a_successful_web_attempt_does_nothing(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance())
    payments.start(placed.order_id)
    payments.creation_job(placed.order_id)
    assert gateway.create_calls == 1
    assert emails(store, clock, "payment_link") == []


def test_giving_up_asks_the_visitor_to_pay_and_flags_the_order(store, clock, catalog, payments):
    placed = place(store, clock, catalog.performance())
    payments.creation_gave_up(placed.order_id, "provider down for an hour")
    payments.creation_gave_up(placed.order_id, "provider down for an hour")
    assert len(emails(store, clock, "payment_required")) == 1
    assert "provider down" in order_of(store, clock, placed.order_id).needs_attention


def test_a_refused_payment_cancels_the_order_and_frees_its_seats(
    store, clock, catalog, payments, gateway
):
    performance = catalog.performance(capacity=10)
    placed = place(store, clock, performance, 3)
    gateway.refuse = True
    with pytest.raises(errors.PermanentFailure):
        payments.start(placed.order_id)
    payments.abandon(placed.order_id)
    assert order_of(store, clock, placed.order_id).status is OrderStatus.CANCELLED
    assert catalog.seats_left(performance) == 10


def test_ten_paid_webhooks_in_turn_confirm_once(store, clock, catalog, payments, gateway):
    placed = place(store, clock, catalog.performance(), 2)
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)
    gateway.set_status(pid, PaymentStatus.PAID)

    threads = [threading.Thread(target=payments.sync, args=(pid,)) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    order = order_of(store, clock, placed.order_id)
    assert order.status is OrderStatus.PAID
    assert {t.status for t in order.tickets} == {TicketStatus.VALID}
    assert len(jobs(store, clock, JobType.PDF_GENERATION)) == 1
    assert len(emails(store, clock, "order_confirmed")) == 1


@pytest.mark.parametrize(
    ("status", "settled"),
    [(PaymentStatus.PAID, OrderStatus.PAID), (PaymentStatus.FAILED, OrderStatus.CANCELLED)],
)
def test_a_webhook_that_settles_the_order_completes_checkouts_creation_job_unrun(
    store, clock, catalog, payments, gateway, status, settled
):
    placed = place(store, clock, catalog.performance(), 2)
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)
    gateway.set_status(pid, status)

    assert payments.sync(pid) is settled

    [job] = jobs(store, clock, JobType.PAYMENT_CREATION)
    assert job.status is JobStatus.COMPLETED
    assert job.result == {"skipped": "order settled"}
    assert job.completed_at == clock.now()
    # A later delivery finds the job completed and queues no other.
    payments.sync(pid)
    assert [j.status for j in jobs(store, clock, JobType.PAYMENT_CREATION)] == [JobStatus.COMPLETED]


def test_a_webhook_leaves_a_creation_job_that_has_started_alone(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance(), 2)
    payments.start(placed.order_id)
    with MemoryUnitOfWork(store, clock) as uow:
        [job] = uow.jobs.list(job_type=JobType.PAYMENT_CREATION)
    store.jobs[job.id].status = JobStatus.PROCESSING  # a worker claimed it a moment ago
    pid = provider_id(store, clock, placed.order_id)
    gateway.set_status(pid, PaymentStatus.PAID)

    assert payments.sync(pid) is OrderStatus.PAID

    [job] = jobs(store, clock, JobType.PAYMENT_CREATION)
    assert (job.status, job.result) == (JobStatus.PROCESSING, None)


def test_a_webhook_that_leaves_the_order_pending_keeps_the_creation_job(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance(), 2)
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)

    assert payments.sync(pid) is OrderStatus.PENDING

    [job] = jobs(store, clock, JobType.PAYMENT_CREATION)
    assert job.status is JobStatus.PENDING


def test_a_paid_orders_pdf_and_mails_are_queued_ahead_of_payment_syncs(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance(), 2)
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)
    gateway.set_status(pid, PaymentStatus.PAID)
    assert queue_webhook(MemoryUnitOfWork(store, clock), pid)

    payments.sync(pid)

    [sync] = jobs(store, clock, JobType.PAYMENT_WEBHOOK)
    [pdf] = jobs(store, clock, JobType.PDF_GENERATION)
    [mail] = emails(store, clock, "order_confirmed")
    [creation] = jobs(store, clock, JobType.PAYMENT_CREATION)
    assert pdf.priority == mail.priority > sync.priority == creation.priority


def test_a_failure_after_paid_changes_nothing(store, clock, catalog, payments, gateway):
    performance = catalog.performance(capacity=10)
    placed = place(store, clock, performance, 2)
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)
    gateway.set_status(pid, PaymentStatus.PAID)
    payments.sync(pid)
    gateway.set_status(pid, PaymentStatus.FAILED)

    assert payments.sync(pid) is OrderStatus.PAID
    assert catalog.seats_left(performance) == 8
    assert emails(store, clock, "order_cancelled") == []


def test_duplicate_failure_webhooks_release_seats_and_coupon_once(
    store, clock, catalog, payments, gateway
):
    performance = catalog.performance(capacity=10)
    coupon = catalog.coupon("KORT", max_usages=5)
    placed = place(store, clock, performance, 4, coupon="KORT")
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)
    gateway.set_status(pid, PaymentStatus.CANCELED)

    for _ in range(3):
        payments.sync(pid)

    assert order_of(store, clock, placed.order_id).status is OrderStatus.CANCELLED
    assert catalog.seats_left(performance) == 10
    assert catalog.coupon_usage_count(coupon) == 0
    assert len(emails(store, clock, "order_cancelled")) == 1


def test_unknown_payment_ids_are_ignored(store, clock, catalog, payments, gateway):
    before = catalog.make_uow().store.snapshot()
    assert payments.sync("tr_unknown") is None
    stranger = uuid.uuid4()
    other = gateway.create_payment(
        PaymentRequest(
            order_id=stranger,
            amount=Money(100),
            description="not ours",
            redirect_url="https://elders.example/",
            webhook_url="https://elders.example/hook",
            idempotency_key=str(stranger),
        )
    )
    assert payments.sync(other.provider_payment_id) is None
    assert catalog.make_uow().store.snapshot() == before


def test_returning_visitor_sees_paid_even_without_a_webhook(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance())
    payments.start(placed.order_id)
    gateway.set_status(provider_id(store, clock, placed.order_id), PaymentStatus.PAID)
    assert payments.refresh_order(placed.order_id) is OrderStatus.PAID


def test_cleanup_asks_the_provider_first_and_confirms_a_late_payment(
    store, clock, catalog, payments, gateway
):
    placed = place(store, clock, catalog.performance())
    payments.start(placed.order_id)
    gateway.set_status(provider_id(store, clock, placed.order_id), PaymentStatus.PAID)
    clock.advance(timedelta(hours=1))

    assert payments.expire_overdue() == 0
    assert order_of(store, clock, placed.order_id).status is OrderStatus.PAID


def test_cleanup_expires_unpaid_orders_and_frees_their_seats_once(
    store, clock, catalog, payments, gateway
):
    performance = catalog.performance(capacity=10)
    coupon = catalog.coupon("LAAT", max_usages=2)
    with_payment = place(store, clock, performance, 2, coupon="LAAT")
    without_payment = place(store, clock, performance, 3)
    payments.start(with_payment.order_id)
    # The provider's payment stays payable for 20 minutes: the seats are held until then + 5.
    pid = provider_id(store, clock, with_payment.order_id)
    fake = gateway.payments[pid]
    fake.payment = attrs.evolve(fake.payment, expires_at=clock.now() + timedelta(minutes=20))
    payments.sync(pid)
    clock.advance(timedelta(minutes=16))
    assert payments.expire_overdue() == 1  # the one without a payment; the other is held
    clock.advance(timedelta(minutes=10))
    gateway.set_status(pid, PaymentStatus.EXPIRED)

    assert payments.expire_overdue() == 1
    assert payments.expire_overdue() == 0
    assert order_of(store, clock, with_payment.order_id).status is OrderStatus.EXPIRED
    assert order_of(store, clock, without_payment.order_id).status is OrderStatus.EXPIRED
    assert catalog.seats_left(performance) == 10
    assert catalog.coupon_usage_count(coupon) == 0


def test_cleanup_leaves_orders_alone_while_the_provider_is_down(
    store, clock, catalog, payments, gateway
):
    performance = catalog.performance(capacity=10)
    placed = place(store, clock, performance, 2)
    payments.start(placed.order_id)
    gateway.down = True
    clock.advance(timedelta(hours=1))
    assert payments.expire_overdue() == 0
    assert order_of(store, clock, placed.order_id).status is OrderStatus.PENDING
    assert catalog.seats_left(performance) == 8


def test_webhooks_and_cleanups_in_turn_release_once(store, clock, catalog, payments, gateway):
    performance = catalog.performance(capacity=10)
    placed = place(store, clock, performance, 2)
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)
    gateway.set_status(pid, PaymentStatus.EXPIRED)
    clock.advance(timedelta(hours=1))

    threads = [threading.Thread(target=payments.sync, args=(pid,)) for _ in range(5)]
    threads += [threading.Thread(target=payments.expire_overdue) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert order_of(store, clock, placed.order_id).status is OrderStatus.EXPIRED
    assert catalog.seats_left(performance) == 10
    assert len(emails(store, clock, "order_cancelled")) == 1


def test_a_webhook_queues_one_sync_per_payment_until_it_has_run(store, clock, catalog, payments):
    placed = place(store, clock, catalog.performance())
    payments.start(placed.order_id)
    pid = provider_id(store, clock, placed.order_id)

    for _ in range(5):
        assert queue_webhook(MemoryUnitOfWork(store, clock), pid) is True
    [job] = jobs(store, clock, JobType.PAYMENT_WEBHOOK)
    store.jobs[job.id].status = JobStatus.COMPLETED  # what the worker leaves behind
    assert queue_webhook(MemoryUnitOfWork(store, clock), pid) is True

    statuses = sorted(j.status for j in jobs(store, clock, JobType.PAYMENT_WEBHOOK))
    assert statuses == [JobStatus.COMPLETED, JobStatus.PENDING]
    assert queue_webhook(MemoryUnitOfWork(store, clock), "tr_unknown") is False
