"""The counter sells numbered seats on the same map: ticked seats are sold, a number of tickets
gets the best available, a taken or unknown seat is refused by name and nothing is sold."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from mierloos_core.model.seating import SeatState
from tests.integration.web.test_admin_counter import COUNTER, categories, form, quantity, staff
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import Site
from tests.seat_setup import reserve

__all__ = ["staff"]  # the fixture
SLUG = "zwanenmeer"


def _reserved(site: Site):
    performance = site.performances(SLUG)[0]
    plan = reserve(
        site.container.uow, site.clock, performance.id, rows=3, seats_per_row=6, zones=(("A", 3),)
    )
    return performance, plan


def _states(site: Site, performance_id) -> dict:
    with site.container.uow() as uow:
        return {s.seat_id: s for s in uow.seating.states(performance_id)}


def test_ticked_seats_and_a_number_are_sold_together(site: Site, staff: TestClient) -> None:
    performance, plan = _reserved(site)
    page = staff.get(COUNTER, params={"voorstelling": str(performance.id)})
    assert page.text.count('class="seat is-free"') == 18
    assert "seat_map.js" in page.text
    assert accessibility_problems(page.text) == []
    seat = plan.seat_at("Zaal", "2", 3)
    regular = categories(site, performance.id)[0]
    data = form(staff, performance.id, method="pin", **{quantity(regular): "2"})
    answer = staff.post(f"{COUNTER}/verkopen", data={**data, "seat": [str(seat.id)]})
    assert answer.status_code == 303, answer.text
    order_id = re.search(r"bestellingen/([0-9a-f-]{36})", answer.headers["location"]).group(1)
    states = _states(site, performance.id)
    sold = [s for s in states.values() if s.state is SeatState.SOLD]
    assert len(sold) == 3
    assert states[seat.id].state is SeatState.SOLD
    assert {str(s.order_id) for s in sold} == {order_id}
    assert site.performance(performance.id).available_seats == 18 - 3


def test_a_taken_or_unknown_seat_is_named_and_nothing_is_sold(
    site: Site, staff: TestClient
) -> None:
    performance, plan = _reserved(site)
    seat = str(plan.seat_at("Zaal", "1", 1).id)
    first = form(staff, performance.id, method="contant")
    assert staff.post(f"{COUNTER}/verkopen", data={**first, "seat": [seat]}).status_code == 303
    again = form(staff, performance.id, method="contant")
    refused = staff.post(f"{COUNTER}/verkopen", data={**again, "seat": [seat]})
    assert refused.status_code == 409
    assert "Zaal, rij 1, stoel 1" in refused.text
    wrong = staff.post(
        f"{COUNTER}/verkopen",
        data={**form(staff, performance.id, method="contant"), "seat": ["x1"]},
    )
    assert wrong.status_code == 400
    assert "x1" in wrong.text
    sold = [s for s in _states(site, performance.id).values() if s.state is SeatState.SOLD]
    assert len(sold) == 1
