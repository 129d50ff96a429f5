"""schemathesis against the API's OpenAPI document, in-process over ASGI.

No 5xx and no response that violates the document (status codes, content types, bodies),
while schema-violating requests are refused. Examples are bounded and derandomized, so the
run stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from mierloos_entrypoints.web.api import document as openapi_document
from tests.integration.web.web_support import Site, build_site, migrated_database

# The document the app serves (checked below); the app is passed per call.
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def api_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    directory = tmp_path_factory.mktemp("schemathesis")
    var_dir = directory / "var"
    var_dir.mkdir()
    return build_site(var_dir, migrated_database(directory))


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_honours_its_openapi_document(case: schemathesis.Case, api_site: Site) -> None:
    case.call_and_validate(app=api_site.app)


def test_the_app_serves_this_document(api_site: Site) -> None:
    with TestClient(api_site.app) as client:
        response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.json() == openapi_document()
    labels = {op.ok().label for op in schema.get_all_operations()}
    assert labels == {
        "GET /api/shows",
        "GET /api/performances/{performance_id}/availability",
        "GET /api/performances/{performance_id}/seats",
        "POST /api/cart/validate",
        "POST /api/checkout",
        "GET /api/orders/{secret}",
        "POST /api/checkin/performances/{performance_id}/scans",
        "POST /api/checkin/performances/{performance_id}/undo",
        "GET /api/checkin/performances/{performance_id}/counts",
        "GET /api/checkin/performances/{performance_id}/door-list",
        "POST /api/checkin/performances/{performance_id}/offline-scans",
        "GET /api/beheer/rapporten/periode",
        "GET /api/beheer/rapporten/uitvoeringen/{performance_id}",
    }


def test_successful_answers_about_real_data_match_the_document(api_site: Site) -> None:
    """Generated ids never exist, so the happy paths are checked here with real ones."""
    from mierloos_adapters.memory import MemoryPaymentGateway
    from mierloos_core.model.payments import PaymentStatus
    from mierloos_core.services.payments import POLL_EVERY

    good = api_site.performances("gebroeders-mierlo")[1]
    sold_out = next(p for p in api_site.performances("zwanenmeer") if p.sold_out)
    gateway = api_site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    order = {
        "name": "Jan",
        "email": "jan@example.nl",
        "newsletter": True,
        "lines": [{"performance_id": str(good.id), "quantity": 1}],
    }
    # Its own client address: the generated checkouts above count against theirs.
    with TestClient(api_site.app, client=("192.0.2.10", 50000)) as client:
        answers = [
            ("/api/shows", "GET", client.get("/api/shows")),
            (
                "/api/performances/{performance_id}/availability",
                "GET",
                client.get(f"/api/performances/{good.id}/availability?quantity=2"),
            ),
            (
                "/api/performances/{performance_id}/availability",
                "GET",
                client.get(f"/api/performances/{sold_out.id}/availability"),
            ),
            (
                "/api/cart/validate",
                "POST",
                client.post(
                    "/api/cart/validate",
                    json={
                        "lines": [
                            {"performance_id": str(good.id), "quantity": 2},
                            {"performance_id": str(sold_out.id), "quantity": 1},
                        ]
                    },
                ),
            ),
        ]
        placed = client.post("/api/checkout", json=order)
        answers.append(("/api/checkout", "POST", placed))
        gateway.down = True
        answers.append(("/api/checkout", "POST", client.post("/api/checkout", json=order)))
        gateway.down = False
        status_path = placed.json()["api_url"]
        answers.append(("/api/orders/{secret}", "GET", client.get(status_path)))
        gateway.set_status(next(iter(gateway.payments)), PaymentStatus.PAID)
        api_site.clock.advance(POLL_EVERY)  # the provider is asked at most this often
        paid = client.get(status_path)
        answers.append(("/api/orders/{secret}", "GET", paid))

    assert paid.json()["status"] == "paid"
    for path, method, response in answers:
        assert response.status_code in (200, 201), response.text
        schema[path][method].validate_response(response)
