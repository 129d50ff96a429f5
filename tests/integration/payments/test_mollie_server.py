"""The Mollie-shaped test server itself speaks the API the way the adapter tests assume."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.payments.mollie_server import DEFAULT_API_KEY, MollieServer

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
BODY: dict[str, Any] = {
    "amount": {"currency": "EUR", "value": "12.50"},
    "description": "Bestelling OMT-TEST",
    "redirectUrl": "https://tickets.example/bestelling/1",
    "webhookUrl": "https://tickets.example/webhooks/mollie",
    "metadata": {"order_id": "0b6f4c0e-7d1a-4c57-9d5e-2f3f1b8a9c01"},
}


@pytest.fixture
def http(mollie_server: MollieServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mollie_server.base_url, timeout=5) as client:
        yield client


def test_requests_without_a_valid_bearer_key_get_mollies_401(http: httpx.Client) -> None:
    missing = http.post("/v2/payments", json=BODY)
    wrong = http.get("/v2/payments/tr_x", headers={"Authorization": "Bearer test_nope"})

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["status"] == 401
        assert response.json()["title"] == "Unauthorized Request"
        assert response.json()["detail"]


def test_a_created_payment_has_mollies_shape(http: httpx.Client) -> None:
    response = http.post("/v2/payments", json=BODY, headers=AUTH)

    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/hal+json")
    payment = response.json()
    assert payment["resource"] == "payment"
    assert payment["id"].startswith("tr_")
    assert payment["mode"] == "test"
    assert payment["status"] == "open"
    assert payment["amount"] == BODY["amount"]
    assert payment["metadata"] == BODY["metadata"]
    assert payment["redirectUrl"] == BODY["redirectUrl"]
    assert payment["webhookUrl"] == BODY["webhookUrl"]
    assert payment["createdAt"] < payment["expiresAt"]
    assert payment["_links"]["checkout"]["href"].startswith("http")
    assert payment["_links"]["self"]["href"].endswith(f"/v2/payments/{payment['id']}")
    assert http.get(f"/v2/payments/{payment['id']}", headers=AUTH).json() == payment


def test_a_form_encoded_create_is_read_like_json(
    http: httpx.Client, mollie_server: MollieServer
) -> None:
    form = {
        "amount[currency]": "EUR",
        "amount[value]": "12.50",
        "description": BODY["description"],
        "redirectUrl": BODY["redirectUrl"],
        "webhookUrl": BODY["webhookUrl"],
        "metadata[order_id]": BODY["metadata"]["order_id"],
    }

    response = http.post("/v2/payments", data=form, headers=AUTH)

    assert response.status_code == 201
    assert mollie_server.creates()[0].body == BODY


def test_the_same_idempotency_key_replays_the_first_answer(
    http: httpx.Client, mollie_server: MollieServer
) -> None:
    headers = {**AUTH, "Idempotency-Key": "order-1"}

    first = http.post("/v2/payments", json=BODY, headers=headers)
    second = http.post("/v2/payments", json=BODY, headers=headers)

    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(mollie_server.payments) == 1


def test_an_unknown_payment_gets_mollies_404(http: httpx.Client) -> None:
    response = http.get("/v2/payments/tr_unknown", headers=AUTH)

    assert response.status_code == 404
    assert response.json()["status"] == 404
    assert "tr_unknown" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": {"currency": "EUR", "value": "12.5"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "0.00"}}, "amount.value"),
        ({"amount": {"currency": "euro", "value": "1.00"}}, "amount.currency"),
        ({"description": ""}, "description"),
        ({"redirectUrl": None}, "redirectUrl"),
        ({"webhookUrl": "not a url"}, "webhookUrl"),
    ],
)
def test_an_invalid_create_gets_mollies_422_naming_the_field(
    http: httpx.Client, mollie_server: MollieServer, change: dict[str, object], field: str
) -> None:
    response = http.post("/v2/payments", json={**BODY, **change}, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert response.json()["title"] == "Unprocessable Entity"
    assert mollie_server.payments == {}


def test_control_endpoints_steer_a_server_in_another_process(http: httpx.Client) -> None:
    payment_id = http.post("/v2/payments", json=BODY, headers=AUTH).json()["id"]

    http.post(f"/_control/payments/{payment_id}/status", json={"status": "paid"})
    paid = http.get(f"/v2/payments/{payment_id}", headers=AUTH).json()
    http.post("/_control/faults", json={"error_status": 500})
    down = http.get(f"/v2/payments/{payment_id}", headers=AUTH)
    recorded = http.get("/_control/requests").json()

    assert paid["status"] == "paid"
    assert "paidAt" in paid
    assert "checkout" not in paid["_links"]
    assert down.status_code == 500
    assert [r["method"] for r in recorded] == ["POST", "GET", "GET"]
