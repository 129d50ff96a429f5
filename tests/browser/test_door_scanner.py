"""The door page on a phone, fed like a handheld scanner feeds it: the code's keystrokes and
Enter. Green "Welkom" the first time, red "al binnen" the second, the code field ready again."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveSite, screenshot
from tests.catalog_builders import CatalogBuilder

STAFF_EMAIL = "deur@example.org"
STAFF_PASSWORD = "een-lang-deur-wachtwoord-42"
PHONE = {"width": 360, "height": 740}


def test_a_scanner_admits_a_ticket_once(browser: Browser, live_site: LiveSite) -> None:
    container = live_site.container
    container.accounts().create_staff(STAFF_EMAIL, "Deur", STAFF_PASSWORD)
    with container.uow() as uow:
        show = uow.shows.get_by_slug("gebroeders-mierlo")
        assert show is not None
        performance = sorted(uow.performances.for_show(show.id), key=lambda p: p.starts_at)[0]
    order = CatalogBuilder(container.uow, live_site.clock).order([(performance, 1)])
    secret = order.tickets[0].secret

    context = browser.new_context(viewport=PHONE, locale="nl-NL", timezone_id="Europe/Amsterdam")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_site.url("/account/inloggen"))
    page.get_by_label("E-mailadres").fill(STAFF_EMAIL)
    page.get_by_label("Wachtwoord").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(live_site.url("/beheer/deur"))
    page.locator(f'a[href="/beheer/deur/{performance.id}"]').click()

    code = page.get_by_label("Scan of typ de code van de kaart")
    expect(code).to_be_focused()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the door page is {width} px wide on a phone"

    page.keyboard.type(secret, delay=2)  # a scanner types fast, then Enter
    page.keyboard.press("Enter")
    result = page.locator("#door-result")
    expect(result).to_be_visible()
    expect(result).to_have_class("door-result door-ok")
    expect(result).to_contain_text("Welkom")
    expect(result).to_contain_text("Regulier")
    expect(result).to_contain_text("Anaïs Verbeek")
    expect(page.locator("#door-total")).to_contain_text("1 van 1 binnen")
    screenshot(page, "door-welcome")

    page.keyboard.type(secret, delay=2)  # the same ticket again, while the answer still shows
    page.keyboard.press("Enter")
    expect(result).to_have_class("door-result door-bad")
    expect(result).to_contain_text("al binnen")
    expect(result).to_contain_text("Al binnen sinds")
    screenshot(page, "door-already-in")

    result.click()
    expect(result).to_be_hidden()
    expect(code).to_be_focused()
    expect(code).to_have_value("")
    context.close()
