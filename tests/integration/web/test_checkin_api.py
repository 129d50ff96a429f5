"""The check-in API for scanner apps, and the device tokens staff make and revoke for it."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from mierloos_core.model.admissions import secret_hash
from mierloos_core.model.timeutil import local
from mierloos_entrypoints.web.api import document
from mierloos_entrypoints.web.checkin_models import door_list_key, sign
from tests.integration.web.door_support import paid_tickets, tonight
from tests.integration.web.web_support import Site, log_in_as_staff, session_token

_TOKEN = re.compile(r'<code id="new-token" class="token">([^<]+)</code>')


def make_token(site: Site, client: TestClient, name: str, performance: str = "") -> str:
    answer = client.post(
        "/beheer/apparaten",
        data={"csrf_token": session_token(client), "name": name, "performance": performance},
    )
    assert answer.status_code == 201, answer.text
    found = _TOKEN.search(answer.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def scans_url(performance: uuid.UUID) -> str:
    return f"/api/checkin/performances/{performance}/scans"


def test_tokens_are_shown_once_stored_hashed_and_revocable(site: Site, staff: TestClient) -> None:
    performance = tonight(site)
    ticket = paid_tickets(site, performance).tickets[0]
    token = make_token(site, staff, "Scanner voordeur")
    assert token.startswith("mld_")
    listing = staff.get("/beheer/apparaten")
    assert "Scanner voordeur" in listing.text
    assert token not in listing.text
    with site.container.uow() as uow:
        [device] = uow.devices.list()
    assert token not in device.token_hash

    with site.client() as app:
        admitted = app.post(
            scans_url(performance),
            json={"code": ticket.secret, "door": "Voordeur"},
            headers=bearer(token),
        )
        assert admitted.status_code == 200, admitted.text
        assert admitted.json()["result"] == "admitted"
        assert admitted.json()["admission"]["by"] == "apparaat: Scanner voordeur"

        revoked = staff.post(
            f"/beheer/apparaten/{device.id}/intrekken", data={"csrf_token": session_token(staff)}
        )
        assert revoked.status_code == 303
        after = app.post(
            scans_url(performance),
            json={"code": ticket.secret, "door": "Voordeur"},
            headers=bearer(token),
        )
        assert after.status_code == 401
        assert after.json()["error"]["code"] == "unauthorized"
        assert after.headers["www-authenticate"] == "Bearer"


def test_device_pages_need_staff_and_a_name(site: Site, client: TestClient) -> None:
    assert client.get("/beheer/apparaten").status_code in (302, 303)
    log_in_as_staff(site, client)
    empty = client.post(
        "/beheer/apparaten", data={"csrf_token": session_token(client), "name": " "}
    )
    assert empty.status_code == 422
    bad_scope = client.post(
        "/beheer/apparaten",
        data={"csrf_token": session_token(client), "name": "X", "performance": "nope"},
    )
    assert bad_scope.status_code == 422
    no_csrf = client.post("/beheer/apparaten", data={"name": "X"})
    assert no_csrf.status_code == 403
    assert site.count("device_tokens") == 0


def test_tokens_are_checked_on_every_call_and_scoped(site: Site, staff: TestClient) -> None:
    performance, other = tonight(site), tonight(site, 1)
    ticket = paid_tickets(site, performance).tickets[0]
    scoped = make_token(site, staff, "Alleen vanavond", str(performance))
    everywhere = make_token(site, staff, "Overal")
    body = {"code": ticket.secret, "door": "Voordeur"}
    with site.client() as app:
        for headers in ({}, bearer("mld_" + "x" * 43), bearer(""), {"Authorization": scoped}):
            answer = app.post(scans_url(performance), json=body, headers=headers)
            assert answer.status_code == 401, headers
        for path in ("counts", "door-list"):
            url = f"/api/checkin/performances/{performance}/{path}"
            assert app.get(url).status_code == 401
            assert app.get(url, headers=bearer(scoped)).status_code == 200
            assert (
                app.get(
                    url.replace(str(performance), str(other)), headers=bearer(scoped)
                ).status_code
                == 403
            )
        out_of_scope = app.post(scans_url(other), json=body, headers=bearer(scoped))
        assert out_of_scope.status_code == 403
        assert out_of_scope.json()["error"]["code"] == "forbidden"
        elsewhere = app.post(scans_url(other), json=body, headers=bearer(everywhere))
        assert elsewhere.json()["result"] == "other_performance"
        unknown = app.post(scans_url(uuid.uuid4()), json=body, headers=bearer(everywhere))
        assert unknown.status_code == 404
        not_json = app.post(scans_url(performance), content=b"code=x", headers=bearer(scoped))
        assert not_json.status_code == 415
        no_door = app.post(scans_url(performance), json={"code": "x"}, headers=bearer(scoped))
        assert no_door.status_code == 400
        # Without a token a bad body is not even read: the answer is the 401, not its problem.
        for sent in ({"content": b"code=x"}, {"json": {"code": "x"}}):
            anonymous = app.post(scans_url(performance), **sent)  # type: ignore[arg-type]
            assert anonymous.status_code == 401
            assert anonymous.json()["error"]["code"] == "unauthorized"
    assert site.count("door_scans", result="admitted") == 0


def test_failed_token_checks_are_throttled(site: Site) -> None:
    performance = tonight(site)
    with site.client() as app:
        statuses = [
            app.get(
                f"/api/checkin/performances/{performance}/counts", headers=bearer("mld_wrong")
            ).status_code
            for _ in range(25)
        ]
    assert statuses[:20] == [401] * 20
    assert statuses[-1] == 429


def test_scan_undo_counts_and_the_signed_door_list(site: Site, staff: TestClient) -> None:
    performance = tonight(site)
    order = paid_tickets(site, performance, 2)
    token = make_token(site, staff, "Telefoon", str(performance))
    base = f"/api/checkin/performances/{performance}"
    with site.client(headers=bearer(token)) as app:
        before = app.get(f"{base}/counts").json()
        assert app.post(
            f"{base}/scans", json={"code": order.tickets[0].secret, "door": "A"}
        ).json()["admitted"]
        assert app.get(f"{base}/counts").json()["admitted"] == before["admitted"] + 1
        site.clock.advance(timedelta(seconds=2))
        assert app.post(f"{base}/undo", json={"door": "A"}).json()["undone"] is True
        assert app.post(f"{base}/undo", json={"door": "A"}).json()["undone"] is False
        assert app.get(f"{base}/counts").json() == before

        listed = app.get(f"{base}/door-list")
        assert listed.status_code == 200
        body = listed.json()
        for ticket in order.tickets:
            assert ticket.secret not in listed.text
        assert {secret_hash(t.secret) for t in order.tickets} <= {
            t["secret_sha256"] for t in body["tickets"]
        }
        signature = body.pop("signature")
        assert signature == sign(body, door_list_key(site.container.settings().secret_key))


def test_offline_scans_first_scan_wins_and_conflicts_are_listed(
    site: Site, staff: TestClient
) -> None:
    performance = tonight(site)
    a, b, c = paid_tickets(site, performance, 3).tickets
    token = make_token(site, staff, "Laptop", str(performance))
    base = f"/api/checkin/performances/{performance}"
    start = local(site.clock.now() - timedelta(minutes=30))
    with site.client(headers=bearer(token)) as app:
        online = app.post(f"{base}/scans", json={"code": c.secret, "door": "Voordeur"})
        assert online.json()["admitted"]
        upload = app.post(
            f"{base}/offline-scans",
            json={
                "scans": [
                    {
                        "code": secret_hash(a.secret),
                        "scanned_at": (start + timedelta(minutes=5)).isoformat(),
                        "door": "Zijdeur",
                    },
                    {
                        "code": secret_hash(a.secret),
                        "scanned_at": start.isoformat(),
                        "door": "Balkon",
                    },
                    {"code": b.secret, "scanned_at": start.isoformat(), "door": "Zijdeur"},
                    {
                        "code": secret_hash(c.secret),
                        "scanned_at": start.isoformat(),
                        "door": "Zijdeur",
                    },
                    {"code": "f" * 64, "scanned_at": start.isoformat(), "door": "Zijdeur"},
                ]
            },
        )
        assert upload.status_code == 200, upload.text
        report = upload.json()
        assert report["admitted"] == 2
        conflicts = {(line["code"], line["door"]): line for line in report["conflicts"]}
        assert set(conflicts) == {
            (secret_hash(a.secret), "Zijdeur"),
            (secret_hash(c.secret), "Zijdeur"),
        }
        assert conflicts[(secret_hash(a.secret), "Zijdeur")]["admission"]["door"] == "Balkon"
        assert conflicts[(secret_hash(c.secret), "Zijdeur")]["admission"]["door"] == "Voordeur"
        assert [line["result"] for line in report["refused"]] == ["unknown"]

        naive = app.post(
            f"{base}/offline-scans",
            json={"scans": [{"code": "x", "scanned_at": "2026-12-01T20:00:00", "door": "A"}]},
        )
        assert naive.status_code == 400
    assert site.count("door_scans", offline=True) == 5


def test_the_openapi_document_describes_the_check_in_api() -> None:
    paths = document()["paths"]
    scan = paths["/api/checkin/performances/{performance_id}/scans"]["post"]
    assert scan["security"] == [{"deviceToken": []}]
    assert {"401", "403", "404"} <= set(scan["responses"])
    assert [p["name"] for p in scan["parameters"]] == ["performance_id"]
    schemes = document()["components"]["securitySchemes"]
    assert schemes["deviceToken"]["scheme"] == "bearer"
    for path in ("undo", "counts", "door-list", "offline-scans"):
        assert f"/api/checkin/performances/{{performance_id}}/{path}" in paths
    assert "security" not in paths["/api/shows"]["get"]
