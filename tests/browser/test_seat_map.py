"""Choosing numbered seats in Chromium: on the map with the mouse, with the keyboard alone,
and "best available", on a 390 px phone and a 1280 px screen; then paying on the fake page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from mierloos_core.model.seating import SeatPlan, SeatState
from tests.browser.conftest import LiveSite, screenshot
from tests.seat_setup import reserve

pytestmark = [pytest.mark.browser]

SLUG = "gebroeders-mierlo"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def _reserved(site: LiveSite) -> tuple[uuid.UUID, SeatPlan]:
    with site.container.uow() as uow:
        show = uow.shows.get_by_slug(SLUG)
        assert show is not None
        performance = min(uow.performances.for_show(show.id), key=lambda p: p.starts_at)
    plan = reserve(
        site.container.uow,
        site.clock,
        performance.id,
        rows=6,
        seats_per_row=12,
        zones=(("Voorin", 2), ("Achterin", 4)),
        adjust={("1", 1): {"wheelchair": True}, ("6", 12): {"blocked": True}},
    )
    return performance.id, plan


def _page(browser: Browser, size: str) -> Page:
    context = browser.new_context(
        viewport=SIZES[size],
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
        has_touch=size == "phone",
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _to_seat_map(page: Page, site: LiveSite) -> None:
    page.goto(site.url(f"/voorstellingen/{SLUG}"))
    page.get_by_role("link", name=re.compile("Kies je stoelen")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stoelen kiezen")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]  # type: ignore[index]


def _pay(page: Page, total: str) -> None:
    page.get_by_role("link", name="Afrekenen").click()
    page.get_by_label("Naam").fill("Kim de Vries")
    page.get_by_label("E-mailadres").fill("kim@example.nl")
    page.get_by_role("button", name="Bestellen en betalen").click()
    expect(page).to_have_url(re.compile(r"/fake-payments/"))
    expect(page.locator("dd.amount")).to_have_text(total)
    page.get_by_role("button", name="Betalen").click()
    expect(page.locator(".order-status")).to_contain_text("Betaald")


def _states(site: LiveSite, performance_id: uuid.UUID) -> dict[uuid.UUID, SeatState]:
    with site.container.uow() as uow:
        return {s.seat_id: s.state for s in uow.seating.states(performance_id)}


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_choosing_seats_on_the_map_with_the_mouse(
    browser: Browser, live_site: LiveSite, size: str
) -> None:
    performance_id, plan = _reserved(live_site)
    page = _page(browser, size)
    _to_seat_map(page, live_site)
    for label in ["Rij 3, stoel 6, ", "Rij 3, stoel 7, "]:
        seat = page.locator(f'g.seat[aria-label^="{label}"]')
        if size == "phone":
            seat.tap()
        else:
            seat.click()
        expect(seat).to_have_attribute("aria-checked", "true")
    summary = page.locator("#seat-summary")
    expect(summary).to_contain_text("Rij 3, stoel 6")
    expect(summary).to_contain_text("€ 45,00")
    page.locator('g.seat[aria-label^="Rij 3, stoel 7, "]').click()  # and un-choose one
    expect(summary).not_to_contain_text("stoel 7")
    page.locator('g.seat[aria-label^="Rij 3, stoel 7, "]').click()
    page.get_by_role("button", name="Gekozen stoelen in winkelwagen").click()
    expect(page.locator("table.cart")).to_contain_text("Zaal, rij 3, stoel 6")
    _pay(page, "€ 45,00")
    expect(page.locator("table.cart")).to_contain_text("Zaal, rij 3, stoel 7")
    sold = {
        seat_id
        for seat_id, state in _states(live_site, performance_id).items()
        if state is SeatState.SOLD
    }
    assert sold == {plan.seat_at("Zaal", "3", 6).id, plan.seat_at("Zaal", "3", 7).id}  # type: ignore[union-attr]
    screenshot(page, f"seat-map-mouse-{size}")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_choosing_seats_with_the_keyboard_alone(
    browser: Browser, live_site: LiveSite, size: str
) -> None:
    _reserved(live_site)
    page = _page(browser, size)
    _to_seat_map(page, live_site)
    first = page.locator('g.seat[tabindex="0"]')
    expect(first).to_have_count(1)
    first.focus()
    focused = "document.activeElement.getAttribute('aria-label')"
    assert page.evaluate(focused).startswith("Rij 1, stoel 1, ")  # the wheelchair place
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused).startswith("Rij 2, stoel 3, ")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")
    assert page.evaluate(focused).startswith("Rij 1, stoel 4, ")
    page.keyboard.press("End")
    assert page.evaluate(focused).startswith("Rij 1, stoel 12, ")
    expect(page.locator("#seat-summary")).to_contain_text("Rij 2, stoel 3")
    expect(page.locator("#seat-summary")).to_contain_text("Rij 2, stoel 4")
    page.keyboard.press("Tab")  # on from the map to the form, and submit it
    for _ in range(5):
        if page.evaluate("document.activeElement.textContent").startswith("Gekozen stoelen"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("table.cart")).to_contain_text("Zaal, rij 2, stoel 4")
    _pay(page, "€ 45,00")
    screenshot(page, f"seat-map-keyboard-{size}")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_best_available(browser: Browser, live_site: LiveSite, size: str) -> None:
    performance_id, _ = _reserved(live_site)
    page = _page(browser, size)
    _to_seat_map(page, live_site)
    page.get_by_label("Aantal stoelen").select_option("3")
    page.get_by_role("button", name="Zoek de beste plaatsen").click()
    seats = page.locator("ul.seat-names li")
    expect(seats).to_have_count(3)
    names = seats.all_inner_texts()
    rows = {re.search(r"rij (\d+)", name).group(1) for name in names}  # type: ignore[union-attr]
    assert len(rows) == 1
    _pay(page, "€ 67,50")
    held = [
        seat_id
        for seat_id, state in _states(live_site, performance_id).items()
        if state is SeatState.SOLD
    ]
    assert len(held) == 3
    screenshot(page, f"seat-map-best-{size}")


def test_the_list_chooses_seats_without_javascript(browser: Browser, live_site: LiveSite) -> None:
    _reserved(live_site)
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    page = context.new_page()
    _to_seat_map(page, live_site)
    row = page.get_by_role("group", name="Rij 4", exact=True)
    row.get_by_role("checkbox", name=re.compile(r"^Stoel 5 ")).check()
    page.get_by_role("button", name="Gekozen stoelen in winkelwagen").click()
    expect(page.locator("table.cart")).to_contain_text("Zaal, rij 4, stoel 5")
    context.close()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_seat_page_has_no_serious_axe_violations(
    browser: Browser, live_site: LiveSite, language: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    performance_id, _ = _reserved(live_site)
    page = _page(browser, "phone")
    path = f"/voorstellingen/{SLUG}/{performance_id}/stoelen"
    page.goto(live_site.url(f"/taal/{language}?next={path}"))
    page.locator('g.seat[tabindex="0"]').focus()
    page.keyboard.press("Space")
    response = Axe().run(page).response
    assert response["passes"]
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
