"""Reserved seating over HTTP: the seat page, choosing seats, best available, the cart, the
checkout and the order page; and every bad choice answered with a clear 4xx naming the seats,
nothing put in the cart or held."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_core.model.seating import SeatPlan, SeatState
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import Site, add_to_cart, check_out, csrf_token
from tests.seat_setup import reserve

SLUG = "gebroeders-mierlo"


@pytest.fixture
def plan(site: Site) -> SeatPlan:
    performance = site.performances(SLUG)[0]
    return reserve(
        site.container.uow,
        site.clock,
        performance.id,
        adjust={
            ("1", 1): {"wheelchair": True},
            ("1", 2): {"companion": True},
            ("5", 8): {"blocked": True},
        },
    )


def _performance_id(site: Site) -> uuid.UUID:
    return site.performances(SLUG)[0].id


def _seat_page(site: Site) -> str:
    return f"/voorstellingen/{SLUG}/{_performance_id(site)}/stoelen"


def _seat(plan: SeatPlan, row: str, number: int) -> str:
    seat = plan.seat_at("Zaal", row, number)
    assert seat is not None
    return str(seat.id)


def _post_seats(client: TestClient, site: Site, seats: list[str], **extra: Any) -> httpx.Response:
    token = csrf_token(client.get(_seat_page(site)).text)
    data: dict[str, Any] = {"csrf_token": token, "performance_id": str(_performance_id(site))}
    data.update(extra)
    return client.post("/winkelwagen/stoelen", data={**data, "seat": seats})


def _states(site: Site) -> dict[str, SeatState]:
    with site.container.uow() as uow:
        return {str(s.seat_id): s.state for s in uow.seating.states(_performance_id(site))}


def test_the_show_page_sends_a_reserved_performance_to_its_seat_map(
    site: Site, client: TestClient, plan: SeatPlan
) -> None:
    show = client.get(f"/voorstellingen/{SLUG}")
    assert _seat_page(site) in show.text
    page = client.get(_seat_page(site))
    assert page.status_code == 200
    assert page.text.count('class="seat is-') == 40
    assert "<title>Rij 3, stoel 4, Regulier € 22,50, vrij</title>" in page.text
    assert "seat_map.js" in page.text
    # the list without JavaScript: free seats only (not the blocked one)
    assert page.text.count('name="seat"') == 39
    assert 'name="zone"' in page.text  # best available


def test_chosen_seats_go_through_cart_checkout_and_order_page(
    site: Site, client: TestClient, plan: SeatPlan
) -> None:
    chosen = [_seat(plan, "3", 4), _seat(plan, "3", 5)]
    answer = _post_seats(client, site, chosen)
    assert answer.status_code == 303, answer.text
    cart = client.get("/winkelwagen")
    assert "Zaal, rij 3, stoel 4" in cart.text
    assert "Zaal, rij 3, stoel 5" in cart.text
    assert "€ 45,00" in cart.text
    placed = check_out(client)
    assert placed.status_code == 303, placed.text
    states = _states(site)
    assert [states[seat] for seat in chosen] == [SeatState.HELD, SeatState.HELD]
    assert sum(state is SeatState.HELD for state in states.values()) == 2
    assert site.performance(_performance_id(site)).available_seats == 39 - 2
    order_page = client.get(f"/bestelling/{_order_secret(site)}")
    assert "Zaal, rij 3, stoel 4" in order_page.text
    assert "Zaal, rij 3, stoel 5" in order_page.text


def _order_secret(site: Site) -> str:
    with site.container.engine().connect() as connection:
        return str(connection.execute(text("SELECT secret FROM orders")).scalar_one())


def test_best_available_puts_adjacent_seats_in_the_cart(
    site: Site, client: TestClient, plan: SeatPlan
) -> None:
    token = csrf_token(client.get(_seat_page(site)).text)
    answer = client.post(
        "/winkelwagen/beste-plaatsen",
        data={
            "csrf_token": token,
            "performance_id": str(_performance_id(site)),
            "quantity": "3",
            "zone": "",
        },
    )
    assert answer.status_code == 303, answer.text
    names = re.findall(r"Zaal, rij (\d+), stoel (\d+)", client.get("/winkelwagen").text)
    assert len(names) == 3
    assert len({row for row, _ in names}) == 1
    numbers = sorted(int(n) for _, n in names)
    assert numbers == list(range(numbers[0], numbers[0] + 3))


@pytest.mark.parametrize(
    ("seats", "status", "named"),
    [
        (lambda p: [str(uuid.uuid4())], 422, "niet in de zaal"),
        (lambda p: ["stoel-12"], 422, "stoel-12"),
        (lambda p: [_seat(p, "5", 8)], 409, "niet beschikbaar: Zaal, rij 5, stoel 8"),
        (lambda p: [_seat(p, "1", 2)], 422, "Zaal, rij 1, stoel 2"),  # a companion alone
        (
            lambda p: (
                [_seat(p, "4", n) for n in range(1, 9)] + [_seat(p, "3", n) for n in range(1, 4)]
            ),
            422,
            "hoogstens 10 stoelen",
        ),
    ],
)
def test_a_seat_that_cannot_be_chosen_is_named_and_nothing_changes(
    site: Site, client: TestClient, plan: SeatPlan, seats: Any, status: int, named: str
) -> None:
    answer = _post_seats(client, site, seats(plan))
    assert answer.status_code == status
    assert named in answer.text
    assert "Zaal, rij" not in client.get("/winkelwagen").text
    assert set(_states(site).values()) <= {SeatState.FREE, SeatState.BLOCKED}


def test_a_taken_seat_is_refused_when_chosen_and_at_checkout(
    site: Site, make_site: Any, client: TestClient, plan: SeatPlan
) -> None:
    seat = _seat(plan, "2", 3)
    assert _post_seats(client, site, [seat]).status_code == 303
    with site.client() as other:  # someone else buys the same seat first
        assert _post_seats(other, site, [seat]).status_code == 303
        assert check_out(other).status_code == 303
    refused = check_out(client)
    assert refused.status_code == 409
    assert "al bezet: Zaal, rij 2, stoel 3" in refused.text
    assert sum(state is SeatState.HELD for state in _states(site).values()) == 1
    again = _post_seats(client, site, [seat])
    assert again.status_code == 409
    assert "al bezet: Zaal, rij 2, stoel 3" in again.text


def test_refusals_speak_english_too(site: Site, client: TestClient, plan: SeatPlan) -> None:
    client.get("/taal/en?next=/")
    answer = _post_seats(client, site, [_seat(plan, "5", 8)])
    assert answer.status_code == 409
    assert "not available: Zaal, row 5, seat 8" in answer.text


def test_best_available_with_an_unknown_zone_or_no_room(
    site: Site, client: TestClient, plan: SeatPlan
) -> None:
    token = csrf_token(client.get(_seat_page(site)).text)
    base = {"csrf_token": token, "performance_id": str(_performance_id(site))}
    unknown = client.post(
        "/winkelwagen/beste-plaatsen", data={**base, "quantity": "2", "zone": "x"}
    )
    assert unknown.status_code == 400
    too_many = client.post("/winkelwagen/beste-plaatsen", data={**base, "quantity": "5"})
    assert too_many.status_code == 409  # rows of 4 + 4 with an aisle: no 5 side by side
    assert "geen 5 stoelen naast elkaar" in too_many.text


def test_a_reserved_performance_is_not_sold_by_number_in_the_cart(
    site: Site, client: TestClient, plan: SeatPlan
) -> None:
    answer = add_to_cart(client, _performance_id(site), 2)
    assert answer.status_code == 409
    assert "stoelen op de zaalplattegrond" in answer.text
    assert client.get("/winkelwagen").text.count("cart-line") == 0


def test_the_seat_page_is_accessible_and_names_its_parts(
    site: Site, client: TestClient, plan: SeatPlan
) -> None:
    page = client.get(_seat_page(site))
    assert accessibility_problems(page.text) == []
    assert 'role="img"' in page.text
    assert "Podium" in page.text
    english = client.get("/taal/en?next=" + _seat_page(site), follow_redirects=True)
    assert "Choose seats" in english.text
    assert "Row 3, seat 4, " in english.text
    assert "Stage" in english.text
