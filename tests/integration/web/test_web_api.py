"""The JSON API: shapes, stable error codes, JSON-only bodies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from starlette.routing import Route
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_core.model.catalog import PerformanceStatus
from tests.integration.web.web_support import BASE_URL, Site, add_to_cart, check_out

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text


def _order(site: Site, **overrides: Any) -> dict[str, Any]:
    performance = site.performances("gebroeders-mierlo")[0]
    body = {
        "name": "Jan Jansen",
        "email": "jan@example.nl",
        "lines": [{"performance_id": str(performance.id), "quantity": 2}],
    }
    body.update(overrides)
    return body


def test_shows_lists_upcoming_shows(site: Site, client: TestClient) -> None:
    response = client.get("/api/shows")

    assert response.status_code == 200
    shows = response.json()["shows"]
    assert [s["slug"] for s in shows][:2] == ["cabaret-uitverkocht", "gebroeders-mierlo"]
    cabaret = shows[0]
    assert cabaret["sold_out"] is True
    brothers = shows[1]
    assert brothers["url"] == "/voorstellingen/gebroeders-mierlo"
    assert brothers["performances"][0]["price"] == {"cents": 2250, "display": "€ 22,50"}
    assert brothers["first_date"].endswith("+01:00")
    assert "set-cookie" not in response.headers


def test_availability_of_a_sellable_performance(site: Site, client: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]

    body = client.get(f"/api/performances/{performance.id}/availability?quantity=3").json()

    assert body["available"] is True
    assert body["reason"] is None
    assert body["quantity"] == 3
    assert body["available_seats"] == performance.available_seats


@pytest.mark.parametrize(
    ("slug", "pick", "code"),
    [
        ("zwanenmeer", lambda p: p.sold_out, "sold_out"),
        ("jazz-op-zondag", lambda p: p.status is PerformanceStatus.CANCELLED, "cancelled"),
    ],
)
def test_availability_says_why_not(
    site: Site, client: TestClient, slug: str, pick: Any, code: str
) -> None:
    performance = next(p for p in site.performances(slug) if pick(p))

    body = client.get(f"/api/performances/{performance.id}/availability").json()

    assert body["available"] is False
    assert body["reason"]["code"] == code
    assert body["reason"]["message"]


def test_availability_errors(client: TestClient) -> None:
    _error(client.get(f"/api/performances/{UNKNOWN}/availability"), 404, "unknown_performance")
    _error(client.get("/api/performances/xyz/availability"), 400, "invalid_input")
    _error(client.get(f"/api/performances/{UNKNOWN}/availability?quantity=0"), 400, "invalid_input")
    _error(client.get(f"/api/performances/{UNKNOWN}/availability?quantity=x"), 400, "invalid_input")
    _error(client.get(f"/api/performances/{UNKNOWN}/availability?quantity=²"), 400, "invalid_input")


def test_cart_validation_splits_lines_with_reason_codes(site: Site, client: TestClient) -> None:
    good = site.performances("gebroeders-mierlo")[0]
    sold_out = next(p for p in site.performances("zwanenmeer") if p.sold_out)
    lines = [
        {"performance_id": str(good.id), "quantity": 2},
        {"performance_id": str(sold_out.id), "quantity": 1},
        {"performance_id": UNKNOWN, "quantity": 1},
    ]

    response = client.post("/api/cart/validate", json={"lines": lines})

    assert response.status_code == 200
    body = response.json()
    assert [v["performance_id"] for v in body["valid"]] == [str(good.id)]
    assert body["valid"][0]["total"] == {"cents": 4500, "display": "€ 45,00"}
    reasons = {u["performance_id"]: u["reason"] for u in body["unavailable"]}
    assert reasons == {str(sold_out.id): "sold_out", UNKNOWN: "unknown"}
    assert body["subtotal"]["cents"] == 4500
    assert body["can_check_out"] is True


def test_cart_validation_errors(site: Site, client: TestClient) -> None:
    good = str(site.performances("gebroeders-mierlo")[0].id)
    post = client.post

    _error(post("/api/cart/validate", data={"lines": "x"}), 415, "unsupported_media_type")
    _error(
        post("/api/cart/validate", content=b"{", headers={"content-type": "application/json"}),
        400,
        "invalid_input",
    )
    _error(post("/api/cart/validate", json=[]), 400, "invalid_input")
    _error(post("/api/cart/validate", json={"lines": [], "extra": 1}), 400, "invalid_input")
    _error(
        post("/api/cart/validate", json={"lines": [{"performance_id": good}]}), 400, "invalid_input"
    )
    _error(
        post("/api/cart/validate", json={"lines": [{"performance_id": good, "quantity": "2"}]}),
        400,
        "invalid_input",
    )
    _error(
        post("/api/cart/validate", json={"lines": [{"performance_id": good, "quantity": 11}]}),
        422,
        "invalid_quantity",
    )
    _error(
        post("/api/cart/validate", json={"lines": [{"performance_id": good, "quantity": -1}]}),
        422,
        "invalid_quantity",
    )
    many = [{"performance_id": str(uuid.uuid4()), "quantity": 1} for _ in range(21)]
    _error(post("/api/cart/validate", json={"lines": many}), 422, "too_many_lines")
    deep = b"[" * 5000 + b"]" * 5000
    _error(
        post("/api/cart/validate", content=deep, headers={"content-type": "application/json"}),
        400,
        "invalid_input",
    )


def test_checkout_places_an_order_and_returns_the_payment_url(
    site: Site, client: TestClient
) -> None:
    response = client.post("/api/checkout", json=_order(site, coupon_code="WELKOM10"))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["order_number"].startswith("OMT-")
    assert body["total"] == {"cents": 4050, "display": "€ 40,50"}
    assert body["payment_url"].startswith("https://pay.example/")
    assert body["payment_deferred"] is False
    assert body["status_url"].startswith(BASE_URL + "/bestelling/")
    status = client.get(body["api_url"])
    assert status.status_code == 200
    order = status.json()
    assert order["order_number"] == body["order_number"]
    assert order["status"] == "pending"
    assert order["payment_url"] == body["payment_url"]
    assert order["lines"][0]["quantity"] == 2
    assert order["discount"]["cents"] == 450


def test_the_hold_the_checkout_answer_shows_is_the_orders_hold(
    site: Site, client: TestClient
) -> None:
    body = client.post("/api/checkout", json=_order(site)).json()

    order = client.get(body["api_url"]).json()

    # ORDER_TTL_MINUTES (15 here) from the checkout: opening the payment did not move it.
    assert body["expires_at"] == order["expires_at"]
    held_until = datetime.fromisoformat(body["expires_at"])
    assert held_until == site.clock.now() + timedelta(minutes=15)


def test_checkout_with_the_provider_down_is_deferred(site: Site, client: TestClient) -> None:
    assert isinstance(site.gateway, MemoryPaymentGateway)
    site.gateway.down = True

    body = client.post("/api/checkout", json=_order(site)).json()

    assert body["payment_url"] is None
    assert body["payment_deferred"] is True
    assert [j.data["template"] for j in site.jobs("email")] == ["order_received"]


def test_checkout_refused_by_the_provider(site: Site, client: TestClient) -> None:
    assert isinstance(site.gateway, MemoryPaymentGateway)
    site.gateway.refuse = True

    _error(client.post("/api/checkout", json=_order(site)), 502, "permanent_failure")


def test_checkout_errors_carry_the_domain_codes(site: Site, client: TestClient) -> None:
    sold_out = next(p for p in site.performances("zwanenmeer") if p.sold_out)
    post = client.post

    _error(post("/api/checkout", json=_order(site, email="nope")), 422, "invalid_email")
    _error(post("/api/checkout", json=_order(site, name=" ")), 422, "invalid_name")
    _error(post("/api/checkout", json=_order(site, lines=[])), 422, "empty_cart")
    _error(post("/api/checkout", json=_order(site, coupon_code="NOPE")), 422, "coupon_unknown")
    _error(post("/api/checkout", json=_order(site, coupon_code="<x>")), 400, "invalid_input")
    _error(post("/api/checkout", json=_order(site, newsletter="yes")), 400, "invalid_input")
    _error(post("/api/checkout", json=_order(site, name="x" * 201)), 400, "invalid_input")
    _error(post("/api/checkout", json=_order(site, name=None)), 400, "invalid_input")
    _error(post("/api/checkout", json=_order(site, admin=True)), 400, "invalid_input")
    _error(
        post(
            "/api/checkout",
            json=_order(site, lines=[{"performance_id": str(sold_out.id), "quantity": 1}]),
        ),
        409,
        "not_enough_seats",
    )
    _error(
        post(
            "/api/checkout", json=_order(site, lines=[{"performance_id": UNKNOWN, "quantity": 1}])
        ),
        404,
        "unknown_performance",
    )
    _error(post("/api/checkout", data=_order(site, lines="x")), 415, "unsupported_media_type")
    _error(
        post(
            "/api/checkout",
            content=b'{"name": "\\ud800", "email": "a@b.nl", "lines": []}',
            headers={"content-type": "application/json"},
        ),
        400,
        "invalid_input",
    )
    assert site.count("orders") == 0


def test_order_status_errors(client: TestClient) -> None:
    _error(client.get("/api/orders/" + "A" * 43), 404, "order_not_found")
    _error(client.get("/api/orders/short"), 404, "order_not_found")


def test_unknown_paths_and_methods_are_json_errors(client: TestClient) -> None:
    _error(client.get("/api/nergens"), 404, "not_found")
    _error(client.delete("/api/shows"), 405, "method_not_allowed")
    _error(client.get("/api/checkout"), 405, "method_not_allowed")


def test_the_openapi_document_describes_every_api_route(site: Site, client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()

    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    served = {
        (route.path, method)
        for route in site.app.routes
        if isinstance(route, Route)
        and route.path.startswith("/api/")
        and route.path != "/api/openapi.json"
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert documented == served


def test_one_client_placing_order_after_order_is_slowed_down(
    make_site: Callable[..., Site],
) -> None:
    # Without the cap on unpaid tickets, which would refuse these 20 orders first.
    site = make_site(max_unpaid_tickets_per_performance=0)
    with site.client() as client:
        _slowed_down(site, client)


def _slowed_down(site: Site, client: TestClient) -> None:
    one_ticket = [
        {"performance_id": str(site.performances("gebroeders-mierlo")[1].id), "quantity": 1}
    ]
    placed = [
        client.post("/api/checkout", json=_order(site, lines=one_ticket)).status_code
        for _ in range(20)
    ]
    seats_left = site.performances("gebroeders-mierlo")[1].available_seats

    refused = client.post("/api/checkout", json=_order(site, lines=one_ticket))

    assert placed == [201] * 20
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert site.performances("gebroeders-mierlo")[1].available_seats == seats_left
    # The page's checkout shares the limit: the form says so.
    add_to_cart(client, site.performances("gebroeders-mierlo")[1].id, 1)
    page = check_out(client)
    assert page.status_code == 429
    assert "Te veel pogingen" in page.text


def test_checkouts_the_core_refuses_do_not_count_against_the_client(make_site) -> None:
    site = make_site(checkouts_per_client=2, max_unpaid_tickets_per_performance=0)
    sold_out = next(p for p in site.performances("zwanenmeer") if p.sold_out)
    performance = site.performances("gebroeders-mierlo")[1]
    one_ticket = [{"performance_id": str(performance.id), "quantity": 1}]
    with site.client() as client:
        refused = [
            client.post(
                "/api/checkout",
                json=_order(site, lines=[{"performance_id": str(sold_out.id), "quantity": 1}]),
            ).status_code
            for _ in range(5)
        ]
        placed = [
            client.post("/api/checkout", json=_order(site, lines=one_ticket)).status_code
            for _ in range(3)
        ]
    assert 429 not in refused
    assert all(400 <= status < 500 for status in refused)
    assert placed == [201, 201, 429]


def test_the_order_limit_per_client_can_be_lifted(make_site) -> None:
    site = make_site(checkouts_per_client=0, max_unpaid_tickets_per_performance=0)
    performance = site.performances("gebroeders-mierlo")[1]
    one_ticket = [{"performance_id": str(performance.id), "quantity": 1}]
    with site.client() as client:
        answers = {
            client.post("/api/checkout", json=_order(site, lines=one_ticket)).status_code
            for _ in range(25)
        }
    assert answers == {201}


def test_refusals_name_the_field_and_never_echo_the_callers_text(
    site: Site, client: TestClient
) -> None:
    good = str(site.performances("gebroeders-mierlo")[0].id)

    unknown = client.post("/api/checkout", json=_order(site, **{"<script>": 1}))
    quantity = client.post(
        "/api/cart/validate", json={"lines": [{"performance_id": good, "quantity": "2"}]}
    )
    missing = client.post("/api/checkout", json={"name": "Jan", "email": "jan@example.nl"})
    odd_name = client.post(
        "/api/cart/validate",
        content=b'{"lines": [], "x\\udc00": 1}',
        headers={"content-type": "application/json"},
    )

    _error(unknown, 400, "invalid_input")
    assert "<script>" not in unknown.text
    assert (
        "Toegestaan: name, email, coupon_code, newsletter, lines"
        in unknown.json()["error"]["message"]
    )
    _error(quantity, 400, "invalid_input")
    assert "lines[0].quantity" in quantity.json()["error"]["message"]
    _error(missing, 400, "invalid_input")
    assert "'lines' is verplicht" in missing.json()["error"]["message"]
    _error(odd_name, 400, "invalid_input")
    assert odd_name.json()["error"]["message"] == "Een veldnaam bevat ongeldige tekens."


def test_a_whole_number_written_as_2_0_is_a_quantity_of_2(site: Site, client: TestClient) -> None:
    good = str(site.performances("gebroeders-mierlo")[0].id)

    response = client.post(
        "/api/cart/validate", json={"lines": [{"performance_id": good, "quantity": 2.0}]}
    )
    half = client.post(
        "/api/cart/validate", json={"lines": [{"performance_id": good, "quantity": 1.5}]}
    )

    assert response.status_code == 200, response.text
    assert response.json()["valid"][0]["quantity"] == 2
    _error(half, 400, "invalid_input")


def test_other_query_parameters_are_ignored(site: Site, client: TestClient) -> None:
    good = site.performances("gebroeders-mierlo")[0].id

    availability = client.get(f"/api/performances/{good}/availability?quantity=2&_=17")
    shows = client.get("/api/shows?utm_source=nieuwsbrief")

    assert availability.status_code == 200, availability.text
    assert availability.json()["quantity"] == 2
    assert shows.status_code == 200


def _stored_language(site: Site, order_number: str) -> str:
    with site.container.engine().connect() as connection:
        return str(
            connection.execute(
                text("SELECT language FROM orders WHERE number = :n"), {"n": order_number}
            ).scalar_one()
        )


@pytest.mark.parametrize(
    ("field", "accept_language", "expected"),
    [
        ({}, None, "nl"),
        ({"language": "en"}, None, "en"),
        ({"language": "nl"}, "en-GB,en;q=0.9", "nl"),
        ({}, "en-GB,en;q=0.9,nl;q=0.8", "en"),
        ({}, "de-DE, fr;q=0.9", "nl"),
        ({}, "nl;q=0.5, en;q=0.7", "en"),
        ({}, "en;q=0, nl;q=0.1", "nl"),
        ({}, "en;q=abc", "nl"),
    ],
)
def test_an_order_placed_through_the_api_keeps_its_buyers_language(
    site: Site,
    client: TestClient,
    field: dict[str, str],
    accept_language: str | None,
    expected: str,
) -> None:
    headers = {"accept-language": accept_language} if accept_language else {}

    body = client.post("/api/checkout", json=_order(site, **field), headers=headers).json()

    assert body["language"] == expected
    assert _stored_language(site, body["order_number"]) == expected
    order = client.get(body["api_url"]).json()
    assert order["language"] == expected
    label = {"nl": "Wacht op betaling", "en": "Awaiting payment"}[expected]
    assert order["status_label"] == label


@pytest.mark.parametrize("language", ["de", "EN", "", 5, ["en"]])
def test_an_api_order_in_a_language_the_site_does_not_speak_is_refused(
    site: Site, client: TestClient, language: object
) -> None:
    response = client.post("/api/checkout", json=_order(site, language=language))

    _error(response, 400, "invalid_input")
    assert site.count("orders") == 0


def test_the_api_knows_the_same_languages_as_the_core():
    from typing import get_args

    from mierloos_core.model.orders import LANGUAGES
    from mierloos_entrypoints.web.api_models import Language

    assert get_args(Language) == LANGUAGES
