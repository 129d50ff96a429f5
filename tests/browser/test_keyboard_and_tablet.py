"""A purchase made with the keyboard alone, and the staff pages on a tablet."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveSite, screenshot

pytestmark = [pytest.mark.browser]

TABLET = {"width": 768, "height": 1024}
STAFF_EMAIL = "kassa@example.org"
STAFF_PASSWORD = "een-lang-wachtwoord-voor-de-kassa"

# The focused control's label, else its text, up to its first line (a label may add a
# visually hidden line naming the date).
_FOCUSED = """() => {
  const e = document.activeElement;
  const label = e.labels && e.labels.length ? e.labels[0].innerText : (e.innerText || e.value);
  return [label.trim().split("\\n")[0], getComputedStyle(e).outlineStyle];
}"""


def _tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the control called `name` has the focus, and see that it shows it."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        label, outline = page.evaluate(_FOCUSED)
        if label == name:
            assert outline != "none", f"{name!r} has the focus but does not show it"
            return
        seen.append(label)
    pytest.fail(f"{name!r} not reached with Tab; focus went through {seen}")


def test_a_purchase_with_the_keyboard_alone(page: Page, live_site: LiveSite) -> None:
    page.goto(live_site.url("/"))

    _tab_to(page, "De Gebroeders Mierlo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_site.url("/voorstellingen/gebroeders-mierlo"))
    _tab_to(page, "Aantal kaarten")
    page.keyboard.press("ArrowDown")  # two tickets
    _tab_to(page, "In winkelwagen")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_site.url("/winkelwagen"))
    expect(page.locator("td.total")).to_have_text("€ 45,00")
    _tab_to(page, "Afrekenen")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_site.url("/afrekenen"))
    _tab_to(page, "Naam")
    page.keyboard.type("Kim de Vries")
    _tab_to(page, "E-mailadres")
    page.keyboard.type("kim@example.nl")
    _tab_to(page, "Bestellen en betalen")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/fake-payments/"))
    expect(page.locator("dd.amount")).to_have_text("€ 45,00")
    _tab_to(page, "Betalen")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/bestelling/[A-Za-z0-9_-]{43}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("OMT-")
    expect(page.locator(".order-status")).to_contain_text("Betaald")
    screenshot(page, "keyboard-only-purchase")


def test_the_staff_pages_fit_a_tablet(browser: Browser, live_site: LiveSite) -> None:
    live_site.container.accounts().create_staff(STAFF_EMAIL, "Kassa", STAFF_PASSWORD)
    context = browser.new_context(viewport=TABLET, locale="nl-NL", timezone_id="Europe/Amsterdam")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_site.url("/voorstellingen/gebroeders-mierlo"))
    page.locator("li.performance").first.get_by_role("button", name="In winkelwagen").click()
    page.get_by_role("link", name="Afrekenen").click()
    page.get_by_label("Naam").fill("Een bezoeker met een heel erg lange naam die niet ophoudt")
    page.get_by_label("E-mailadres").fill("een.heel.lang.adres.voor.de.tabel@voorbeeld.example.org")
    page.get_by_role("button", name="Bestellen en betalen").click()
    page.goto(live_site.url("/account/inloggen"))
    page.get_by_label("E-mailadres").fill(STAFF_EMAIL)
    page.get_by_label("Wachtwoord").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()

    pages = ["/beheer", "/beheer/voorstellingen", "/beheer/voorstellingen/nieuw"]
    pages += ["/beheer/bestellingen", "/beheer/kortingscodes", "/beheer/kortingscodes/nieuw"]
    pages += ["/beheer/taken"]
    for listing, detail in [
        ("/beheer/voorstellingen", r"/beheer/voorstellingen/[0-9a-f-]{36}"),
        ("/beheer/bestellingen", r"/beheer/bestellingen/[0-9a-f-]{36}"),
        ("/beheer/taken", r"/beheer/taken/[0-9a-f-]{36}"),
    ]:
        page.goto(live_site.url(listing))
        links = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.pathname)")
        pages.append(next(link for link in links if re.fullmatch(detail, link)))
    for path in pages:
        page.goto(live_site.url(path))
        expect(page.locator("main h1")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= TABLET["width"], f"{path} is {width} px wide on a tablet"
    screenshot(page, "staff-tablet-job")
    context.close()
