"""The fake provider's checkout page: pay, fail or cancel, then the webhook, then back."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from mierloos_adapters.fake_payments import FakePaymentProvider
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from tests.integration.web.web_support import BASE_URL, Site, add_to_cart, check_out, csrf_token


@pytest.fixture
def fake_site(make_site: Callable[..., Site], tmp_path: Path) -> Site:
    site = make_site(gateway=FakePaymentProvider(tmp_path / "fake", base_url=BASE_URL))
    # The provider calls the webhook over HTTP; here that HTTP goes into the app itself.
    site.app.state.webhook_transport = httpx.ASGITransport(app=site.app)
    return site


def _provider(site: Site) -> FakePaymentProvider:
    assert isinstance(site.gateway, FakePaymentProvider)
    return site.gateway


def _to_payment_page(site: Site, client: TestClient) -> str:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 2)
    response = check_out(client)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(BASE_URL + "/fake-payments/tr_fake")
    return location.removeprefix(BASE_URL)


def _order_status(site: Site) -> OrderStatus:
    with site.container.engine().connect() as connection:
        from sqlalchemy import text

        return OrderStatus(connection.execute(text("SELECT status FROM orders")).scalar_one())


def test_the_page_shows_amount_description_and_three_buttons(fake_site: Site) -> None:
    with fake_site.client() as client:
        page = client.get(_to_payment_page(fake_site, client))

    assert page.status_code == 200
    assert "€ 45,00" in page.text
    assert "Ons Mierloos Theater bestelling OMT-" in page.text
    for label in ("Betalen", "Mislukt", "Annuleren"):
        assert f">{label}</button>" in page.text


def test_paying_marks_the_payment_paid_calls_the_webhook_and_returns(fake_site: Site) -> None:
    with fake_site.client() as client:
        path = _to_payment_page(fake_site, client)
        token = csrf_token(client.get(path).text)

        response = client.post(path, data={"csrf_token": token, "action": "paid"})

        assert response.status_code == 303
        payment_id = path.rsplit("/", 1)[1]
        assert _provider(fake_site).record(payment_id)["status"] == "paid"
        jobs = fake_site.jobs("payment_webhook")
        assert [job.data for job in jobs] == [{"provider_payment_id": payment_id}]
        order_page = response.headers["location"]
        assert order_page.startswith(BASE_URL + "/bestelling/")
        assert _order_status(fake_site) is OrderStatus.PENDING  # the job has not run yet

        page = client.get(order_page.removeprefix(BASE_URL))

    assert "Betaald" in page.text  # the visitor's return asks the provider
    assert _order_status(fake_site) is OrderStatus.PAID


@pytest.mark.parametrize(
    ("action", "status"), [("failed", PaymentStatus.FAILED), ("canceled", PaymentStatus.CANCELED)]
)
def test_failing_or_cancelling_cancels_the_order(
    fake_site: Site, action: str, status: PaymentStatus
) -> None:
    with fake_site.client() as client:
        path = _to_payment_page(fake_site, client)
        token = csrf_token(client.get(path).text)
        response = client.post(path, data={"csrf_token": token, "action": action})
        page = client.get(response.headers["location"].removeprefix(BASE_URL))

    assert _provider(fake_site).record(path.rsplit("/", 1)[1])["status"] == status.value
    assert _order_status(fake_site) is OrderStatus.CANCELLED
    assert "Geannuleerd" in page.text


def test_a_completed_payment_offers_no_buttons(fake_site: Site) -> None:
    with fake_site.client() as client:
        path = _to_payment_page(fake_site, client)
        token = csrf_token(client.get(path).text)
        client.post(path, data={"csrf_token": token, "action": "paid"})
        page = client.get(path)
        again = client.post(path, data={"csrf_token": token, "action": "failed"})

    assert "al afgerond" in page.text
    assert "<button" not in re.sub(r"<header.*?</header>", "", page.text, flags=re.S)
    assert again.status_code == 303
    assert _provider(fake_site).record(path.rsplit("/", 1)[1])["status"] == "paid"


def test_an_unknown_action_or_payment_is_refused(fake_site: Site) -> None:
    with fake_site.client() as client:
        path = _to_payment_page(fake_site, client)
        token = csrf_token(client.get(path).text)

        assert (
            client.post(path, data={"csrf_token": token, "action": "refunded"}).status_code == 400
        )
        assert client.post(path, data={"csrf_token": token}).status_code == 400
        assert client.post(path, data={"action": "paid"}).status_code == 403
        assert client.get("/fake-payments/tr_fake0000000000000000").status_code == 404
        assert client.get("/fake-payments/../../etc/passwd").status_code == 404
        assert (
            client.post(
                "/fake-payments/tr_fake0000000000000000",
                data={"csrf_token": token, "action": "paid"},
            ).status_code
            == 404
        )

    assert _provider(fake_site).record(path.rsplit("/", 1)[1])["status"] == "open"


def test_a_webhook_that_cannot_be_reached_does_not_fail_the_page(
    fake_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake_site.app.state.webhook_transport = httpx.MockTransport(refuse)
    with fake_site.client() as client, caplog.at_level(logging.WARNING):
        path = _to_payment_page(fake_site, client)
        token = csrf_token(client.get(path).text)
        response = client.post(path, data={"csrf_token": token, "action": "paid"})

    assert response.status_code == 303
    assert any("webhook" in record.getMessage() for record in caplog.records)


def test_the_fake_pages_do_not_exist_with_another_provider(site: Site, client: TestClient) -> None:
    assert client.get("/fake-payments/tr_fake0000000000000000").status_code == 404
