"""axe-core on every visitor page, in Dutch and English, at phone width: no serious or critical
violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from tests.browser.conftest import LiveSite
from tests.browser.test_phone_and_languages import VISITOR_PAGES

pytestmark = [pytest.mark.browser]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_serious_or_critical_axe_violations_on_a_phone(
    browser: Browser, live_site: LiveSite, language: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_site.url(f"/taal/{language}?next=/voorstellingen/gebroeders-mierlo"))
    page.locator("li.performance").first.locator("button[type=submit]").click()
    axe = Axe()
    found = {}
    for path in VISITOR_PAGES:
        page.goto(live_site.url(path))
        response = axe.run(page).response
        assert response["passes"], f"axe checked nothing on {path}"
        violations = response["violations"]
        serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
        if serious:
            found[path] = serious
    context.close()
    assert found == {}
