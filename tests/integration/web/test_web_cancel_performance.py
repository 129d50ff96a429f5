"""Cancelling a performance: open payments are withdrawn, buyers told why, paid orders refunded."""

from __future__ import annotations

from starlette.testclient import TestClient

from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from tests.integration.web.test_web_late_payments import emails, gateway_of, the_order, work_off
from tests.integration.web.web_support import (
    Site,
    add_to_cart,
    check_out,
    log_in_as_staff,
    session_token,
)


def place(site: Site, client: TestClient, *, paid: bool = False) -> tuple[str, str]:
    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(client, performance.id, 2)
    check_out(client)
    payment_id = next(iter(gateway_of(site).payments))
    if paid:
        gateway_of(site).set_status(payment_id, PaymentStatus.PAID)
        client.post("/webhooks/payments", data={"id": payment_id})
        work_off(site, "payment_webhook")
    return the_order(site).secret, payment_id


def cancel(site: Site, action: str = "annuleren") -> tuple[TestClient, int, str]:
    performance = site.performances("gebroeders-mierlo")[0]
    staff = site.client()
    log_in_as_staff(site, staff)
    page = f"/beheer/uitvoeringen/{performance.id}"
    token = session_token(staff, page)
    answer = staff.post(f"{page}/{action}", data={"csrf_token": token})
    return staff, answer.status_code, page


def test_cancelling_withdraws_the_open_payment_and_tells_the_buyer_why(
    site: Site, client: TestClient
) -> None:
    secret, payment_id = place(site, client)

    _, status, _ = cancel(site)
    assert status == 303
    work_off(site, "payment_cancel")

    assert gateway_of(site).payments[payment_id].payment.status is PaymentStatus.CANCELED
    assert the_order(site).status is OrderStatus.CANCELLED
    (mail,) = emails(site, "order_cancelled")
    assert mail["context"]["reason"] == "performance_cancelled"
    work_off(site, "email")
    page = client.get(f"/bestelling/{secret}").text
    assert "De voorstelling is geannuleerd" in page
    assert "Betalen</" not in page


def test_money_paid_before_the_withdrawal_is_refunded(site: Site, client: TestClient) -> None:
    secret, payment_id = place(site, client)
    cancel(site)
    gateway_of(site).set_status(payment_id, PaymentStatus.PAID)  # paid before the job ran

    work_off(site, "payment_cancel")
    work_off(site, "refund")

    (refund,) = gateway_of(site).refunds.values()
    assert refund.provider_payment_id == payment_id
    assert refund.amount == the_order(site).total
    assert "automatisch aan je terug" in client.get(f"/bestelling/{secret}").text
    work_off(site, "email")


def test_a_paid_order_stops_a_plain_cancel(site: Site, client: TestClient) -> None:
    place(site, client, paid=True)

    _, status, _ = cancel(site)

    assert status == 409
    assert site.jobs("refund") == []


def test_cancel_and_refund_refunds_every_paid_order_and_shows_progress(
    site: Site, client: TestClient
) -> None:
    place(site, client, paid=True)

    staff, status, page = cancel(site, "annuleren-en-terugbetalen")

    assert status == 303
    assert len(site.jobs("refund")) == 1, "the refund job is written with the cancel"
    assert "0 van 1 betaalde bestellingen terugbetaald, 1 lopen nog" in staff.get(page).text

    work_off(site, "refund")

    assert the_order(site).status is OrderStatus.REFUNDED
    (refund,) = gateway_of(site).refunds.values()
    assert refund.amount == the_order(site).total
    assert "1 van 1 betaalde bestellingen terugbetaald." in staff.get(page).text
    (mail,) = emails(site, "order_refunded")
    assert mail["context"]["whole"] is True
    work_off(site, "email")
