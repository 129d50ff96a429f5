"""Checkout through the HTML form: order, payment redirect, provider down or refusing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.orders import Order, OrderStatus
from tests.integration.web.web_support import Site, add_to_cart, check_out, checkout_form


def _only_order(site: Site) -> Order:
    with site.container.engine().connect() as connection:
        secrets = connection.execute(text("SELECT secret FROM orders")).scalars().all()
    assert len(secrets) == 1
    with site.container.uow() as uow:
        order = uow.orders.get_by_secret(secrets[0])
    assert order is not None
    return order


def _gateway(site: Site) -> MemoryPaymentGateway:
    assert isinstance(site.gateway, MemoryPaymentGateway)
    return site.gateway


def test_checkout_places_a_pending_order_and_goes_to_the_payment_page(
    site: Site, client: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(client, performance.id, 2)

    response = check_out(client, name="  Jan   Jansen ", email="Jan@Example.NL", newsletter="1")

    assert response.status_code == 303
    order = _only_order(site)
    assert order.status is OrderStatus.PENDING
    assert order.name == "Jan Jansen"
    assert order.email == "Jan@example.nl"
    assert order.newsletter is True
    assert order.total.cents == 4500
    assert len(order.tickets) == 2
    payment = next(iter(_gateway(site).payments.values())).payment
    assert response.headers["location"] == payment.checkout_url
    assert site.performance(performance.id).available_seats == performance.available_seats - 2
    assert "Je winkelwagen is leeg" in client.get("/winkelwagen").text


def test_checkout_orders_only_the_valid_lines(site: Site, client: TestClient) -> None:
    first, second = site.performances("gebroeders-mierlo")[:2]
    add_to_cart(client, first.id, 2)
    add_to_cart(client, second.id, 3)
    site.clock.set(first.starts_at + timedelta(minutes=1))

    page = client.get("/afrekenen").text
    assert "niet meer te koop" in page
    response = check_out(client)

    assert response.status_code == 303
    order = _only_order(site)
    assert {t.performance_id for t in order.tickets} == {second.id}
    assert len(order.tickets) == 3


def test_a_coupon_is_applied(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 2)

    check_out(client, coupon="welkom10")

    order = _only_order(site)
    assert order.discount.cents == 450
    assert order.total.cents == 4050


def test_an_unknown_coupon_shows_the_form_again_with_the_input_kept(
    site: Site, client: TestClient
) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 2)

    response = check_out(client, name="Marie", email="marie@example.nl", coupon="GRATIS")

    assert response.status_code == 422
    assert "Deze kortingscode bestaat niet." in response.text
    assert 'value="Marie"' in response.text
    assert 'value="marie@example.nl"' in response.text
    assert 'value="GRATIS"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert site.count("orders") == 0


def test_an_invalid_email_shows_the_form_again(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)

    response = check_out(client, email="niet-een-adres")

    assert response.status_code == 422
    assert "Vul een geldig e-mailadres in." in response.text
    assert site.count("orders") == 0
    assert "1 kaart" in client.get("/winkelwagen").text


def test_a_changed_cart_is_shown_again_before_ordering(site: Site, client: TestClient) -> None:
    first, second = site.performances("gebroeders-mierlo")[:2]
    add_to_cart(client, first.id, 1)
    fields = checkout_form(client)
    add_to_cart(client, second.id, 1)

    response = client.post("/afrekenen", data={**fields, "name": "Jan", "email": "jan@example.nl"})

    assert response.status_code == 409
    assert "intussen veranderd" in response.text
    assert site.count("orders") == 0


def test_seats_gone_meanwhile_orders_nothing(site: Site, client: TestClient) -> None:
    first, second = site.performances("gebroeders-mierlo")[:2]
    add_to_cart(client, first.id, 2)
    add_to_cart(client, second.id, 1)
    fields = checkout_form(client)
    with site.container.uow() as uow:
        uow.seats.reserve({first.id: first.available_seats - 1})
        uow.commit()

    response = client.post("/afrekenen", data={**fields, "name": "Jan", "email": "jan@example.nl"})

    assert response.status_code == 409
    assert "intussen veranderd" in response.text
    assert site.count("orders") == 0
    with site.container.uow() as uow:
        uow.seats.release({first.id: 1})
        uow.commit()
    client.post("/afrekenen", data={**fields, "name": "Jan", "email": "jan@example.nl"})
    assert site.count("orders") == 1


def test_nothing_left_at_the_last_moment_goes_back_to_the_cart(
    site: Site, client: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(client, performance.id, 2)
    fields = checkout_form(client)
    with site.container.uow() as uow:
        uow.seats.reserve({performance.id: performance.available_seats - 1})
        uow.commit()

    response = client.post("/afrekenen", data={**fields, "name": "Jan", "email": "jan@example.nl"})

    assert response.status_code == 303
    assert response.headers["location"] == "/winkelwagen"
    assert site.count("orders") == 0
    page = client.get("/winkelwagen").text
    assert "minder plaatsen vrij dan gevraagd" in page


def test_provider_down_sends_the_visitor_to_the_order_page(site: Site, client: TestClient) -> None:
    _gateway(site).down = True
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 2)

    response = check_out(client)

    assert response.status_code == 303
    order = _only_order(site)
    assert response.headers["location"] == f"/bestelling/{order.secret}"
    assert order.status is OrderStatus.PENDING
    mails = [job for job in site.jobs("email") if job.data["template"] == "order_received"]
    assert len(mails) == 1
    assert mails[0].data["to"] == "jan@example.nl"
    assert len(site.jobs("payment_creation")) == 1
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "betaallink per e-mail" in page.text
    assert "Wacht op betaling" in page.text
    assert "Je winkelwagen is leeg" in client.get("/winkelwagen").text


def test_provider_refusing_cancels_the_order_and_keeps_the_cart(
    site: Site, client: TestClient
) -> None:
    _gateway(site).refuse = True
    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(client, performance.id, 2)

    response = check_out(client)

    assert response.status_code == 303
    assert response.headers["location"] == "/winkelwagen"
    assert _only_order(site).status is OrderStatus.CANCELLED
    assert site.performance(performance.id).available_seats == performance.available_seats
    page = client.get("/winkelwagen").text
    assert "weigerde deze betaling" in page
    assert "2 \N{MULTIPLICATION SIGN} € 22,50" in page


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client: TestClient) -> None:
    response = client.get("/afrekenen")

    assert response.status_code == 303
    assert response.headers["location"] == "/winkelwagen"
    assert "niets in je winkelwagen" in client.get("/winkelwagen").text


def test_checkout_form_has_the_fields(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)

    html = client.get("/afrekenen").text

    for name in ("name", "email", "coupon", "newsletter", "csrf_token", "cart_version"):
        assert re.search(rf'name="{name}"', html), name
    assert 'type="email"' in html
    assert 'type="checkbox"' in html
