"""One client may hold only so many unpaid tickets per performance (seat hoarding)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.integration.web.web_support import Site, add_to_cart, check_out
from tests.postgres_server import fresh_database

MESSAGE = "U heeft al te veel onbetaalde kaarten voor deze voorstelling."


def api_order(site: Site, email: str, quantity: int = 10) -> dict[str, Any]:
    performance = site.performances("gebroeders-mierlo")[0]
    return {
        "name": "Jan Jansen",
        "email": email,
        "lines": [{"performance_id": str(performance.id), "quantity": quantity}],
    }


def test_five_api_checkouts_of_one_client_hold_ten_seats_not_fifty(
    site: Site, client: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    before = site.performance(performance.id).available_seats

    codes = []
    for n in range(5):
        response = client.post("/api/checkout", json=api_order(site, f"hamster{n}@example.nl"))
        codes.append(response.status_code)
        if response.status_code != 201:
            body = response.json()["error"]
            assert body["code"] == "too_many_unpaid_tickets"
            assert body["message"].startswith(MESSAGE)

    assert codes == [201, 409, 409, 409, 409]
    assert site.performance(performance.id).available_seats == before - 10
    assert site.count("orders") == 1
    # The cap is per performance: the same client still buys for another one.
    body = api_order(site, "hamster0@example.nl", 2)
    body["lines"][0]["performance_id"] = str(site.performances("gebroeders-mierlo")[1].id)
    assert client.post("/api/checkout", json=body).status_code == 201


def test_the_checkout_page_shows_the_refusal(site: Site, client: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]
    assert client.post("/api/checkout", json=api_order(site, "jan@example.nl")).status_code == 201

    add_to_cart(client, performance.id, 1)
    response = check_out(client, email="jan@example.nl")

    assert response.status_code == 409
    assert MESSAGE in response.text
    assert site.count("orders") == 1


def test_english_visitors_read_the_refusal_in_english(site: Site, client: TestClient) -> None:
    client.get("/taal/en")
    assert client.post("/api/checkout", json=api_order(site, "jan@example.nl")).status_code == 201
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    response = check_out(client, email="jan@example.nl")
    assert "You already hold too many unpaid tickets" in response.text


@pytest.fixture
def postgres_database(postgres_admin_url: str) -> Iterator[str]:
    with ExitStack() as stack:
        yield stack.enter_context(fresh_database(postgres_admin_url))


def test_concurrent_checkouts_of_one_client_on_postgres_stay_under_the_cap(
    make_site: Callable[..., Site], postgres_database: str
) -> None:
    site = make_site(database_url=postgres_database, migrate=True)
    performance = site.performances("gebroeders-mierlo")[0]
    before = site.performance(performance.id).available_seats

    def buy(n: int) -> int:
        with site.client() as own:
            body = api_order(site, f"koper{n}@example.nl", 3)
            return own.post("/api/checkout", json=body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(buy, range(16)))

    assert sorted(codes) == [201] * 3 + [409] * 13
    assert site.performance(performance.id).available_seats == before - 9
