"""Staff make a hall's seat plan with the generator over HTTP: preview, refusals, roles."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from mierloos_core.model.accounts import Role
from tests.integration.web.web_support import Site, csrf_token, log_in_as_staff

NEW = "/beheer/zalen/nieuw"


@pytest.fixture
def admin(site: Site, client: TestClient) -> TestClient:
    log_in_as_staff(site, client)
    return client


def _generator_fields(client: TestClient, **changes: str) -> dict[str, Any]:
    page = client.get(NEW)
    assert page.status_code == 200
    fields = {
        "csrf_token": csrf_token(page.text),
        "naam": "Kleine zaal",
        "sectie1_naam": "Zaal",
        "sectie1_rijen": "4",
        "sectie1_stoelen": "10",
        "sectie1_gangpad": "5",
        "sectie1_boog": "",
        "sectie1_labels": "numbers",
        "sectie1_zones": "Voorin 1, Regulier 3",
        "actie": "voorbeeld",
    }
    fields.update(changes)
    return fields


def _seat_labels(html: str) -> list[str]:
    return re.findall(r'<g class="seat[^"]*"[^>]*><title>([^<]+)</title>', html)


def test_the_preview_draws_every_generated_seat(admin: TestClient) -> None:
    answer = admin.post(NEW, data=_generator_fields(admin))
    assert answer.status_code == 200
    labels = _seat_labels(answer.text)
    assert len(labels) == 40
    assert "Rij 1, stoel 1, Voorin, vrij" in labels
    assert "Rij 4, stoel 10, Regulier, vrij" in labels
    assert "Voorbeeld: 40 stoelen" in answer.text


def test_curved_rows_with_letters_and_a_balcony(admin: TestClient) -> None:
    fields = _generator_fields(
        admin,
        sectie1_boog="12",
        sectie1_labels="letters",
        sectie1_zones="",
        sectie2_naam="Balkon",
        sectie2_rijen="2",
        sectie2_stoelen="6, 8",
        sectie2_labels="numbers",
    )
    answer = admin.post(NEW, data=fields)
    assert answer.status_code == 200
    labels = _seat_labels(answer.text)
    assert len(labels) == 40 + 14
    assert "Zaal, Rij D, stoel 10, A, vrij" in labels  # two sections: each seat names its own
    assert "Balkon, Rij 2, stoel 8, A, vrij" in labels


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sectie1_rijen": "0"}, "sectie1_rijen", "1 tot 60 rijen"),
        ({"sectie1_stoelen": "10, 12"}, "sectie1_rijen", "één per rij"),
        ({"sectie1_stoelen": "tien"}, "sectie1_stoelen", "hele getallen"),
        ({"sectie1_zones": "Voorin 1, Regulier 1"}, "sectie1_rijen", "alle rijen"),
        ({"sectie1_zones": "Voorin"}, "sectie1_zones", "naam aantal rijen"),
        ({"sectie1_boog": "1"}, "sectie1_rijen", "minstens 2"),
        ({"naam": ""}, "naam", "verplicht"),
        ({"sectie2_naam": "Zaal", "sectie2_rijen": "2", "sectie2_stoelen": "4"}, "", "dezelfde"),
    ],
)
def test_a_plan_that_cannot_be_made_comes_back_with_the_reason(
    admin: TestClient, changes: dict[str, str], field: str, message: str
) -> None:
    answer = admin.post(NEW, data=_generator_fields(admin, **changes))
    assert answer.status_code == 422
    assert message in answer.text
    if field:
        assert f'id="{field}-fout"' in answer.text
    assert _seat_labels(answer.text) == []


def test_only_admins_open_the_plan_pages(site: Site, client: TestClient) -> None:
    log_in_as_staff(site, client, "deur@example.org", role=Role.DOOR)
    assert client.get(NEW).status_code == 403


def test_a_hall_name_in_use_is_refused_next_to_the_name(site: Site, admin: TestClient) -> None:
    halls = admin.get("/beheer/zalen").text
    assert "Grote zaal" in halls  # the demo's

    answer = admin.post(NEW, data=_generator_fields(admin, naam="grote  ZAAL", actie="opslaan"))

    assert answer.status_code == 422
    assert 'id="naam-fout"' in answer.text
    assert "Er is al een zaal die grote ZAAL heet" in answer.text
    assert admin.get("/beheer/zalen").text.count("Grote zaal") == halls.count("Grote zaal")


def test_a_saved_plan_is_adjusted_into_a_new_version(site: Site, admin: TestClient) -> None:
    saved = admin.post(NEW, data=_generator_fields(admin, actie="opslaan"))
    assert saved.status_code == 303
    plan_url = saved.headers["location"]
    page = admin.get(plan_url)
    assert "Plattegrond Kleine zaal, versie 1" in page.text
    assert "Kleine zaal" in admin.get("/beheer/zalen").text
    seat_ids = re.findall(r'name="seat" value="([0-9a-f-]{36})"', page.text)
    assert len(seat_ids) == 40
    adjusted = admin.post(
        plan_url,
        data={"csrf_token": csrf_token(page.text), "seat": seat_ids[:2], "wijziging": "blokkeren"},
    )
    assert adjusted.status_code == 303
    version_2 = admin.get(adjusted.headers["location"])
    assert "versie 2" in version_2.text
    assert version_2.text.count('class="seat is-blocked"') == 2
    assert admin.get(plan_url).text.count('class="seat is-blocked"') == 0  # version 1 stays


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"wijziging": "slopen"}, "Kies wat er met de stoelen moet gebeuren."),
        ({"wijziging": "zone", "zone": ""}, "Vul een zone in"),
        ({"wijziging": "blokkeren", "seat": ["nee"]}, "niet in dit plan: nee"),
        ({"wijziging": "blokkeren", "seat": []}, "Kies minstens één stoel."),
    ],
)
def test_a_bad_adjustment_changes_nothing(
    admin: TestClient, fields: dict[str, Any], message: str
) -> None:
    saved = admin.post(NEW, data=_generator_fields(admin, actie="opslaan"))
    page = admin.get(saved.headers["location"])
    answer = admin.post(
        saved.headers["location"], data={"csrf_token": csrf_token(page.text), **fields}
    )
    assert answer.status_code == 422
    assert message in answer.text
    assert "versie 2" not in admin.get("/beheer/zalen").text.lower()


def test_a_performance_goes_on_reserved_seating_with_a_category_per_zone(
    site: Site, admin: TestClient
) -> None:
    saved = admin.post(NEW, data=_generator_fields(admin, actie="opslaan"))
    plan_id = saved.headers["location"].rsplit("/", 1)[1]
    performance = site.performances("gebroeders-mierlo")[0]
    page_url = f"/beheer/uitvoeringen/{performance.id}/zaalplan"
    choose = admin.get(page_url, params={"plan": plan_id})
    assert "Zone Voorin" in choose.text
    category = re.search(r'name="zone:Voorin">\s*<option value="([0-9a-f-]{36})"', choose.text)
    assert category is not None
    token = csrf_token(choose.text)
    missing = admin.post(
        page_url, data={"csrf_token": token, "plan_id": plan_id, "zone:Voorin": category.group(1)}
    )
    assert missing.status_code == 422
    done = admin.post(
        page_url,
        data={
            "csrf_token": token,
            "plan_id": plan_id,
            "zone:Voorin": category.group(1),
            "zone:Regulier": category.group(1),
        },
    )
    assert done.status_code == 303
    shown = admin.get(page_url)
    assert "versie 1" in shown.text
    assert shown.text.count('class="seat is-free"') == 40
    assert site.performance(performance.id).capacity == 40
