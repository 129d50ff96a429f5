"""The staff reports' SVG charts render on a phone: present, drawn, visible, within 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveSite, screenshot
from tests.report_seed import ids, seed

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
STAFF_EMAIL = "kassa@example.org"
STAFF_PASSWORD = "een-lang-wachtwoord-voor-de-kassa"
_WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def test_the_report_charts_render_on_a_phone(browser: Browser, live_site: LiveSite) -> None:
    data = seed(live_site.container.uow)
    live_site.container.accounts().create_staff(STAFF_EMAIL, "Kassa", STAFF_PASSWORD)
    context = browser.new_context(viewport=PHONE, locale="nl-NL", timezone_id="Europe/Amsterdam")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_site.url("/account/inloggen"))
    page.get_by_label("E-mailadres").fill(STAFF_EMAIL)
    page.get_by_label("Wachtwoord").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()

    page.goto(live_site.url("/beheer/rapporten?soort=month&waarde=2026-02"))
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    for n in range(2):
        chart = charts.nth(n)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None
        assert 200 < box["width"] <= PHONE["width"]
        assert box["height"] > 100
    bars = page.locator("svg.chart rect.bar")
    assert bars.count() >= 3
    assert max(float(bars.nth(n).get_attribute("height") or 0) for n in range(bars.count())) > 0
    expect(page.get_by_role("img", name="Omzet per maand")).to_be_visible()
    scroll_width, inner_width = page.evaluate(_WIDTHS)
    assert scroll_width <= inner_width, "the report page scrolls sideways on a phone"
    screenshot(page, "report-period-phone")

    page.goto(live_site.url(f"/beheer/rapporten/uitvoeringen/{ids(data, 'a1')}"))
    runs = page.locator("svg#verkoop polyline.series")
    expect(runs).to_have_count(2)
    expect(runs.first).to_be_visible()
    assert len((runs.first.get_attribute("points") or "").split()) == 4
    expect(page.get_by_role("img", name="Verkoop in de tijd")).to_be_visible()
    expect(page.get_by_role("table", name="Verkochte kaarten opgeteld")).to_be_visible()
    scroll_width, inner_width = page.evaluate(_WIDTHS)
    assert scroll_width <= inner_width
    screenshot(page, "report-performance-phone")
    context.close()
