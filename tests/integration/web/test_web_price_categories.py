"""Visitors buy by price category: the show page's form, the cart, checkout and order pages in
both languages, and the JSON API's categories, refusals and OpenAPI document."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import PriceCategory, Visibility
from mierloos_entrypoints.web.cart_session import read_cart, write_cart
from tests.catalog_builders import CatalogBuilder
from tests.integration.web.web_support import Site, check_out, session_token

SHOW = "/voorstellingen/gebroeders-mierlo"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
TIMES = "\N{MULTIPLICATION SIGN}"
CJP_PRICE = Money(1250)


def _first(site: Site) -> Performance:
    return site.performances("gebroeders-mierlo")[0]


def _regular(site: Site, performance: Performance) -> PriceCategory:
    return CatalogBuilder(site.container.uow, site.clock).categories(performance)[0]


def _category(
    site: Site,
    performance: Performance,
    name_nl: str = "CJP-pas",
    name_en: str = "CJP card",
    **options: Any,
) -> PriceCategory:
    """A category with its own English name, at € 12,50 unless `price` says otherwise."""
    options.setdefault("price", CJP_PRICE)
    catalog = CatalogBuilder(site.container.uow, site.clock)
    return catalog.category(performance, name_nl, name_en=name_en, **options)


def _add(client: TestClient, performance: Performance, **fields: str) -> httpx.Response:
    data = {"csrf_token": session_token(client, SHOW), "performance_id": str(performance.id)}
    data.update(fields)
    return client.post("/winkelwagen/toevoegen", data=data)


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="cart-line[^"]*">.*?</tr>', html, flags=re.S)


def _api_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def _api_order(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "Jan Jansen", "email": "jan@example.nl", "lines": lines}


# --- the show page ------------------------------------------------------------------------------


def test_show_page_offers_each_public_category_with_its_price(
    site: Site, client: TestClient
) -> None:
    performance = _first(site)
    cjp = _category(site, performance, limit=30)
    press = _category(site, performance, "Pers", "Press", visibility=Visibility.STAFF)

    page = client.get(SHOW).text

    form = next(f for f in re.findall(r"<form\b.*?</form>", page, re.S) if str(cjp.id) in f)
    regular = _regular(site, performance)
    assert f'name="quantity_{regular.id}"' in form
    assert f'name="quantity_{cjp.id}"' in form
    assert "Regulier" in form
    assert "€ 22,50" in form
    assert "CJP-pas" in form
    assert "€ 12,50" in form
    assert f'<label for="aantal-{cjp.id}">' in form
    assert "<fieldset" in form
    assert "<legend>" in form
    assert str(press.id) not in page
    assert "Pers" not in page

    client.get("/taal/en")
    english = client.get(SHOW).text
    assert "CJP card" in english
    assert "Regular" in english
    assert "Number of tickets per price" in english


def test_a_limited_category_tells_its_seats_left(site: Site, client: TestClient) -> None:
    performance = _first(site)
    cjp = _category(site, performance, limit=100, available=3)

    page = client.get(SHOW).text

    assert re.search(rf'id="voorraad-{cjp.id}">\s*Bijna uitverkocht: nog 3 plaatsen', page)
    options = re.search(rf'name="quantity_{cjp.id}".*?</select>', page, re.S)
    assert options is not None
    assert 'value="3"' in options.group(0)
    assert 'value="4"' not in options.group(0)


# --- cart, checkout and order pages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "names", "prices"),
    [
        ("nl", ("Regulier", "CJP-pas"), ("€ 22,50", "€ 12,50", "€ 57,50")),
        ("en", ("Regular", "CJP card"), ("€22.50", "€12.50", "€57.50")),
    ],
)
def test_two_categories_in_one_order(
    site: Site,
    client: TestClient,
    language: str,
    names: tuple[str, str],
    prices: tuple[str, str, str],
) -> None:
    performance = _first(site)
    regular, cjp = _regular(site, performance), _category(site, performance)
    client.get(f"/taal/{language}")

    response = _add(
        client, performance, **{f"quantity_{regular.id}": "2"}, **{f"quantity_{cjp.id}": "1"}
    )

    assert response.status_code == 303, response.text
    rows = _rows(client.get("/winkelwagen").text)
    assert len(rows) == 2
    assert f"({names[0]})" in rows[0]
    assert f"2 {TIMES} {prices[0]}" in rows[0]
    assert f"({names[1]})" in rows[1]
    assert f"1 {TIMES} {prices[1]}" in rows[1]
    checkout = client.get("/afrekenen").text
    assert f"({names[1]})" in checkout
    assert f"1 {TIMES} {prices[1]}" in checkout
    assert prices[2] in checkout

    placed = check_out(client)

    assert placed.status_code == 303, placed.text
    with site.container.engine().connect() as connection:
        secret = connection.execute(text("SELECT secret FROM orders")).scalar_one()
    order_page = client.get(f"/bestelling/{secret}").text
    assert f"({names[0]})" in order_page
    assert f"2 {TIMES} {prices[0]}" in order_page
    assert f"({names[1]})" in order_page
    assert f"1 {TIMES} {prices[1]}" in order_page
    assert site.performance(performance.id).available_seats == performance.available_seats - 3
    assert site.count("tickets", category_name=names[0]) == 2
    assert site.count("tickets", category_name=names[1]) == 1


def test_staff_only_and_unknown_categories_are_refused_by_the_form(
    site: Site, client: TestClient
) -> None:
    performance, other = site.performances("gebroeders-mierlo")[:2]
    press = _category(site, performance, "Pers", "Press", visibility=Visibility.STAFF)
    elsewhere = _category(site, other)

    assert _add(client, performance, category_id=str(press.id), quantity="1").status_code == 422
    assert _add(client, performance, **{f"quantity_{press.id}": "1"}).status_code == 422
    assert _add(client, performance, category_id=UNKNOWN, quantity="1").status_code == 404
    assert _add(client, performance, category_id=str(elsewhere.id), quantity="1").status_code == 404
    assert _add(client, performance, category_id="nope", quantity="1").status_code == 400
    assert _add(client, performance, **{"quantity_nope": "1"}).status_code == 400
    assert _add(client, performance, **{f"quantity_{elsewhere.id}": "-1"}).status_code == 400
    assert _add(client, performance, **{f"quantity_{elsewhere.id}": "0"}).status_code == 400
    assert _add(client, performance, **{f"quantity_{elsewhere.id}": "9" * 40}).status_code == 400
    assert "Je winkelwagen is leeg" in client.get("/winkelwagen").text


def test_a_sold_out_category_is_refused_and_nothing_is_taken(
    site: Site, client: TestClient
) -> None:
    performance = _first(site)
    cjp = _category(site, performance, limit=2)

    refused = _add(client, performance, category_id=str(cjp.id), quantity="3")

    assert refused.status_code == 409
    assert "niet genoeg kaarten meer in deze prijscategorie" in refused.text
    assert _add(client, performance, category_id=str(cjp.id), quantity="2").status_code == 303
    assert check_out(client).status_code == 303
    assert site.performance(performance.id).available_seats == performance.available_seats - 2
    with site.container.uow() as uow:
        assert uow.price_categories.get(cjp.id).available == 0  # type: ignore[union-attr]
    assert f'name="quantity_{cjp.id}"' not in client.get(SHOW).text


def test_a_cart_cookie_from_before_categories_still_loads() -> None:
    performance_id, category_id = uuid.uuid4(), uuid.uuid4()
    session: dict[str, Any] = {
        "cart": [
            [str(performance_id), 2, None],
            [str(performance_id), 1, None, str(category_id)],
            [str(performance_id), 1, None, "not-a-category"],
        ]
    }

    lines = read_cart(session, max_lines=20, max_quantity=10)

    assert [(line.category_id, line.quantity) for line in lines] == [(None, 2), (category_id, 1)]
    write_cart(session, lines)
    assert read_cart(session, max_lines=20, max_quantity=10) == lines


# --- the JSON API -------------------------------------------------------------------------------


def test_api_lists_the_public_categories(site: Site, client: TestClient) -> None:
    performance = _first(site)
    cjp = _category(site, performance, limit=20)
    _category(site, performance, "Pers", "Press", visibility=Visibility.STAFF)

    shows = client.get("/api/shows", headers={"Accept-Language": "en"}).json()["shows"]

    listed = next(p for s in shows for p in s["performances"] if p["id"] == str(performance.id))
    assert [c["name"] for c in listed["categories"]] == ["Regular", "CJP card"]
    regular, limited = listed["categories"]
    assert regular["limited"] is False
    assert regular["available_seats"] is None
    assert regular["stock"] is None
    assert regular["price"]["cents"] == 2250
    assert limited == {
        "id": str(cjp.id),
        "name": "CJP card",
        "name_nl": "CJP-pas",
        "name_en": "CJP card",
        "price": {"cents": 1250, "display": "€ 12,50"},
        "limited": True,
        "available_seats": 20,
        "limit": 20,
        "stock": "available",
    }


def test_api_availability_answers_for_a_category(site: Site, client: TestClient) -> None:
    performance = _first(site)
    cjp = _category(site, performance, limit=2)
    press = _category(site, performance, "Pers", "Press", visibility=Visibility.STAFF)
    url = f"/api/performances/{performance.id}/availability"

    answer = client.get(url, params={"category_id": str(cjp.id), "quantity": "2"}).json()
    assert answer["available"] is True
    assert answer["price"]["cents"] == 1250
    assert answer["category"]["id"] == str(cjp.id)
    assert answer["category"]["available_seats"] == 2

    too_many = client.get(url, params={"category_id": str(cjp.id), "quantity": "3"}).json()
    assert too_many["available"] is False
    assert too_many["reason"]["code"] == "category_sold_out"

    default = client.get(url).json()
    assert default["category"]["name"] == "Regulier"
    assert default["price"]["cents"] == 2250

    _api_error(client.get(url, params={"category_id": UNKNOWN}), 404, "unknown_price_category")
    _api_error(
        client.get(url, params={"category_id": str(press.id)}), 422, "price_category_not_for_sale"
    )
    _api_error(client.get(url, params={"category_id": "nope"}), 400, "invalid_input")


def test_api_validate_and_checkout_by_category(site: Site, client: TestClient) -> None:
    performance = _first(site)
    cjp = _category(site, performance, limit=5)
    lines = [
        {"performance_id": str(performance.id), "quantity": 2},
        {"performance_id": str(performance.id), "quantity": 1, "category_id": str(cjp.id)},
    ]

    validated = client.post("/api/cart/validate", json={"lines": lines}).json()
    assert [(v["category_name"], v["unit_price"]["cents"]) for v in validated["valid"]] == [
        ("Regulier", 2250),
        ("CJP-pas", 1250),
    ]
    assert validated["subtotal"]["cents"] == 5750

    placed = client.post("/api/checkout", json=_api_order(lines))
    assert placed.status_code == 201, placed.text
    assert placed.json()["total"]["cents"] == 5750
    order = client.get(placed.json()["api_url"]).json()
    assert {(line["category_name"], line["quantity"]) for line in order["lines"]} == {
        ("Regulier", 2),
        ("CJP-pas", 1),
    }
    with site.container.uow() as uow:
        assert uow.price_categories.get(cjp.id).available == 4  # type: ignore[union-attr]


def test_api_refuses_unknown_staff_only_and_sold_out_categories(
    site: Site, client: TestClient
) -> None:
    performance, other = site.performances("gebroeders-mierlo")[:2]
    cjp = _category(site, performance, limit=1)
    press = _category(site, performance, "Pers", "Press", visibility=Visibility.STAFF)
    elsewhere = _category(site, other)
    seats = site.performance(performance.id).available_seats

    def line(category: object, quantity: int = 1) -> list[dict[str, Any]]:
        return [
            {"performance_id": str(performance.id), "quantity": quantity, "category_id": category}
        ]

    for path in ("/api/cart/validate", "/api/checkout"):

        def post(lines: list[dict[str, Any]], path: str = path) -> httpx.Response:
            return client.post(
                path, json=_api_order(lines) if "checkout" in path else {"lines": lines}
            )

        _api_error(post(line(UNKNOWN)), 404, "unknown_price_category")
        _api_error(post(line(str(elsewhere.id))), 404, "unknown_price_category")
        _api_error(post(line(str(press.id))), 422, "price_category_not_for_sale")
        _api_error(post(line("nope")), 400, "invalid_input")
        _api_error(post(line(12)), 400, "invalid_input")
    _api_error(
        client.post("/api/checkout", json=_api_order(line(str(cjp.id), 2))),
        409,
        "price_category_sold_out",
    )
    mixed = [*line(None, 1), *line(str(cjp.id), 2)]
    _api_error(client.post("/api/checkout", json=_api_order(mixed)), 409, "price_category_sold_out")
    assert site.performance(performance.id).available_seats == seats
    assert site.count("orders") == 0


def test_openapi_describes_the_categories(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]

    assert "category_id" in schemas["CartLineInput"]["properties"]
    assert "category_id" not in schemas["CartLineInput"].get("required", [])
    assert {"id", "name", "price", "stock", "available_seats"} <= set(
        schemas["Category"]["properties"]
    )
    assert "categories" in schemas["Performance"]["properties"]
    assert "category_name" in schemas["OrderLine"]["properties"]
    availability = document["paths"]["/api/performances/{performance_id}/availability"]["get"]
    assert "category_id" in {p["name"] for p in availability["parameters"]}


def test_a_category_sold_out_meanwhile_is_marked_in_the_cart(
    site: Site, client: TestClient
) -> None:
    performance = _first(site)
    cjp = _category(site, performance, limit=2)
    assert _add(client, performance, category_id=str(cjp.id), quantity="2").status_code == 303
    line = [{"performance_id": str(performance.id), "quantity": 1, "category_id": str(cjp.id)}]
    with site.client() as other:
        assert other.post("/api/checkout", json=_api_order(line)).status_code == 201

    cart = client.get("/winkelwagen").text

    unavailable = re.search(r'<tr class="cart-line unavailable">.*?</tr>', cart, re.S)
    assert unavailable is not None
    assert "(CJP-pas)" in unavailable.group(0)
    assert "niet genoeg kaarten meer in deze prijscategorie" in unavailable.group(0)
    assert site.count("orders") == 1
