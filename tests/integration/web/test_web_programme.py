"""The programme: the agenda by month with its filters, show facts, pictures in every size, and
calendar files for a performance and an order."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_core.model.timeutil import local
from tests.integration.web.web_support import Site, add_to_cart, check_out


def _slugs(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'<h3><a href="/voorstellingen/([a-z0-9-]+)"', html)))


def _month(site: Site, slug: str, index: int = 0) -> str:
    return local(site.performances(slug)[index].starts_at).strftime("%Y-%m")


def test_the_agenda_is_grouped_by_month_and_filters_on_month(site: Site, client: TestClient):
    jazz = [p for p in site.performances("jazz-op-zondag") if p.status.value == "published"]
    upcoming = max(jazz, key=lambda p: p.starts_at)
    month = local(upcoming.starts_at).strftime("%Y-%m")

    everything = client.get("/").text
    filtered = client.get(f"/?maand={month}").text

    assert len(re.findall(r'class="month-heading"', everything)) >= 1
    assert "jazz-op-zondag" in _slugs(filtered)
    assert all(
        any(local(p.starts_at).strftime("%Y-%m") == month for p in site.performances(slug))
        for slug in _slugs(filtered)
    )


def test_the_agenda_filters_on_genre_and_this_week(site: Site, client: TestClient) -> None:
    site.edit_show("zwanenmeer", genre="Dans")

    assert _slugs(client.get("/?genre=dans").text) == ["zwanenmeer"]
    week = _slugs(client.get("/?week=1").text)
    now = site.container.clock().now()
    for slug in week:
        assert any(now < p.starts_at <= now + timedelta(days=7) for p in site.performances(slug)), (
            slug
        )
    assert "zwanenmeer" not in week  # its first date is ten days away


def test_malformed_filters_are_ignored(client: TestClient) -> None:
    for query in ("maand=1999-13", "maand=%00", "genre=" + "x" * 500, "week=ja"):
        response = client.get(f"/?{query}")
        assert response.status_code == 200
        assert "<h3>" in response.text, query


def test_a_show_page_gives_its_facts_and_the_seats_left(site: Site, client: TestClient) -> None:
    site.edit_show("zwanenmeer", genre="Dans", duration_minutes=95, age_advice="6+")

    html = client.get("/voorstellingen/zwanenmeer").text

    assert "<dd>95 minuten</dd>" in html
    assert "<dd>6+</dd>" in html
    assert "nog 80 plaatsen" not in html  # a full hall is not advertised (test_web_seats_left)
    assert "Uitverkocht" in html  # the sold out date is listed, without a form
    assert html.count('action="/winkelwagen/toevoegen"') == 1


def test_a_show_picture_comes_in_every_size_and_lazily(site: Site, client: TestClient) -> None:
    image_id = uuid.uuid4()
    site.edit_show("jazz-op-zondag", image_id=image_id)

    home = client.get("/").text
    srcset = re.search(rf'srcset="([^"]*{image_id}[^"]*)"', home)

    assert srcset is not None
    for size, width in (("sm", 400), ("md", 800), ("lg", 1600)):
        assert f"/afbeeldingen/{image_id}/{size}.jpg {width}w" in srcset.group(1)
    card = home[home.index(f"/afbeeldingen/{image_id}") - 200 :][:900]
    assert 'loading="lazy"' in card


def test_a_performance_calendar_file(site: Site, client: TestClient) -> None:
    performance = site.performances("gebroeders-mierlo")[0]

    response = client.get(f"/voorstellingen/gebroeders-mierlo/{performance.id}.ics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "De Gebroeders Mierlo"
    assert event.decoded("DTSTART") == performance.starts_at
    assert str(event["UID"]) == f"performance-{performance.id}@mierloos"


def test_a_calendar_file_only_for_a_published_performance_of_that_show(
    site: Site, client: TestClient
) -> None:
    other = site.performances("zwanenmeer")[0]
    cancelled = next(
        p for p in site.performances("jazz-op-zondag") if p.status.value == "cancelled"
    )

    assert client.get(f"/voorstellingen/gebroeders-mierlo/{other.id}.ics").status_code == 404
    assert client.get(f"/voorstellingen/jazz-op-zondag/{cancelled.id}.ics").status_code == 404
    assert client.get(f"/voorstellingen/jazz-op-zondag/{uuid.uuid4()}.ics").status_code == 404
    assert client.get("/voorstellingen/jazz-op-zondag/niet-een-id.ics").status_code == 404


def test_an_order_calendar_file_through_its_secret_link(site: Site, client: TestClient) -> None:
    first, second = site.performances("gebroeders-mierlo")[:2]
    add_to_cart(client, first.id, 2)
    add_to_cart(client, second.id, 1)
    check_out(client)
    with site.container.engine().connect() as connection:
        secret, number = connection.execute(text("SELECT secret, number FROM orders")).one()

    response = client.get(f"/bestelling/{secret}/agenda.ics")
    events = Calendar.from_ical(response.content).walk("VEVENT")

    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    assert sorted(e.decoded("DTSTART") for e in events) == [first.starts_at, second.starts_at]
    assert any(f"2 kaarten, bestelling {number}" in str(e["DESCRIPTION"]) for e in events)
    assert client.get(f"/bestelling/{'x' * len(secret)}/agenda.ics").status_code == 404


@pytest.mark.parametrize("status", ["cancelled", "expired", "refunded"])
def test_an_order_without_seats_has_no_calendar_file(
    site: Site, client: TestClient, status: str
) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    check_out(client)
    with site.container.engine().begin() as connection:
        connection.execute(text("UPDATE orders SET status = :status"), {"status": status})
        secret = connection.execute(text("SELECT secret FROM orders")).scalar_one()

    assert client.get(f"/bestelling/{secret}/agenda.ics").status_code == 404
    assert "agenda.ics" not in client.get(f"/bestelling/{secret}").text


def test_a_huge_filter_is_neither_an_error_nor_echoed(client: TestClient) -> None:
    response = client.get("/", params={"genre": "x" * 5000, "maand": "<b>" * 500})

    assert response.status_code == 200
    assert "x" * 600 not in response.text
    assert "<b>" not in response.text
    assert len(response.content) < 20_000
