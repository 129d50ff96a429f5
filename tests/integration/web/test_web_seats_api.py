"""Reserved seating through the JSON API: the seat map, checkout with chosen or best seats."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mierloos_core.model.seating import SectionSpec
from mierloos_core.services.seating import Seating
from tests.integration.web.web_support import Site


@pytest.fixture
def reserved(site: Site) -> Any:
    """An unsold demo performance on a 4 x 8 plan (an aisle after seat 4), one zone."""
    performance = next(
        p for p in site.performances("gebroeders-mierlo") if p.available_seats == p.capacity
    )
    seating = Seating(site.container.uow, site.clock)
    hall = seating.add_hall("Theaterzaal")
    plan = seating.generate(
        hall.id,
        "Theaterzaal",
        [SectionSpec(name="Zaal", rows=4, seats_per_row=8, aisles_after=(4,))],
    )
    with site.container.uow() as uow:
        regular = uow.price_categories.for_performance(performance.id)[0]
    seating.put_on_sale(performance.id, plan.id, {"A": regular.id})
    return performance, plan


def seat_id(plan, row: str, number: int) -> str:
    return str(plan.seat_at("Zaal", row, number).id)


def order(performance, *, seats=(), best=0) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Jan Jansen", "email": "jan@example.nl", "lines": []}
    if best:
        body["lines"] = [{"performance_id": str(performance.id), "quantity": best}]
    if seats:
        body["seats"] = [{"performance_id": str(performance.id), "seat_ids": list(seats)}]
    return body


def states(client: TestClient, performance) -> dict[str, str]:
    answer = client.get(f"/api/performances/{performance.id}/seats")
    assert answer.status_code == 200, answer.text
    return {seat["id"]: seat["state"] for seat in answer.json()["seats"]}


def test_the_seat_map_lists_every_seat_with_its_place_state_and_price(reserved, client):
    performance, _plan = reserved
    answer = client.get(f"/api/performances/{performance.id}/seats")
    assert answer.status_code == 200
    body = answer.json()
    assert body["plan_version"] == 1
    assert body["hall"] == "Theaterzaal"
    assert body["free_seats"] == 32
    first = body["seats"][0]
    assert first["row"] == "1"
    assert first["number"] == 1
    assert first["state"] == "free"
    assert first["price"]["cents"] > 0
    assert {seat["zone"] for seat in body["seats"]} == {"A"}


def test_a_free_seating_or_unknown_performance_has_no_seat_map(site, client):
    free = site.performances("gebroeders-mierlo")[0]
    assert client.get(f"/api/performances/{free.id}/seats").status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/api/performances/{unknown}/seats").status_code == 404
    assert client.get("/api/performances/niet-een-id/seats").status_code == 400


def test_checkout_holds_the_chosen_seats_and_refuses_them_to_the_next_buyer(reserved, client):
    performance, plan = reserved
    chosen = [seat_id(plan, "2", 4), seat_id(plan, "2", 5)]
    placed = client.post("/api/checkout", json=order(performance, seats=chosen))
    assert placed.status_code == 201, placed.text
    seen = states(client, performance)
    assert [seen[s] for s in chosen] == ["held", "held"]

    status = client.get(placed.json()["api_url"]).json()
    assert status["lines"][0]["seats"] == ["Zaal, rij 2, stoel 4", "Zaal, rij 2, stoel 5"]
    page = client.get(placed.json()["status_url"].removeprefix("http://testserver"))
    assert "Zaal, rij 2, stoel 4; Zaal, rij 2, stoel 5" in page.text

    again = client.post("/api/checkout", json=order(performance, seats=[chosen[0]]))
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "seats_unavailable"
    assert "rij 2, stoel 4" in error["message"]
    assert sum(state == "held" for state in states(client, performance).values()) == 2


def test_best_available_through_a_line_gets_seats_side_by_side(reserved, client):
    performance, plan = reserved
    placed = client.post("/api/checkout", json=order(performance, best=3))
    assert placed.status_code == 201, placed.text
    held = [s for s in plan.seats if states(client, performance)[str(s.id)] == "held"]
    assert len(held) == 3
    assert len({s.row for s in held}) == 1
    assert sorted(s.column for s in held) == list(range(held[0].column, held[0].column + 3))


def test_bad_seat_requests_are_refused_and_hold_nothing(reserved, client):
    performance, plan = reserved
    stranger = "00000000-0000-4000-8000-000000000001"
    unknown = client.post("/api/checkout", json=order(performance, seats=[stranger]))
    assert unknown.status_code == 409
    assert unknown.json()["error"]["code"] == "seats_unavailable"
    too_many = [str(s.id) for s in plan.seats[:12]]
    refused = client.post("/api/checkout", json=order(performance, seats=too_many))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "too_many_seats"
    no_row = client.post("/api/checkout", json=order(performance, best=5))  # rows of 4 + 4
    assert no_row.status_code == 409
    assert no_row.json()["error"]["code"] == "no_adjacent_seats"
    empty = client.post("/api/checkout", json=order(performance))
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "empty_cart"
    assert set(states(client, performance).values()) == {"free"}


def test_the_openapi_document_lists_the_seat_map_and_chosen_seats(client):
    document = client.get("/api/openapi.json").json()
    assert "/api/performances/{performance_id}/seats" in document["paths"]
    checkout_schema = document["components"]["schemas"]["CheckoutInput"]
    assert "seats" in checkout_schema["properties"]
