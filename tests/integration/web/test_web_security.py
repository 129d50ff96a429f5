"""CSRF, cookies, headers, body and field limits, hostile input, and error pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import attrs
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from mierloos_entrypoints.web.security import checks_csrf, is_csrf_exempt
from tests.integration.web.web_support import (
    Site,
    add_to_cart,
    check_out,
    checkout_form,
    session_token,
)

SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
)


def _html_post_routes(site: Site) -> list[Route]:
    return [
        route
        for route in site.app.routes
        if isinstance(route, Route)
        and "POST" in (route.methods or set())
        and not is_csrf_exempt(route.path)
    ]


def test_every_html_post_route_checks_the_csrf_token(site: Site) -> None:
    routes = _html_post_routes(site)

    assert {r.path for r in routes} >= {"/winkelwagen/toevoegen", "/afrekenen"}
    assert all(checks_csrf(route.endpoint) for route in routes)


@pytest.mark.parametrize(
    "path",
    [
        "/winkelwagen/toevoegen",
        "/winkelwagen/verwijderen",
        "/afrekenen",
        "/bestelling/" + "a" * 43 + "/betalen",
    ],
)
def test_posts_without_or_with_a_wrong_token_are_refused(
    site: Site, client: TestClient, path: str
) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    data = {"performance_id": str(performance.id), "quantity": "1"}
    session_token(client)

    missing = client.post(path, data=data)
    wrong = client.post(path, data={**data, "csrf_token": "x" * 43})

    assert missing.status_code == 403
    assert wrong.status_code == 403
    assert "Verzoek geweigerd" in missing.text
    assert "Je winkelwagen is leeg" in client.get("/winkelwagen").text


def test_a_token_from_another_session_is_refused(site: Site, client: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    with site.client() as other:
        foreign = session_token(other)
    session_token(client)

    response = client.post(
        "/winkelwagen/toevoegen",
        data={"csrf_token": foreign, "performance_id": str(performance.id), "quantity": "1"},
    )

    assert response.status_code == 403


def test_a_post_without_any_session_is_refused(site: Site, client: TestClient) -> None:
    token = session_token(client)
    client.cookies.clear()

    response = client.post("/afrekenen", data={"csrf_token": token, "name": "x"})

    assert response.status_code == 403


def test_session_cookie_flags(site: Site, client: TestClient) -> None:
    response = client.get("/voorstellingen/gebroeders-mierlo")
    cookie = response.headers["set-cookie"].lower()

    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


def test_session_cookie_is_secure_on_https(make_site: Callable[..., Site]) -> None:
    site = make_site(base_url="https://kaarten.example.nl")
    with site.client() as client:
        response = client.get("/voorstellingen/gebroeders-mierlo")
    cookie = response.headers["set-cookie"].lower()

    assert "secure" in cookie
    assert "httponly" in cookie
    assert "strict-transport-security" in response.headers


@pytest.mark.parametrize("path", ["/", "/winkelwagen", "/nergens", "/api/shows", "/api/nergens"])
def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    response = client.get(path)

    for name in SECURITY_HEADERS:
        assert name in response.headers, (path, name)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


class _BrokenClock:
    def now(self) -> datetime:
        raise RuntimeError("secret internals: /etc/passwd")


def test_an_unexpected_error_is_a_friendly_500_without_a_trace(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.app.state.services = attrs.evolve(site.app.state.services, clock=_BrokenClock())
    with site.client(raise_server_exceptions=False) as client:
        page = client.get("/")
        api = client.get("/api/shows")

    assert page.status_code == 500
    assert "Er ging iets mis" in page.text
    assert "Traceback" not in page.text
    assert "secret internals" not in page.text
    for name in SECURITY_HEADERS:
        assert name in page.headers
    assert api.status_code == 500
    assert api.json() == {
        "error": {"code": "internal_error", "message": api.json()["error"]["message"]}
    }
    assert "secret internals" not in api.text
    assert any("RuntimeError" in record.getMessage() for record in caplog.records)


def test_bodies_over_the_limit_are_refused(client: TestClient) -> None:
    token = session_token(client)
    big = "x" * 100_000

    form = client.post("/afrekenen", data={"csrf_token": token, "name": big})
    api = client.post(
        "/api/cart/validate",
        content=b'{"lines": [], "x": "' + big.encode() + b'"}',
        headers={"content-type": "application/json"},
    )
    webhook = client.post("/webhooks/payments", data={"id": big})

    assert form.status_code == 413
    assert "Te veel gegevens" in form.text
    assert api.status_code == 413
    assert api.json()["error"]["code"] == "payload_too_large"
    assert webhook.status_code == 413


def test_a_chunked_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no content-length: the limit is counted while reading
        for _ in range(100):
            yield b"x" * 1024

    response = client.post(
        "/api/cart/validate", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "n" * 201),
        ("email", "e" * 250 + "@example.nl"),
        ("coupon", "C" * 65),
        ("coupon", "<script>"),
        ("name", "Jan\x00Jansen"),
    ],
)
def test_checkout_fields_over_their_limits_are_refused(
    site: Site, client: TestClient, field: str, value: str
) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)

    response = check_out(client, **{field: value})

    assert response.status_code in (400, 422)
    assert site.count("orders") == 0
    assert site.count("jobs") == 0


def test_script_in_a_field_is_escaped_when_shown_again(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)

    response = check_out(client, name="<script>alert(1)</script>", email="geen-adres")

    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert site.count("orders") == 0


@pytest.mark.parametrize(
    ("performance_id", "quantity", "status"),
    [
        ("good", "-1", 400),
        ("good", "0", 400),
        ("good", "11", 400),
        ("good", "99999999999999999999", 400),
        ("good", "1e3", 400),
        ("good", "", 400),
        ("good", "<b>2</b>", 400),
        ("not-a-uuid", "1", 400),
        ("00000000-0000-0000-0000-00000000000g", "1", 400),
        ("{00000000-0000-0000-0000-000000000000}", "1", 400),
        ("00000000-0000-0000-0000-000000000000", "1", 404),
        ("' OR 1=1 --", "1", 400),
    ],
)
def test_hostile_cart_input_is_a_clear_4xx_and_stores_nothing(
    site: Site, client: TestClient, performance_id: str, quantity: str, status: int
) -> None:
    if performance_id == "good":
        performance_id = str(site.performances("gebroeders-mierlo")[0].id)

    response = add_to_cart(client, performance_id, quantity)

    assert response.status_code == status
    assert "Traceback" not in response.text
    assert "Je winkelwagen is leeg" in client.get("/winkelwagen").text


def test_file_uploads_are_refused(site: Site, client: TestClient) -> None:
    token = session_token(client)

    response = client.post(
        "/winkelwagen/toevoegen",
        data={"csrf_token": token, "quantity": "1"},
        files={"performance_id": ("x.txt", b"hello", "text/plain")},
    )

    assert response.status_code == 400


def test_too_many_form_fields_are_refused(client: TestClient) -> None:
    token = session_token(client)
    data = {f"f{n}": "x" for n in range(50)}

    response = client.post("/afrekenen", data={"csrf_token": token, **data})

    assert response.status_code == 400


def test_invalid_utf8_in_a_form_is_not_a_500(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    fields = checkout_form(client)
    body = "&".join(f"{k}={v}" for k, v in fields.items()) + "&name=%ED%A0%80&email=a%FF%40b.nl"

    response = client.post(
        "/afrekenen",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code < 500
    assert site.count("orders") in (0, 1)


def test_the_order_page_is_not_reachable_by_id_or_number(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    check_out(client)
    with site.container.engine().connect() as connection:
        from sqlalchemy import text

        order_id, number, secret = connection.execute(
            text("SELECT id, number, secret FROM orders")
        ).one()

    assert client.get(f"/bestelling/{secret}").status_code == 200
    for key in (str(order_id), number, str(order_id).replace("-", ""), secret[:-1], secret + "x"):
        assert client.get(f"/bestelling/{key}").status_code == 404, key
        assert client.get(f"/api/orders/{key}").status_code == 404, key


@pytest.mark.parametrize("path", ["/beheer/", "/winkelwagen/", "/account/inloggen/"])
def test_redirects_follow_base_url_never_the_requests_host(client, path) -> None:
    answer = client.get(path, headers={"host": "evil.example"})

    assert answer.status_code in (302, 303, 307)
    assert answer.headers["location"].startswith("http://testserver/")
    assert "evil.example" not in answer.headers["location"]
