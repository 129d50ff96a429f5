"""Seats left, as visitors are told on the show page, in the agenda and through the JSON API.

The demo's bands (`mierloos_core.model.stock`): the Zwanenmeer's 80 seats are few from 8 and
almost sold out from 3; the Gebroeders' 120 from 12 and 4; Jazz op Zondag's 60 from 6 and 2.
"""

from __future__ import annotations

import html as entities
import re

import pytest
from starlette.testclient import TestClient

from mierloos_adapters.i18n import texts
from mierloos_core.model.catalog import Performance
from tests.catalog_builders import CatalogBuilder
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import Site

_TAG = re.compile(r"<[^>]+>")


def _leave(site: Site, *left: tuple[Performance, int]) -> None:
    """Take seats, as orders would, until so many are left of each performance."""
    taken = {p.id: site.performance(p.id).available_seats - n for p, n in left}
    with site.container.uow() as uow:
        uow.seats.reserve(taken)
        uow.commit()


def _words(fragment: str) -> str:
    return " ".join(entities.unescape(_TAG.sub(" ", fragment)).split()).replace(" :", ":")


def _performance_info(page: str, index: int = 0) -> str:
    return _words(re.findall(r'<p class="performance-info">(.*?)</p>', page, re.S)[index])


def _card(page: str, slug: str) -> str:
    """A show's card in the agenda, from its title to its end."""
    start = page.index(f'href="/voorstellingen/{slug}"')
    return page[start : page.index("\n  </li>", start)]


ZWANENMEER_BOUNDARIES = [
    (9, "", ""),
    (8, "nog 8 plaatsen", "8 seats left"),
    (4, "nog 4 plaatsen", "4 seats left"),
    (3, "Bijna uitverkocht: nog 3 plaatsen", "Almost sold out: 3 seats left"),
    (1, "Bijna uitverkocht: nog 1 plaats", "Almost sold out: 1 seat left"),
]


@pytest.mark.parametrize(("left", "dutch", "english"), ZWANENMEER_BOUNDARIES)
def test_the_show_page_tells_the_seats_left_at_each_edge(
    site: Site, client: TestClient, left: int, dutch: str, english: str
) -> None:
    _leave(site, (site.performances("zwanenmeer")[0], left))

    nl = _performance_info(client.get("/voorstellingen/zwanenmeer").text)
    client.get("/taal/en?next=/")
    en = _performance_info(client.get("/voorstellingen/zwanenmeer").text)

    # The Zwanenmeer has several price categories: their prices stand in the ticket form.
    if dutch:
        assert nl.endswith(f" · {dutch}")
        assert en.endswith(f" · {english}")
    else:
        assert "plaats" not in nl
        assert "seat" not in en


def test_a_full_hall_is_not_advertised_and_sold_out_says_so(site: Site, client: TestClient):
    page = client.get("/voorstellingen/zwanenmeer").text

    assert "plaats" not in _performance_info(page, 0)  # 80 of 80 left
    assert _performance_info(page, 1).endswith("· Uitverkocht")
    assert '<span class="sold-out">' in page


def test_the_classes_follow_the_words(site: Site, client: TestClient) -> None:
    first, second, _ = site.performances("gebroeders-mierlo")
    _leave(site, (first, 12), (second, 4))

    page = client.get("/voorstellingen/gebroeders-mierlo").text

    assert '<span class="few-left"> · nog 12 plaatsen</span>' in page
    assert '<span class="almost-sold-out"> · Bijna uitverkocht: nog 4 plaatsen</span>' in page
    assert accessibility_problems(page) == []


def test_the_agenda_tells_a_single_date_in_words(site: Site, client: TestClient) -> None:
    jazz = site.performances("jazz-op-zondag")[-1]  # its only date still on sale
    assert "plaats" not in _card(client.get("/").text, "jazz-op-zondag")

    _leave(site, (jazz, 6))
    nl = _card(client.get("/").text, "jazz-op-zondag")
    _leave(site, (jazz, 2))
    almost = _card(client.get("/").text, "jazz-op-zondag")
    client.get("/taal/en?next=/")
    en = _card(client.get("/").text, "jazz-op-zondag")

    assert '<p class="few-left">nog 6 plaatsen</p>' in nl
    assert '<p class="almost-sold-out">Bijna uitverkocht: nog 2 plaatsen</p>' in almost
    assert '<p class="almost-sold-out">Almost sold out: 2 seats left</p>' in en


def test_the_agenda_lists_only_the_dates_with_few_seats(site: Site, client: TestClient) -> None:
    _, second, third = site.performances("gebroeders-mierlo")
    _leave(site, (second, 4), (third, 13))

    page = client.get("/").text
    card = _card(page, "gebroeders-mierlo")

    dates = re.findall(r"<li><time[^>]*>(.*?)</time>: (.*?)</li>", card)
    assert len(dates) == 1
    assert dates[0][0] == texts("nl").short_when(second.starts_at)  # "di 15 dec, 20:15"
    assert re.fullmatch(r"[a-z]{2} \d{1,2} [a-z]{3}, \d\d:\d\d", dates[0][0])
    assert _words(dates[0][1]) == "Bijna uitverkocht: nog 4 plaatsen"
    assert "is-sold-out" not in card
    assert accessibility_problems(page) == []


def test_the_api_gives_the_numbers_and_the_word(site: Site, client: TestClient) -> None:
    first, second, _ = site.performances("gebroeders-mierlo")
    _leave(site, (first, 12))
    sold_out = next(p for p in site.performances("zwanenmeer") if p.sold_out)

    def availability(performance: Performance) -> dict[str, object]:
        body = client.get(f"/api/performances/{performance.id}/availability").json()
        return {key: body[key] for key in ("available_seats", "capacity", "stock")}

    assert availability(first) == {"available_seats": 12, "capacity": 120, "stock": "few_left"}
    assert availability(second) == {"available_seats": 120, "capacity": 120, "stock": "available"}
    assert availability(sold_out) == {"available_seats": 0, "capacity": 80, "stock": "sold_out"}
    _leave(site, (first, 4))
    assert availability(first)["stock"] == "almost_sold_out"

    shows = {show["slug"]: show for show in client.get("/api/shows").json()["shows"]}
    listed = shows["gebroeders-mierlo"]["performances"][0]
    assert (listed["available_seats"], listed["capacity"], listed["stock"]) == (
        4,
        120,
        "almost_sold_out",
    )


def test_the_openapi_document_lists_the_new_fields(client: TestClient) -> None:
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    words = ["available", "few_left", "almost_sold_out", "sold_out"]

    for name in ("Availability", "Performance"):
        properties = schemas[name]["properties"]
        assert properties["capacity"]["type"] == "integer"
        assert "capacity" in schemas[name]["required"]
        assert "stock" in schemas[name]["required"]
        stock = properties["stock"]
        target = schemas[stock["$ref"].rsplit("/", 1)[1]] if "$ref" in stock else stock
        assert target["enum"] == words


def test_the_agenda_tells_the_seats_left_of_a_limited_category(
    site: Site, client: TestClient
) -> None:
    catalog = CatalogBuilder(site.container.uow, site.clock)
    jazz = site.performances("jazz-op-zondag")[-1]  # its only date still on sale
    _, second, _ = site.performances("gebroeders-mierlo")
    catalog.category(jazz, "CJP-pas", name_en="CJP card", limit=40, available=2)
    catalog.category(second, "65+", name_en="Over 65", limit=30, available=25)  # plenty
    catalog.category(second, "Kind", name_en="Child", limit=30, available=2)

    page = client.get("/").text
    single, several = _card(page, "jazz-op-zondag"), _card(page, "gebroeders-mierlo")
    client.get("/taal/en?next=/")
    english = _card(client.get("/").text, "jazz-op-zondag")

    # One date: the category alone; several: with its date; plenty left: not told.
    # Of a limit of 40, 2 are almost sold out; of 30, 2 are few (the bands of model.stock).
    assert _words(single).endswith("CJP-pas: Bijna uitverkocht: nog 2 plaatsen")
    when = texts("nl").short_when(second.starts_at)
    assert f"{when}, Kind: nog 2 plaatsen" in _words(several).replace(" ,", ",")
    assert "65+" not in several
    assert _words(english).endswith("CJP card: Almost sold out: 2 seats left")
    assert accessibility_problems(page) == []
