"""Money that comes too late, and money taken back: through the site, the webhook and the jobs.

- An order's hold ends at its performance's start: it cannot be paid after it, and a payment
  completed after it is refunded automatically (a `refund` job), mailed and shown to staff.
- A paid payment the provider later reports as failed or charged back flags the order and
  mails staff.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.jobs import JobStatus
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.model.payments import PaymentStatus, RefundStatus
from mierloos_core.services.jobs import JobRegistry
from mierloos_entrypoints.container import register_job_handlers
from tests.integration.web.web_support import Site, add_to_cart, check_out, session_token

STAFF_MAILBOX = "kaarten@localhost"  # the address of the test settings' sender


def gateway_of(site: Site) -> MemoryPaymentGateway:
    assert isinstance(site.gateway, MemoryPaymentGateway)
    return site.gateway


def work_off(site: Site, job_type: str) -> list[Any]:
    """Run every pending job of a type once, as a worker would; returns their results."""
    registry = JobRegistry()
    register_job_handlers(registry, site.container)
    results = []
    for job in site.jobs(job_type):
        if job.status is not JobStatus.PENDING:
            continue
        results.append(registry.run(job_type, job.data))
        with site.container.engine().begin() as connection:
            connection.execute(
                update(t.jobs).where(t.jobs.c.id == job.id).values(status=JobStatus.COMPLETED)
            )
    return results


def the_order(site: Site) -> Order:
    with site.container.uow() as uow:
        (order_id,) = {uuid.UUID(j.data["order_id"]) for j in site.jobs("payment_creation")}
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def emails(site: Site, template: str) -> list[dict[str, Any]]:
    return [job.data for job in site.jobs("email") if job.data["template"] == template]


def place_minute_before_start(site: Site, client: TestClient) -> tuple[str, str]:
    """An order placed one minute before the performance; its secret and payment id."""
    performance = site.performances("gebroeders-mierlo")[0]
    site.clock.set(performance.starts_at - timedelta(minutes=1))
    add_to_cart(client, performance.id, 2)
    check_out(client)
    order = the_order(site)
    return order.secret, next(iter(gateway_of(site).payments))


def test_the_hold_of_an_order_placed_just_before_the_start_ends_at_the_start(
    site: Site, client: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    secret, _ = place_minute_before_start(site, client)

    assert the_order(site).expires_at == performance.starts_at
    page = client.get(f"/bestelling/{secret}").text
    assert "Wacht op betaling" in page


def test_after_the_start_the_order_cannot_be_paid(site: Site, client: TestClient) -> None:
    secret, _ = place_minute_before_start(site, client)
    gateway = gateway_of(site)
    token = session_token(client)
    gateway.payments.clear()  # the visitor's payment died: they press "Betalen" again
    site.clock.advance(timedelta(minutes=2))

    answer = client.post(f"/bestelling/{secret}/betalen", data={"csrf_token": token})

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/bestelling/{secret}"
    assert gateway.payments == {}, "no payment is opened after the start"
    assert the_order(site).status is OrderStatus.EXPIRED
    assert "Betalen</" not in client.get(f"/bestelling/{secret}").text


def test_a_payment_completed_after_the_start_is_refunded_mailed_and_shown_to_staff(
    site: Site, client: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    seats_before = site.performance(performance.id).available_seats
    secret, payment_id = place_minute_before_start(site, client)
    gateway = gateway_of(site)
    site.clock.advance(timedelta(minutes=3))  # the cleanup has not run yet
    gateway.set_status(payment_id, PaymentStatus.PAID)

    assert client.post("/webhooks/payments", data={"id": payment_id}).status_code == 200
    work_off(site, "payment_webhook")

    order = the_order(site)
    assert order.status is OrderStatus.EXPIRED, "paid after the start: no seats are sold"
    assert order.needs_attention is not None
    assert "terugbetaald" in order.needs_attention
    assert site.performance(performance.id).available_seats == seats_before
    assert "automatisch aan je terug" in client.get(f"/bestelling/{secret}").text

    work_off(site, "refund")
    work_off(site, "refund")  # delivered twice: still one refund
    (refund,) = gateway.refunds.values()
    assert refund.provider_payment_id == payment_id
    assert refund.amount == order.total
    mails = emails(site, "order_refunded")
    assert len(mails) == 1
    assert mails[0]["to"] == "jan@example.nl"
    assert mails[0]["context"]["closed"] is True
    work_off(site, "email")  # the mail renders

    with site.container.uow() as uow:
        (stored,) = uow.refunds.for_order(order.id)
    assert stored.status is RefundStatus.PENDING
    assert stored.amount == order.total


def test_a_payment_after_the_cleanup_closed_the_order_is_refunded_once(
    site: Site, client: TestClient
) -> None:
    _, payment_id = place_minute_before_start(site, client)
    gateway = gateway_of(site)
    site.clock.advance(timedelta(minutes=10))
    site.container.payments().expire_overdue()
    assert the_order(site).status is OrderStatus.EXPIRED
    gateway.set_status(payment_id, PaymentStatus.PAID)

    for _ in range(2):
        client.post("/webhooks/payments", data={"id": payment_id})
    work_off(site, "payment_webhook")
    work_off(site, "refund")

    assert len(gateway.refunds) == 1
    assert [j.status for j in site.jobs("refund")] == [JobStatus.COMPLETED]


def paid_order(site: Site, client: TestClient) -> tuple[Order, str]:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    check_out(client)
    payment_id = next(iter(gateway_of(site).payments))
    gateway_of(site).set_status(payment_id, PaymentStatus.PAID)
    client.post("/webhooks/payments", data={"id": payment_id})
    work_off(site, "payment_webhook")
    order = the_order(site)
    assert order.status is OrderStatus.PAID
    return order, payment_id


def test_a_charge_back_flags_the_order_and_mails_staff_once(site: Site, client: TestClient) -> None:
    order, payment_id = paid_order(site, client)
    gateway_of(site).charge_back(payment_id, order.total)

    for _ in range(2):
        client.post("/webhooks/payments", data={"id": payment_id})
    work_off(site, "payment_webhook")

    flagged = the_order(site)
    assert flagged.status is OrderStatus.PAID
    assert flagged.needs_attention is not None
    assert "teruggeboekt" in flagged.needs_attention
    (mail,) = emails(site, "payment_reversed")
    assert mail["to"] == STAFF_MAILBOX
    assert mail["context"]["charged_back_cents"] == order.total.cents
    assert mail["context"]["admin_url"].endswith(f"/beheer/bestellingen/{order.id}")
    work_off(site, "email")


def test_a_paid_payment_reported_failed_later_flags_the_order_and_mails_staff(
    site: Site, client: TestClient
) -> None:
    _, payment_id = paid_order(site, client)
    gateway_of(site).set_status(payment_id, PaymentStatus.FAILED)

    client.post("/webhooks/payments", data={"id": payment_id})
    work_off(site, "payment_webhook")

    flagged = the_order(site)
    assert flagged.needs_attention is not None
    assert "failed" in flagged.needs_attention
    (mail,) = emails(site, "payment_reversed")
    assert mail["context"]["payment_status"] == "failed"
    assert mail["context"]["charged_back_cents"] == Money(0).cents
