"""Phones and languages, in a real browser: no page scrolls sideways at 320 px, touch targets
are 44 px, the header's language switch keeps the page and the choice, and a purchase made in
English gets English pages, e-mail and tickets.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import LiveSite, screenshot
from tests.browser.test_served_flows import ServedSite, _reload_until, served_site

pytestmark = [pytest.mark.browser]

__all__ = ["served_site"]  # the fixture, shared with the served flows

PHONE = {"width": 320, "height": 640}
VISITOR_PAGES = [
    "/",
    "/?maand=2099-01",
    "/?week=1",
    "/voorstellingen/gebroeders-mierlo",
    "/voorstellingen/cabaret-uitverkocht",
    "/winkelwagen",
    "/afrekenen",
    "/account/inloggen",
    "/account/registreren",
    "/account/wachtwoord-vergeten",
    "/bestaat-niet",
]
# Controls a finger must hit; links inside running text are exempt (WCAG 2.5.8).
_SMALL_TARGETS = """() => [...document.querySelectorAll(
    'header a, header button, button, select, input:not([type=hidden]):not([type=checkbox]),'
    + ' .calendar-link, .field.checkbox label')]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height < 44; })
  .map(e => e.outerHTML.slice(0, 80))"""


def _phone(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, locale="nl-NL", timezone_id="Europe/Amsterdam")
    context.set_default_timeout(10_000)
    return context.new_page()


def _fits(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _add_first_performance(page: Page, site: LiveSite | ServedSite, button: str) -> None:
    page.goto(site.url("/voorstellingen/gebroeders-mierlo"))
    page.locator("li.performance").first.get_by_role("button", name=button).click()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_visitor_page_scrolls_sideways_at_320_px(
    browser: Browser, live_site: LiveSite, language: str
) -> None:
    page = _phone(browser)
    page.goto(live_site.url(f"/taal/{language}?next=/"))
    _add_first_performance(
        page, live_site, "In winkelwagen" if language == "nl" else "Add to basket"
    )
    for path in VISITOR_PAGES:
        page.goto(live_site.url(path))
        width, viewport = _fits(page)
        assert width <= viewport, f"{path} ({language}) is {width} px wide on a {viewport} px phone"
        assert page.evaluate(_SMALL_TARGETS) == [], f"small touch targets on {path}"
    screenshot(page, f"phone-320-{language}-not-found")
    page.context.close()


def test_the_language_switch_keeps_the_page_and_the_choice(page: Page, live_site: LiveSite) -> None:
    page.goto(live_site.url("/voorstellingen/gebroeders-mierlo"))
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.get_by_role("link", name="English").click()

    assert page.url.endswith("/voorstellingen/gebroeders-mierlo")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Dates and tickets")).to_be_visible()
    page.get_by_role("link", name="Programme", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Programme")
    page.get_by_role("link", name="Nederlands").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    expect(page.locator("html")).to_have_attribute("lang", "nl")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "width"), [("nl", 390), ("en", 390), ("nl", 1280), ("en", 1280)]
)
def test_a_purchase_in_either_language_on_a_phone_and_a_desktop(
    browser: Browser, served_site: ServedSite, language: str, width: int
) -> None:
    english = language == "en"
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(served_site.url(f"/taal/{language}?next=/"))
    _add_first_performance(page, served_site, "Add to basket" if english else "In winkelwagen")
    page.get_by_role("link", name="Check out" if english else "Afrekenen").click()
    page.get_by_label("Name" if english else "Naam").fill("Sam Taylor")
    address = f"sam-{language}-{width}@example.org"
    page.get_by_label("E-mail address" if english else "E-mailadres").fill(address)
    page.get_by_role("button", name="Order and pay" if english else "Bestellen en betalen").click()
    page.get_by_role("button", name="Pay" if english else "Betalen", exact=True).click()

    expect(page.locator(".order-status")).to_contain_text("Paid" if english else "Betaald")
    download = page.get_by_role(
        "link", name="Download your tickets (PDF)" if english else "Download je kaarten (pdf)"
    )
    _reload_until(page, lambda: download.count() == 1)
    assert _fits(page)[0] <= width
    screenshot(page, f"purchase-{language}-{width}")
    with page.expect_download() as downloading:
        download.click()
    text = PdfReader(io.BytesIO(Path(downloading.value.path()).read_bytes())).pages[0]
    printed = text.extract_text()
    assert ("Ticket 1 of 1" in printed) is english
    assert ("Kaart 1 van 1" in printed) is not english

    tickets = served_site.mail_to(address, "Your tickets" if english else "Je kaarten", timeout=30)
    greeting = tickets.message.get_body(preferencelist=("plain",))
    assert greeting is not None
    assert ("Dear Sam Taylor" in greeting.get_content()) is english
    confirmed = served_site.mail_to(
        address, "Your order" if english else "Bevestiging", timeout=30
    ).message.get_body(preferencelist=("plain",))
    assert confirmed is not None
    total = "Total: €22.50" if english else "Totaal: € 22,50"
    assert total in confirmed.get_content()
    context.close()
