"""Ticket downloads: the order link's PDF, the order page's link to it, and every 404."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway, MemoryStorage
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.payments import POLL_EVERY
from mierloos_entrypoints.web.app import create_app
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import BASE_URL, Site, add_to_cart, check_out


def place_order(site: Site, client: TestClient, quantity: int = 2) -> tuple[uuid.UUID, str]:
    """A new pending order of `client`: its id and secret."""
    query = text("SELECT id, secret FROM orders")
    with site.container.engine().connect() as connection:
        before = set(connection.execute(query).all())
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, quantity)
    assert check_out(client).status_code == 303
    with site.container.engine().connect() as connection:
        (row,) = set(connection.execute(query).all()) - before
    return uuid.UUID(str(row.id)), str(row.secret)


def pay(site: Site, client: TestClient, secret: str) -> None:
    """The provider says paid; the visitor's return to the order page records it."""
    gateway = site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    for payment_id, held in gateway.payments.items():
        if held.payment.status is PaymentStatus.OPEN:
            gateway.set_status(payment_id, PaymentStatus.PAID)
    site.clock.advance(POLL_EVERY)  # the order page asks the provider at most this often
    assert "Betaald" in client.get(f"/bestelling/{secret}").text


def paid_order_with_tickets(site: Site, client: TestClient) -> tuple[uuid.UUID, str]:
    order_id, secret = place_order(site, client)
    pay(site, client, secret)
    assert site.container.tickets().generate_pdf(order_id) is not None
    return order_id, secret


def test_the_order_link_downloads_the_pdf_as_an_attachment(site: Site, client: TestClient) -> None:
    _, secret = paid_order_with_tickets(site, client)
    with site.container.engine().connect() as connection:
        number = connection.execute(text("SELECT number FROM orders")).scalar_one()

    answer = client.get(f"/bestelling/{secret}/kaarten.pdf")

    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF-")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == f'attachment; filename="kaarten-{number}.pdf"'
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.headers["x-robots-tag"] == "noindex"


def test_presigned_storage_answers_with_a_redirect(site: Site) -> None:
    class PresigningStorage(MemoryStorage):
        def url_for(self, key: str, expires_in: timedelta) -> str | None:
            super().url_for(key, expires_in)
            return f"https://r2.example/{key}?X-Amz-Expires={int(expires_in.total_seconds())}"

    site.container.storage.override(PresigningStorage())
    site.container.tickets.reset()
    app = create_app(site.container)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        order_id, secret = paid_order_with_tickets(site, client)
        answer = client.get(f"/bestelling/{secret}/kaarten.pdf")

    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"https://r2.example/orders/{order_id}/tickets-1.pdf?X-Amz-Expires=600"
    )
    assert answer.headers["cache-control"] == "private, no-store"


def test_no_pdf_for_unknown_unpaid_or_unready_orders(site: Site, client: TestClient) -> None:
    _, pending = place_order(site, client)
    _, paid_not_ready = place_order(site, client)
    pay(site, client, paid_not_ready)
    unknown = "A" * 43

    answers = {
        name: client.get(f"/bestelling/{secret}/kaarten.pdf")
        for name, secret in {
            "unknown": unknown,
            "pending": pending,
            "not ready": paid_not_ready,
            "odd shape": "kort",
        }.items()
    }

    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(
        answers, 404
    )
    # One answer for every reason, so the link tells nothing about other orders.
    # (The page's language switch links back to the address asked for, secret and all.)
    texts = {
        name: answers[name].text.replace(secret, "SECRET")
        for name, secret in (
            ("unknown", unknown),
            ("pending", pending),
            ("not ready", paid_not_ready),
        )
    }
    assert texts["unknown"] == texts["pending"] == texts["not ready"]
    assert "Er zijn geen kaarten te downloaden bij deze link." in answers["pending"].text
    assert "%PDF" not in answers["not ready"].text


def test_a_recorded_pdf_missing_from_storage_is_a_404_not_a_crash(
    site: Site, client: TestClient
) -> None:
    order_id, secret = paid_order_with_tickets(site, client)
    site.container.storage().delete(f"orders/{order_id}/tickets-1.pdf")

    answer = client.get(f"/bestelling/{secret}/kaarten.pdf")

    assert answer.status_code == 404


def test_the_order_page_links_the_pdf_once_it_is_ready(site: Site, client: TestClient) -> None:
    order_id, secret = place_order(site, client)
    link = f'href="/bestelling/{secret}/kaarten.pdf"'
    pending = client.get(f"/bestelling/{secret}")
    pay(site, client, secret)
    being_made = client.get(f"/bestelling/{secret}")
    site.container.tickets().generate_pdf(order_id)
    ready = client.get(f"/bestelling/{secret}")

    assert link not in pending.text
    assert link not in being_made.text
    assert "Je kaarten worden gemaakt" in being_made.text
    assert link in ready.text
    assert "Je kaarten worden gemaakt" not in ready.text
    assert client.get(f"/bestelling/{secret}/kaarten.pdf").status_code == 200
    for page in (being_made, ready):
        assert accessibility_problems(page.text) == []
