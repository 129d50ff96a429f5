"""The order status page: status, lines, total, paying while pending, help."""

from __future__ import annotations

import re

from sqlalchemy import text, update
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core import errors
from mierloos_core.model.jobs import JobStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.jobs import JobRegistry
from mierloos_entrypoints.container import register_job_handlers
from tests.integration.web.web_support import Site, add_to_cart, check_out, csrf_token


def _gateway(site: Site) -> MemoryPaymentGateway:
    assert isinstance(site.gateway, MemoryPaymentGateway)
    return site.gateway


def _place(site: Site, client: TestClient, quantity: int = 2) -> str:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, quantity)
    check_out(client)
    with site.container.engine().connect() as connection:
        secret: str = connection.execute(text("SELECT secret FROM orders")).scalar_one()
    return secret


def test_a_pending_order_shows_status_lines_total_and_a_pay_link(
    site: Site, client: TestClient
) -> None:
    secret = _place(site, client)
    payment = next(iter(_gateway(site).payments.values())).payment

    page = client.get(f"/bestelling/{secret}")

    assert page.status_code == 200
    html = page.text
    assert re.search(r"<h1>Bestelling OMT-[A-Z0-9]{8}</h1>", html)
    assert "Wacht op betaling" in html
    assert "De Gebroeders Mierlo" in html
    assert "2 \N{MULTIPLICATION SIGN} € 22,50" in html
    assert '<td class="amount total">€ 45,00</td>' in html
    assert f'href="{payment.checkout_url}"' in html
    assert "Hulp nodig?" in html
    assert 'id="kaarten"' in html
    assert page.headers["x-robots-tag"].startswith("noindex")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"


def test_the_visitors_return_applies_the_payment_status(site: Site, client: TestClient) -> None:
    secret = _place(site, client)
    gateway = _gateway(site)
    gateway.set_status(next(iter(gateway.payments)), PaymentStatus.PAID)

    html = client.get(f"/bestelling/{secret}").text

    assert "Betaald" in html
    assert "Bedankt voor je betaling" in html
    assert "Betalen</a>" not in html
    assert len(site.jobs("pdf_generation")) == 1


def test_a_failed_payment_shows_a_cancelled_order(site: Site, client: TestClient) -> None:
    secret = _place(site, client)
    gateway = _gateway(site)
    gateway.set_status(next(iter(gateway.payments)), PaymentStatus.FAILED)

    html = client.get(f"/bestelling/{secret}").text

    assert "Geannuleerd" in html
    assert "Bestel opnieuw" in html
    assert "/betalen" not in html


def test_without_a_payment_the_page_offers_a_pay_button(site: Site, client: TestClient) -> None:
    gateway = _gateway(site)
    gateway.down = True
    secret = _place(site, client)
    page = client.get(f"/bestelling/{secret}").text
    assert f'action="/bestelling/{secret}/betalen"' in page
    token = csrf_token(page)

    still_down = client.post(f"/bestelling/{secret}/betalen", data={"csrf_token": token})
    assert still_down.status_code == 303
    assert still_down.headers["location"] == f"/bestelling/{secret}"
    assert "even niet bereikbaar" in client.get(f"/bestelling/{secret}").text

    gateway.down = False
    response = client.post(f"/bestelling/{secret}/betalen", data={"csrf_token": token})

    assert response.status_code == 303
    payment = next(iter(gateway.payments.values())).payment
    assert response.headers["location"] == payment.checkout_url
    assert f'href="{payment.checkout_url}"' in client.get(f"/bestelling/{secret}").text


def test_the_page_works_from_the_email_link_in_a_fresh_browser(
    site: Site, client: TestClient
) -> None:
    _gateway(site).down = True
    secret = _place(site, client)
    _gateway(site).down = False

    with site.client() as fresh:
        page = fresh.get(f"/bestelling/{secret}")
        response = fresh.post(
            f"/bestelling/{secret}/betalen", data={"csrf_token": csrf_token(page.text)}
        )

    assert page.status_code == 200
    assert response.status_code == 303
    assert response.headers["location"].startswith("https://pay.example/")


def test_paying_a_paid_order_goes_back_to_the_order(site: Site, client: TestClient) -> None:
    secret = _place(site, client)
    gateway = _gateway(site)
    gateway.set_status(next(iter(gateway.payments)), PaymentStatus.PAID)
    token = csrf_token(client.get("/voorstellingen/gebroeders-mierlo").text)

    response = client.post(f"/bestelling/{secret}/betalen", data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == f"/bestelling/{secret}"
    assert gateway.create_calls == 1


def test_an_unknown_secret_is_a_404(client: TestClient) -> None:
    response = client.get("/bestelling/" + "A" * 43)

    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text


def _work_off(site: Site, job_type: str) -> None:
    """A worker's pass over the pending jobs of a type; one that fails is given up at once."""
    registry = JobRegistry()
    register_job_handlers(registry, site.container)
    for job in site.jobs(job_type):
        if job.status is not JobStatus.PENDING:
            continue
        try:
            registry.run(job_type, job.data)
            status = JobStatus.COMPLETED
        except errors.DependencyUnavailable as error:
            registry.gave_up(job_type, job.data, str(error))
            status = JobStatus.FAILED
        with site.container.engine().begin() as connection:
            connection.execute(update(t.jobs).where(t.jobs.c.id == job.id).values(status=status))


def _emails(site: Site, template: str) -> list[dict]:
    return [job.data for job in site.jobs("email") if job.data["template"] == template]


def test_paying_while_the_provider_is_down_queues_the_link_by_email_once(
    site: Site, client: TestClient
) -> None:
    gateway = _gateway(site)
    gateway.down = True
    secret = _place(site, client)
    _work_off(site, "payment_creation")  # checkout's job gives up: the provider stays down
    assert len(_emails(site, "payment_required")) == 1
    token = csrf_token(client.get(f"/bestelling/{secret}").text)

    for _ in range(2):
        answer = client.post(f"/bestelling/{secret}/betalen", data={"csrf_token": token})
        assert answer.headers["location"] == f"/bestelling/{secret}"
    pending = [j for j in site.jobs("payment_creation") if j.status is JobStatus.PENDING]
    assert len(pending) == 1, "pressing twice while the provider is down queues one job"
    assert "we sturen je de betaallink ook per e-mail" in client.get(f"/bestelling/{secret}").text

    gateway.down = False
    _work_off(site, "payment_creation")
    registry = JobRegistry()
    register_job_handlers(registry, site.container)
    registry.run("payment_creation", pending[0].data)  # delivered twice: at least once

    links = _emails(site, "payment_link")
    payment = next(iter(gateway.payments.values())).payment
    assert len(links) == 1
    assert links[0]["to"] == "jan@example.nl"
    assert links[0]["context"]["payment_url"] == payment.checkout_url
