# ruff: noqa: F811 (the fixture, imported, is a test parameter here)
"""A real browser on a sold-out performance: joining its waiting list, the seats coming back,
the offer mail over SMTP, and paying the held seats on the fake provider's page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import OrderStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import close_order, lock_order
from tests.browser.conftest import screenshot
from tests.browser.test_served_flows import (
    ServedSite,
    served_site,  # noqa: F401  (the fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_visitor_joins_the_list_gets_the_offer_mail_and_buys_the_seats(
    page: Page, served_site: ServedSite
) -> None:
    engine = make_engine(f"sqlite:///{served_site.var_dir / 'mierloos.db'}")
    clock = SystemClock()
    with SqlUnitOfWork(engine, clock) as uow:
        show = uow.shows.get_by_slug("gebroeders-mierlo")
        assert show is not None
        performance = min(uow.performances.for_show(show.id), key=lambda p: p.starts_at)
        uow.seats.reserve({performance.id: performance.available_seats - 2})
        uow.commit()
    line = CartLine(performance_id=performance.id, quantity=2)
    request = CheckoutRequest(email="koper@example.nl", name="Koper", lines=[line])
    order_id: uuid.UUID = checkout(SqlUnitOfWork(engine, clock), clock, request).order_id

    page.goto(served_site.url("/voorstellingen/gebroeders-mierlo"))
    first = page.locator("li.performance").first
    expect(first.get_by_role("button", name="In winkelwagen")).to_have_count(0)
    first.locator("summary", has_text="Op de wachtlijst").click()
    first.get_by_label("E-mailadres").fill("wachter@example.nl")
    first.get_by_label("Aantal kaarten").select_option("2")
    first.get_by_role("button", name="Zet me op de wachtlijst").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Je staat op de wachtlijst")
    expect(page.get_by_role("status")).to_contain_text("nummer 1")
    served_site.mail_to("wachter@example.nl", "Je staat op de wachtlijst")

    with SqlUnitOfWork(engine, clock) as uow:  # the unpaid order lapses: two seats come back
        close_order(uow, lock_order(uow, order_id), OrderStatus.EXPIRED, clock.now())
        uow.commit()
    page.goto(served_site.url("/voorstellingen/gebroeders-mierlo"))
    expect(
        page.locator("li.performance").first.get_by_role("button", name="In winkelwagen")
    ).to_have_count(0)  # the seats are held for the list, not on sale

    mail = served_site.mail_to("wachter@example.nl", "Er zijn kaarten voor je vrijgekomen")
    body = mail.message.get_body(("plain",)).get_content()
    link = re.search(re.escape(served_site.base_url) + r"/wachtlijst/aanbod/\S+", body)
    assert link is not None, body
    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Je kaarten van de wachtlijst")
    page.get_by_label("Naam").fill("Wim Wachter")
    page.get_by_role("button", name="Naar betalen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Testbetaling")
    page.get_by_role("button", name="Betalen").click()
    expect(page.locator(".order-status")).to_contain_text("Betaald")
    screenshot(page, "waitlist-offer-paid")
    served_site.mail_to("wachter@example.nl", "Bevestiging")
    page.goto(link.group(0))
    expect(page.locator("main")).to_contain_text("al gebruikt")
    engine.dispose()
