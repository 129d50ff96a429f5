"""The door over HTTP, as staff use it: /beheer/deur and its JSON answers to the page's script."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from starlette.testclient import TestClient

from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_core.model.admissions import secret_hash
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.orders import TicketStatus
from mierloos_entrypoints.web.checkin_models import door_list_key, sign
from tests.integration.web.door_support import (
    door_post,
    paid_tickets,
    set_ticket_status,
    tonight,
    unpaid_tickets,
)
from tests.integration.web.web_support import Site, log_in_as_staff, session_token
from tests.pdf_pages import render_pages


@pytest.fixture
def staff(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def test_the_door_is_for_staff_only(site: Site, client: TestClient) -> None:
    performance = tonight(site)
    for path in (
        "/beheer/deur",
        f"/beheer/deur/{performance}",
        f"/beheer/deur/{performance}/tellingen",
    ):
        assert client.get(path).status_code in (302, 303), path
    answer = client.post(f"/beheer/deur/{performance}/scan", data={"code": "x"})
    assert answer.status_code in (302, 303, 403)


def test_the_door_page_lists_performances_and_allows_the_camera(
    site: Site, staff: TestClient
) -> None:
    performance = tonight(site)
    choose = staff.get("/beheer/deur")
    assert choose.status_code == 200
    assert f"/beheer/deur/{performance}" in choose.text
    page = staff.get(f"/beheer/deur/{performance}")
    assert page.status_code == 200
    assert 'id="code"' in page.text
    assert "autofocus" in page.text
    assert "camera=(self)" in page.headers["permissions-policy"]
    assert "camera=()" in staff.get("/beheer").headers["permissions-policy"]
    assert staff.get("/beheer/deur/00000000-0000-4000-8000-000000000000").status_code == 404


def test_every_outcome_of_a_scan(site: Site, staff: TestClient) -> None:
    performance, other = tonight(site), tonight(site, 1)
    order = paid_tickets(site, performance, 3)
    set_ticket_status(site, order, 1, TicketStatus.REFUNDED)
    set_ticket_status(site, order, 2, TicketStatus.CANCELLED)
    elsewhere = paid_tickets(site, other).tickets[0]
    unpaid = unpaid_tickets(site, performance).tickets[0]
    ticket = order.tickets[0]

    welcome = door_post(staff, performance, "scan", code=f" {ticket.secret}\r\n")
    assert welcome["result"] == "admitted"
    assert welcome["admitted"] is True
    assert welcome["label"] == "Welkom"
    assert welcome["ticket"] == {
        "holder_name": "Anaïs Verbeek",
        "category_name": "Regulier",
        "seat": None,
    }

    again = door_post(staff, performance, "scan", code=ticket.secret, door="Zijdeur")
    assert again["result"] == "already_admitted"
    assert again["admitted"] is False
    assert again["admission"]["door"] == "Voordeur"
    assert again["admission"]["by"] == "kassa@example.org"
    assert "Al binnen sinds" in again["message"]
    assert "Voordeur" in again["message"]

    wrong = door_post(staff, performance, "scan", code=elsewhere.secret)
    assert wrong["result"] == "other_performance"
    assert wrong["other_performance"]["id"] == str(other)
    assert wrong["other_performance"]["show_title"] in wrong["message"]
    expected = {
        order.tickets[1].secret: "refunded",
        order.tickets[2].secret: "cancelled",
        unpaid.secret: "unpaid",
        "A" * 43: "unknown",
        "<script>": "unknown",
        "x" * 1000: "unknown",
    }
    for code, result in expected.items():
        answer = door_post(staff, performance, "scan", code=code)
        assert answer["result"] == result, code
        assert answer["admitted"] is False
    # Longer than any form field: refused by the form parser before anything else.
    absurd = staff.post(
        f"/beheer/deur/{performance}/scan",
        data={"csrf_token": session_token(staff), "door": "Voordeur", "code": "x" * 100_000},
    )
    assert absurd.status_code in (400, 413)
    assert site.count("door_scans") == 3 + len(expected)
    assert site.count("door_scans", result="admitted") == 1


def test_a_scan_without_the_csrf_token_is_refused(site: Site, staff: TestClient) -> None:
    ticket = paid_tickets(site, tonight(site)).tickets[0]
    answer = staff.post(
        f"/beheer/deur/{tonight(site)}/scan", data={"code": ticket.secret, "door": "Voordeur"}
    )
    assert answer.status_code == 403
    assert site.count("door_scans") == 0


def test_undo_and_live_counts(site: Site, staff: TestClient) -> None:
    performance = tonight(site)
    order = paid_tickets(site, performance, 2)
    before = staff.get(f"/beheer/deur/{performance}/tellingen").json()
    assert door_post(staff, performance, "scan", code=order.tickets[0].secret)["admitted"]
    after = staff.get(f"/beheer/deur/{performance}/tellingen").json()
    assert after["admitted"] == before["admitted"] + 1
    assert after["sold"] == before["sold"]
    [regular] = [c for c in after["categories"] if c["category_name"] == "Regulier"]
    assert regular["admitted"] >= 1

    site.clock.advance(__import__("datetime").timedelta(seconds=3))
    undone = door_post(staff, performance, "terugdraaien")
    assert undone == {"undone": True, "message": "Laatste toegang teruggedraaid."}
    assert door_post(staff, performance, "terugdraaien")["undone"] is False
    assert staff.get(f"/beheer/deur/{performance}/tellingen").json() == before
    site.clock.advance(__import__("datetime").timedelta(seconds=3))
    assert door_post(staff, performance, "scan", code=order.tickets[0].secret)["admitted"]


def test_the_door_lists_carry_hashes_never_secrets_and_are_signed(
    site: Site, staff: TestClient
) -> None:
    performance = tonight(site)
    order = paid_tickets(site, performance, 2)
    listed = staff.get(f"/beheer/deur/{performance}/deurlijst.json")
    assert listed.status_code == 200
    assert "attachment" in listed.headers["content-disposition"]
    for ticket in order.tickets:
        assert ticket.secret not in listed.text
    body = listed.json()
    hashes = {t["secret_sha256"] for t in body["tickets"]}
    assert {secret_hash(t.secret) for t in order.tickets} <= hashes
    key = door_list_key(site.container.settings().secret_key)
    signature = body.pop("signature")
    assert hmac.compare_digest(signature, sign(body, key))
    body["tickets"][0]["holder_name"] = "Iemand anders"
    assert sign(body, key) != signature

    table = staff.get(f"/beheer/deur/{performance}/deurlijst.csv")
    assert table.status_code == 200
    assert table.headers["content-type"].startswith("text/csv")
    for ticket in order.tickets:
        assert ticket.secret not in table.text
        assert secret_hash(ticket.secret) in table.text
    expected = hmac.new(key, table.content, hashlib.sha256).hexdigest()
    assert table.headers["x-door-list-signature"] == f"sha256={expected}"


def _ticket_frame(secret: str) -> bytes:
    """A real ticket, rendered by the project's renderer and rasterised: its first page as PNG."""
    from datetime import UTC, datetime

    from mierloos_core.model.money import Money

    pdf = ReportlabTicketRenderer().render(
        [
            TicketDocument(
                theatre_name="Ons Mierloos Theater",
                show_title="De Gebroeders Mierlo",
                starts_at=datetime(2026, 11, 7, 19, 30, tzinfo=UTC),
                hall="Grote zaal",
                price=Money(2250),
                order_number="OMT-Q4R8T2WZ",
                holder_name="Anaïs Verbeek",
                secret=secret,
                position=1,
                count=1,
            )
        ]
    )
    [page] = render_pages(pdf, 100)
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()


def test_the_camera_path_decodes_a_rendered_ticket_on_the_server(
    site: Site, staff: TestClient
) -> None:
    performance = tonight(site)
    ticket = paid_tickets(site, performance).tickets[0]
    frame = _ticket_frame(ticket.secret)

    def send(data: bytes, name: str = "frame.png") -> dict:
        answer = staff.post(
            f"/beheer/deur/{performance}/beeld",
            data={"csrf_token": session_token(staff), "door": "Camera"},
            files={"frame": (name, data, "image/png")},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = send(frame)
    assert first["result"] == "admitted"
    assert first["ticket"]["holder_name"] == "Anaïs Verbeek"
    assert send(frame)["result"] == "already_admitted"
    assert send(b"not an image at all") == {"found": False}
    assert send(b"GIF89a" + b"\0" * 100, "frame.gif") == {"found": False}

    too_big = staff.post(
        f"/beheer/deur/{performance}/beeld",
        data={"csrf_token": session_token(staff), "door": "Camera"},
        files={"frame": ("frame.png", b"\0" * (3 * 1024 * 1024), "image/png")},
    )
    assert too_big.status_code == 413
    no_token = staff.post(
        f"/beheer/deur/{performance}/beeld", files={"frame": ("frame.png", frame, "image/png")}
    )
    assert no_token.status_code == 403
    assert json.loads(staff.get(f"/beheer/deur/{performance}/tellingen").text)["admitted"] >= 1


def test_staff_upload_offline_scans_as_csv_or_json(site: Site, staff: TestClient) -> None:
    from datetime import timedelta

    from mierloos_core.model.timeutil import local

    performance = tonight(site)
    a, b = paid_tickets(site, performance, 2).tickets
    door_post(staff, performance, "scan", code=b.secret)
    start = local(site.clock.now() - timedelta(minutes=20)).isoformat()
    later = local(site.clock.now() - timedelta(minutes=10)).isoformat()
    table = (
        "code,scanned_at,door\n"
        f"{secret_hash(a.secret)},{later},Zijdeur\n"
        f"{a.secret},{start},Balkon\n"
        f"{secret_hash(b.secret)},{start},Zijdeur\n"
        "onzin,2026-12-01T20:00:00+01:00,Zijdeur\n"
    )

    def send(name: str, content: bytes) -> tuple[int, str]:
        answer = staff.post(
            f"/beheer/deur/{performance}/offline",
            data={"csrf_token": session_token(staff)},
            files={"scans": (name, content, "text/csv")},
        )
        return answer.status_code, " ".join(answer.text.split())

    status, page = send("scans.csv", table.encode())
    assert status == 200, page
    assert "1 kaart binnengelaten, 2 conflicten, 1 geweigerd." in page
    assert "Balkon (kassa@example.org)" in page  # the Zijdeur scan of a lost to the Balkon
    assert "Voordeur (kassa@example.org)" in page  # b was let in online first
    assert "Onbekende kaart" in page

    again = json.dumps(
        {"scans": [{"code": a.secret, "scanned_at": later, "door": "Zijdeur"}]}
    ).encode()
    status, page = send("scans.json", again)
    assert status == 200
    assert "0 kaarten binnengelaten, 1 conflict, 0 geweigerd." in page

    for bad in (b"\xff\xfe", b'{"scans": 1}', b"code,scanned_at,door\nx,gisteren,A\n"):
        status, page = send("scans.csv", bad)
        assert status == 422
        assert "niet te lezen" in page
    assert site.count("door_scans", offline=True) == 5
