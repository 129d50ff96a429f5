"""The web shop's core on the production stack: Postgres and the real Mollie adapter talking to
the Mollie-shaped server. Checkout, paying, the webhook, a staff refund and a staff cancel go
through HTTP exactly as on SQLite with the memory gateway, and the provider's side is read back
from the server, not from a fake.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_adapters.mollie import MolliePaymentGateway
from mierloos_core.model.orders import OrderStatus
from tests.integration.payments.mollie_server import DEFAULT_API_KEY, MollieServer, running
from tests.integration.web.test_admin_refunds import post_refund
from tests.integration.web.test_web_cancel_performance import cancel
from tests.integration.web.test_web_late_payments import emails, work_off
from tests.integration.web.web_support import (
    Site,
    add_to_cart,
    build_site,
    check_out,
    log_in_as_staff,
)
from tests.postgres_server import fresh_database

pytestmark = pytest.mark.postgres

SHOW = "gebroeders-mierlo"


@pytest.fixture(scope="module")
def mollie() -> Iterator[MollieServer]:
    with running(MollieServer(api_keys=[DEFAULT_API_KEY])) as server:
        yield server


@pytest.fixture
def site(
    tmp_path, web_template_db, postgres_admin_url: str, mollie: MollieServer
) -> Iterator[Site]:
    """A site on a fresh Postgres database whose payments go to the Mollie-shaped server."""
    mollie.reset()
    gateway = MolliePaymentGateway(DEFAULT_API_KEY, api_endpoint=mollie.base_url, timeout=5.0)
    with fresh_database(postgres_admin_url) as url:
        site = build_site(
            tmp_path, web_template_db, gateway=gateway, database_url=url, migrate=True
        )
        yield site
        site.container.engine().dispose()


def order_row(site: Site) -> Any:
    with site.container.engine().connect() as connection:
        return connection.execute(text("SELECT id, status, secret FROM orders")).one()


def place(site: Site, mollie: MollieServer, client: TestClient, quantity: int = 2) -> str:
    """Checkout through the form; the visitor is sent to the provider's page. The payment's id."""
    add_to_cart(client, site.performances(SHOW)[0].id, quantity)
    answer = check_out(client)
    assert answer.status_code == 303, answer.text
    (payment,) = mollie.payments.values()
    assert answer.headers["location"] == payment["_links"]["checkout"]["href"]
    return str(payment["id"])


def pay(site: Site, mollie: MollieServer, client: TestClient, payment_id: str) -> None:
    """The provider says paid and calls the webhook; a worker runs the sync job."""
    mollie.set_status(payment_id, "paid")
    assert client.post("/webhooks/payments", data={"id": payment_id}).status_code == 200
    work_off(site, "payment_webhook")


def test_checkout_pay_and_tickets_on_postgres_with_mollie(site: Site, mollie: MollieServer) -> None:
    seats_before = site.performances(SHOW)[0].available_seats
    with site.client() as client:
        payment_id = place(site, mollie, client)
        assert site.performances(SHOW)[0].available_seats == seats_before - 2
        assert mollie.payments[payment_id]["amount"]["value"] == "45.00"

        pay(site, mollie, client, payment_id)
        order = order_row(site)
        assert order.status == OrderStatus.PAID.value
        work_off(site, "pdf_generation")
        page = client.get(f"/bestelling/{order.secret}")
        pdf = client.get(f"/bestelling/{order.secret}/kaarten.pdf")

    assert "Betaald" in page.text
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")


def test_duplicate_webhooks_at_once_pay_the_order_once(site: Site, mollie: MollieServer) -> None:
    with site.client() as client:
        payment_id = place(site, mollie, client)
        mollie.set_status(payment_id, "paid")
        assert client.post("/webhooks/payments", data={"id": payment_id}).status_code == 200

    # Ten syncs of one payment run on four threads at once: the order row lock lets one move it.
    payments = site.container.payments()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: payments.sync(payment_id), range(10)))

    assert set(outcomes) == {OrderStatus.PAID}
    assert order_row(site).status == OrderStatus.PAID.value
    assert len(site.jobs("pdf_generation")) == 1
    assert len(emails(site, "order_confirmed")) == 1


def test_a_staff_refund_reaches_mollie_and_frees_the_seats(
    site: Site, mollie: MollieServer
) -> None:
    seats_before = site.performances(SHOW)[0].available_seats
    with site.client() as client:
        pay(site, mollie, client, place(site, mollie, client))
    order_id = uuid.UUID(str(order_row(site).id))

    with site.client() as staff:
        log_in_as_staff(site, staff)
        status, _, _ = post_refund(staff, order_id, reason="Ziek")
    assert status == 303

    (refund,) = mollie.refunds.values()
    assert refund["amount"]["value"] == "45.00"
    assert order_row(site).status == OrderStatus.REFUNDED.value
    assert site.performances(SHOW)[0].available_seats == seats_before


def test_a_staff_cancel_withdraws_the_open_payment_at_mollie(
    site: Site, mollie: MollieServer
) -> None:
    with site.client() as client:
        payment_id = place(site, mollie, client)
        assert mollie.payments[payment_id]["status"] == "open"

    _, status, _ = cancel(site)
    assert status == 303
    work_off(site, "payment_cancel")

    assert mollie.payments[payment_id]["status"] == "canceled"
    assert order_row(site).status == OrderStatus.CANCELLED.value
