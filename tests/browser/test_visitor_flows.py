"""A visitor in a real browser: sold-out shows, a cart line that expired, the keyboard.

The purchase through to the downloaded PDF runs against a served site: test_served_flows.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import Visibility
from tests.browser.conftest import LiveSite, screenshot
from tests.catalog_builders import CatalogBuilder

pytestmark = pytest.mark.browser

ERROR_RED = "rgb(176, 0, 32)"


def _add_from_show_page(page: Page, site: LiveSite, title: str, nth: int, quantity: int) -> None:
    page.goto(site.url("/"))
    page.get_by_role("link", name=title).click()
    performance = page.locator("li.performance").nth(nth)
    performance.get_by_label("Aantal kaarten").select_option(str(quantity))
    performance.get_by_role("button", name="In winkelwagen").click()
    expect(page).to_have_url(site.url("/winkelwagen"))


def test_a_sold_out_performance_is_not_offered(page: Page, live_site: LiveSite) -> None:
    page.goto(live_site.url("/"))
    cabaret = page.locator("li.show-card", has_text="Uitverkocht! Een avond cabaret")
    expect(cabaret.locator(".sold-out")).to_have_text("Uitverkocht")

    page.get_by_role("link", name="Het Zwanenmeer (Brabants Balletgezelschap)").click()
    # Both dates are listed; the sold out one says so and cannot be put in the cart.
    expect(page.locator("li.performance")).to_have_count(2)
    expect(page.locator("li.performance.is-sold-out")).to_contain_text("Uitverkocht")
    expect(page.get_by_role("button", name="In winkelwagen")).to_have_count(1)

    page.goto(live_site.url("/voorstellingen/cabaret-uitverkocht"))
    expect(page.get_by_role("button", name="In winkelwagen")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("geen kaarten te koop")
    screenshot(page, "sold-out-performance-not-offered")


def test_an_expired_cart_line_is_red_and_left_out(page: Page, live_site: LiveSite) -> None:
    _add_from_show_page(page, live_site, "De Gebroeders Mierlo", 0, 2)
    _add_from_show_page(page, live_site, "De Gebroeders Mierlo", 1, 1)
    expect(page.locator("td.total")).to_have_text("€ 67,50")

    live_site.clock.offset = timedelta(days=8)  # the first performance has been
    page.reload()

    expired = page.locator("tr.cart-line.unavailable")
    expect(expired).to_have_count(1)
    expect(expired).to_contain_text("Deze voorstelling is al geweest.")
    expect(expired.locator("td").first).to_have_css("color", ERROR_RED)
    expect(page.locator("td.total")).to_have_text("€ 22,50")
    screenshot(page, "expired-cart-line-in-red")

    page.get_by_role("link", name="Afrekenen").click()
    expect(page.locator("tbody tr.cart-line")).to_have_count(1)
    page.get_by_label("Naam").fill("Jan")
    page.get_by_label("E-mailadres").fill("jan@example.nl")
    page.get_by_role("button", name="Bestellen en betalen").click()

    expect(page).to_have_url(re.compile(r"/fake-payments/"))
    expect(page.locator("dd.amount")).to_have_text("€ 22,50")
    screenshot(page, "expired-cart-line-excluded-from-payment")


def test_the_skip_link_and_forms_work_from_the_keyboard(page: Page, live_site: LiveSite) -> None:
    page.goto(live_site.url("/voorstellingen/gebroeders-mierlo"))

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Direct naar de inhoud")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_site.url("/voorstellingen/gebroeders-mierlo#inhoud"))

    quantity = page.locator("li.performance").first.get_by_label("Aantal kaarten")
    quantity.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    expect(page.locator("li.performance").first.get_by_role("button")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(live_site.url("/winkelwagen"))
    expect(page.locator("tr.cart-line")).to_have_count(1)
    expect(page.locator("td.total")).to_have_text("€ 45,00")
    screenshot(page, "keyboard-only-add-to-cart")


def test_the_seats_left_are_told_in_words(page: Page, live_site: LiveSite) -> None:
    first, second, _ = sorted(
        _performances(live_site, "gebroeders-mierlo"), key=lambda p: p.starts_at
    )
    with live_site.container.uow() as uow:
        uow.seats.reserve({first.id: first.capacity - 12, second.id: second.capacity - 3})
        uow.commit()

    page.goto(live_site.url("/"))
    card = page.locator("li.show-card", has_text="De Gebroeders Mierlo")
    expect(card.locator(".stock-dates li")).to_have_count(2)
    expect(card.locator(".few-left")).to_have_text("nog 12 plaatsen")
    expect(card.locator(".almost-sold-out")).to_have_text("Bijna uitverkocht: nog 3 plaatsen")
    screenshot(page, "seats-left-in-the-agenda")

    page.get_by_role("link", name="De Gebroeders Mierlo").click()
    dates = page.locator("li.performance")
    expect(dates.nth(0).locator(".few-left")).to_have_text("· nog 12 plaatsen")
    expect(dates.nth(1).locator(".almost-sold-out")).to_have_text(
        "· Bijna uitverkocht: nog 3 plaatsen"
    )
    expect(dates.nth(1).locator(".almost-sold-out")).to_have_css("color", ERROR_RED)
    expect(dates.nth(2)).not_to_contain_text("plaats")
    screenshot(page, "seats-left-in-words")


def test_a_visitor_picks_price_categories_on_a_phone(page: Page, live_site: LiveSite) -> None:
    first = min(_performances(live_site, "gebroeders-mierlo"), key=lambda p: p.starts_at)
    catalog = CatalogBuilder(live_site.container.uow, live_site.clock)
    catalog.category(first, "CJP-pas", price=Money(1250), limit=100, available=3)
    catalog.category(first, "Pers", price=Money(0), visibility=Visibility.STAFF, position=2)
    page.set_viewport_size({"width": 320, "height": 640})

    page.goto(live_site.url("/voorstellingen/gebroeders-mierlo"))
    date = page.locator("li.performance").first
    prices = date.get_by_role("group", name=re.compile("Aantal kaarten per prijs"))
    expect(prices).to_contain_text("Regulier € 22,50")
    expect(prices).to_contain_text("CJP-pas € 12,50")
    expect(prices).not_to_contain_text("Pers")
    expect(prices.locator(".almost-sold-out")).to_have_text("Bijna uitverkocht: nog 3 plaatsen")
    prices.get_by_label("Regulier").select_option("1")
    prices.get_by_label("CJP-pas").select_option("2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "price-categories-on-a-phone")
    date.get_by_role("button", name="In winkelwagen").click()

    expect(page).to_have_url(live_site.url("/winkelwagen"))
    lines = page.locator("tr.cart-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("(Regulier)")
    expect(lines.nth(1)).to_contain_text("(CJP-pas)")
    expect(lines.nth(1)).to_contain_text("2 \N{MULTIPLICATION SIGN} € 12,50")
    expect(page.locator("td.total")).to_have_text("€ 47,50")
    page.get_by_role("link", name="Afrekenen").click()
    page.get_by_label("Naam").fill("Jan")
    page.get_by_label("E-mailadres").fill("jan@example.nl")
    page.get_by_role("button", name="Bestellen en betalen").click()

    expect(page).to_have_url(re.compile(r"/fake-payments/"))
    expect(page.locator("dd.amount")).to_have_text("€ 47,50")


def _performances(site: LiveSite, slug: str) -> list[Performance]:
    with site.container.uow() as uow:
        show = uow.shows.get_by_slug(slug)
        assert show is not None
        return uow.performances.for_show(show.id)
