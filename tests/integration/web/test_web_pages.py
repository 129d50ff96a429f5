"""Home and show pages over HTTP, with the demo catalogue."""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.testclient import TestClient

from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.timeutil import local
from tests.integration.web.web_support import Site


def _card(html: str, slug: str) -> str:
    cards = re.findall(r'<li class="show-card.*?</li>', html, flags=re.S)
    found = [card for card in cards if f'href="/voorstellingen/{slug}"' in card]
    assert len(found) == 1, f"no single card for {slug}"
    return str(found[0])


def _offered(html: str) -> set[str]:
    return set(re.findall(r'name="performance_id" value="([0-9a-f-]{36})"', html))


def test_home_lists_upcoming_shows_with_first_date_and_sold_out(
    site: Site, client: TestClient
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="nl">' in html
    assert "Ons Mierloos Theater" in html
    brothers = site.performances("gebroeders-mierlo")[0]
    first = local(brothers.starts_at)
    card = _card(html, "gebroeders-mierlo")
    assert f'datetime="{first.isoformat(timespec="minutes")}"' in card
    assert f"{first.day} maart 2026, 20:15 uur" in card
    assert "Uitverkocht" not in card
    assert "Uitverkocht</p>" in _card(html, "cabaret-uitverkocht")
    assert 'alt=""' in card or "alt=" in card


def test_home_dates_skip_past_and_cancelled_performances(site: Site, client: TestClient) -> None:
    jazz = site.performances("jazz-op-zondag")
    upcoming = [
        p
        for p in jazz
        if p.status is PerformanceStatus.PUBLISHED and p.starts_at > site.clock.now()
    ]
    assert len(upcoming) == 1

    card = _card(client.get("/").text, "jazz-op-zondag")

    assert local(upcoming[0].starts_at).isoformat(timespec="minutes") in card


def test_shows_are_in_order_of_first_date(client: TestClient) -> None:
    html = client.get("/").text
    # A show playing in two months is listed under both; its first listing comes first.
    slugs = list(dict.fromkeys(re.findall(r'<h3><a href="/voorstellingen/([a-z0-9-]+)"', html)))

    assert slugs == ["cabaret-uitverkocht", "gebroeders-mierlo", "zwanenmeer", "jazz-op-zondag"]


def test_show_page_offers_only_sellable_performances(site: Site, client: TestClient) -> None:
    swan = site.performances("zwanenmeer")
    sellable = {str(p.id) for p in swan if not p.sold_out}
    sold_out = {str(p.id) for p in swan if p.sold_out}
    assert sellable
    assert sold_out

    response = client.get("/voorstellingen/zwanenmeer")

    assert response.status_code == 200
    assert _offered(response.text) == sellable
    assert "In winkelwagen" in response.text
    assert re.search(r"<select[^>]*name=\"quantity_[0-9a-f-]+\"", response.text)


def test_past_and_cancelled_performances_are_not_offered(site: Site, client: TestClient) -> None:
    jazz = site.performances("jazz-op-zondag")
    now = site.clock.now()
    good = {
        str(p.id) for p in jazz if p.status is PerformanceStatus.PUBLISHED and p.starts_at > now
    }

    offered = _offered(client.get("/voorstellingen/jazz-op-zondag").text)

    assert offered == good
    assert len(jazz) == 3


def test_show_without_sellable_performances_says_so(client: TestClient) -> None:
    response = client.get("/voorstellingen/cabaret-uitverkocht")

    assert response.status_code == 200
    assert _offered(response.text) == set()
    assert "geen kaarten te koop" in response.text
    assert 'action="/winkelwagen/toevoegen"' not in response.text
    # Sold out, so the only forms are the waiting list's.
    assert response.text.count("<form") == response.text.count('action="/wachtlijst/aanmelden"')


def test_a_performance_that_starts_now_is_no_longer_offered(site: Site, client: TestClient) -> None:
    first = site.performances("gebroeders-mierlo")[0]
    site.clock.set(first.starts_at)

    offered = _offered(client.get("/voorstellingen/gebroeders-mierlo").text)

    assert str(first.id) not in offered
    site.clock.set(first.starts_at - timedelta(seconds=1))
    assert str(first.id) in _offered(client.get("/voorstellingen/gebroeders-mierlo").text)


def test_quantity_selector_never_offers_more_than_seats_left(
    site: Site, client: TestClient
) -> None:
    html = client.get("/voorstellingen/gebroeders-mierlo").text
    first_select = re.search(r"<select.*?</select>", html, flags=re.S)
    assert first_select is not None

    options = re.findall(r'<option value="(\d+)"', first_select.group(0))

    assert options == [str(n) for n in range(1, 11)]


def test_unknown_show_is_a_friendly_404(client: TestClient) -> None:
    for path in (
        "/voorstellingen/bestaat-niet",
        "/voorstellingen/NIET",
        "/voorstellingen/" + "a" * 500,
        "/nergens",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Pagina niet gevonden" in response.text
        assert '<html lang="nl">' in response.text


def test_stylesheet_and_placeholder_are_served(client: TestClient) -> None:
    css = client.get("/static/site.css")
    svg = client.get("/static/affiche.svg")

    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert svg.status_code == 200
    assert css.headers["cache-control"] == "public, max-age=3600"
    assert "content-security-policy" in css.headers


def test_unknown_show_image_is_404(client: TestClient) -> None:
    assert (
        client.get("/afbeeldingen/00000000-0000-0000-0000-000000000000/md.jpg").status_code == 404
    )
    assert client.get("/afbeeldingen/nope/md.jpg").status_code == 404
    assert (
        client.get("/afbeeldingen/00000000-0000-0000-0000-000000000000/xl.jpg").status_code == 404
    )


def test_a_show_image_is_served_from_storage(site: Site, client: TestClient) -> None:
    import uuid

    from mierloos_core.services.images import variant_key

    image_id = uuid.uuid4()
    site.container.storage().put(variant_key(image_id, "md"), b"\xff\xd8jpeg", "image/jpeg")
    site.edit_show("zwanenmeer", image_id=image_id)

    card = _card(client.get("/").text, "zwanenmeer")
    image = client.get(f"/afbeeldingen/{image_id}/md.jpg")

    assert f'src="/afbeeldingen/{image_id}/md.jpg"' in card
    assert 'alt="Affiche van Het Zwanenmeer (Brabants Balletgezelschap)"' in card
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content == b"\xff\xd8jpeg"
