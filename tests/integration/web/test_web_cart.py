"""The cart in the signed session: adding, showing with revalidation, removing."""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.testclient import TestClient

from mierloos_core.model.catalog import PerformanceStatus
from tests.catalog_builders import CatalogBuilder
from tests.integration.web.web_support import Site, add_to_cart, csrf_token, session_token


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="cart-line[^"]*">.*?</tr>', html, flags=re.S)


def _total(html: str) -> str:
    found = re.search(r'<td class="amount total">([^<]+)</td>', html)
    assert found is not None
    return found.group(1)


def test_adding_tickets_shows_them_in_the_cart(site: Site, client: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]

    response = add_to_cart(client, performance.id, 2)

    assert response.status_code == 303
    assert response.headers["location"] == "/winkelwagen"
    page = client.get("/winkelwagen").text
    rows = _rows(page)
    assert len(rows) == 1
    assert "De Gebroeders Mierlo" in rows[0]
    assert "2 \N{MULTIPLICATION SIGN} € 22,50" in rows[0]
    assert _total(page) == "€ 45,00"
    assert "(2 kaarten)" in page
    assert 'href="/afrekenen"' in page


def test_adding_the_same_performance_again_adds_up_and_is_capped(
    site: Site, client: TestClient
) -> None:
    performance = site.performances("gebroeders-mierlo")[1]
    add_to_cart(client, performance.id, 4)
    add_to_cart(client, performance.id, 3)
    assert "7 \N{MULTIPLICATION SIGN} € 22,50" in client.get("/winkelwagen").text

    add_to_cart(client, performance.id, 9)

    page = client.get("/winkelwagen").text
    assert len(_rows(page)) == 1
    assert "10 \N{MULTIPLICATION SIGN} € 22,50" in page
    assert "hoogstens 10 kaarten" in page


def test_sold_out_cancelled_and_past_performances_cannot_be_added(
    site: Site, client: TestClient
) -> None:
    sold_out = next(p for p in site.performances("zwanenmeer") if p.sold_out)
    jazz = site.performances("jazz-op-zondag")
    past = next(p for p in jazz if p.starts_at < site.clock.now())
    cancelled = next(p for p in jazz if p.status is PerformanceStatus.CANCELLED)

    for performance, text in (
        (sold_out, "Uitverkocht."),
        (past, "al geweest"),
        (cancelled, "geannuleerd"),
    ):
        response = add_to_cart(client, performance.id, 1)
        assert response.status_code == 409
        assert text in response.text

    assert _rows(client.get("/winkelwagen").text) == []
    assert "Je winkelwagen is leeg" in client.get("/winkelwagen").text


def test_more_tickets_than_seats_left_cannot_be_added(site: Site, client: TestClient) -> None:
    catalog = CatalogBuilder(site.container.uow, site.clock)
    performance = catalog.performance(capacity=3)

    response = add_to_cart(client, performance.id, 4)

    assert response.status_code == 409
    assert "minder plaatsen vrij" in response.text


def test_expired_line_is_shown_in_red_and_left_out_of_the_total(
    site: Site, client: TestClient
) -> None:
    first, second = site.performances("gebroeders-mierlo")[:2]
    add_to_cart(client, first.id, 2)
    add_to_cart(client, second.id, 1)
    assert _total(client.get("/winkelwagen").text) == "€ 67,50"

    site.clock.set(first.starts_at + timedelta(hours=1))

    page = client.get("/winkelwagen").text
    rows = _rows(page)
    assert len(rows) == 2
    expired = [row for row in rows if 'class="cart-line unavailable"' in row]
    assert len(expired) == 1
    assert "Deze voorstelling is al geweest." in expired[0]
    assert "telt niet mee" in expired[0]
    assert _total(page) == "€ 22,50"
    assert 'href="/afrekenen"' in page


def test_nothing_valid_left_disables_checkout(site: Site, client: TestClient) -> None:
    first = site.performances("gebroeders-mierlo")[0]
    add_to_cart(client, first.id, 1)
    site.clock.set(first.starts_at)

    page = client.get("/winkelwagen").text

    assert '<button type="button" class="button" disabled>Afrekenen</button>' in page
    assert 'href="/afrekenen"' not in page
    assert _total(page) == "€ 0,00"
    response = client.get("/afrekenen")
    assert response.status_code == 303
    assert response.headers["location"] == "/winkelwagen"


def test_a_line_can_be_removed(site: Site, client: TestClient) -> None:
    first, second = site.performances("gebroeders-mierlo")[:2]
    add_to_cart(client, first.id, 1)
    add_to_cart(client, second.id, 1)
    token = csrf_token(client.get("/winkelwagen").text)

    response = client.post(
        "/winkelwagen/verwijderen", data={"csrf_token": token, "performance_id": str(first.id)}
    )

    assert response.status_code == 303
    page = client.get("/winkelwagen").text
    assert str(first.id) not in page
    assert str(second.id) in page


def test_the_cart_holds_at_most_twenty_performances(site: Site, client: TestClient) -> None:
    catalog = CatalogBuilder(site.container.uow, site.clock)
    show = catalog.show()
    performances = [
        catalog.performance(show, starts_in=timedelta(days=2, hours=n)) for n in range(21)
    ]
    token_page = f"/voorstellingen/{show.slug}"
    for performance in performances[:20]:
        assert add_to_cart(client, performance.id, 1, token_page=token_page).status_code == 303

    add_to_cart(client, performances[20].id, 1, token_page=token_page)

    page = client.get("/winkelwagen").text
    assert len(_rows(page)) == 20
    assert "Je winkelwagen is vol" in page


def test_a_tampered_session_cookie_is_ignored(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 2)
    cookie = client.cookies["mierloos_sessie"]
    client.cookies.set("mierloos_sessie", cookie[:-3] + ("AAA" if cookie[-3:] != "AAA" else "BBB"))

    page = client.get("/winkelwagen").text

    assert "Je winkelwagen is leeg" in page


def test_the_cart_belongs_to_the_session(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 2)

    with site.client() as other:
        assert "Je winkelwagen is leeg" in other.get("/winkelwagen").text
        assert session_token(other) != session_token(client)
