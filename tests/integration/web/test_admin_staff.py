"""Admins give and take staff roles on /beheer/medewerkers."""

from __future__ import annotations

from starlette.testclient import TestClient

from mierloos_core.model.accounts import Role
from tests.integration.web.web_support import (
    STAFF_PASSWORD,
    Site,
    csrf_token,
    log_in,
    log_in_as_staff,
)

STAFF = "/beheer/medewerkers"


def set_role(client: TestClient, email: str, role: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(STAFF).text)
    return client.post(STAFF, data={"csrf_token": token, "email": email, "role": role})


def role_of(site: Site, email: str) -> Role:
    with site.container.uow() as uow:
        user = uow.users.get_by_email(email)
    assert user is not None
    return user.role


def test_an_admin_makes_a_visitor_door_staff_and_the_new_role_applies(site: Site) -> None:
    admin = site.client()
    log_in_as_staff(site, admin, "baas@example.org")
    site.container.accounts().register("vrijwilliger@example.org", "Vera", "lang-geheim-2026")
    volunteer = site.client()
    assert log_in(volunteer, "vrijwilliger@example.org", "lang-geheim-2026").status_code == 303

    answer = set_role(admin, " Vrijwilliger@Example.org ", "deur")

    assert answer.status_code == 303
    assert role_of(site, "vrijwilliger@example.org") is Role.DOOR
    listing = admin.get(STAFF).text
    assert "<td>vrijwilliger@example.org</td>" in listing
    assert "Deur (alleen scannen" in listing
    # The role change ended the volunteer's session; a new login carries the role.
    assert volunteer.get("/beheer").status_code == 303
    assert log_in(volunteer, "vrijwilliger@example.org", "lang-geheim-2026").status_code == 303
    assert volunteer.get("/beheer").status_code == 200
    assert volunteer.get("/beheer/taken").status_code == 403


def test_taking_the_role_away_closes_the_staff_pages(site: Site) -> None:
    admin = site.client()
    log_in_as_staff(site, admin, "baas@example.org")
    cashier = site.client()
    log_in_as_staff(site, cashier, "kassa@example.org", Role.COUNTER)

    assert set_role(admin, "kassa@example.org", "visitor").status_code == 303

    assert role_of(site, "kassa@example.org") is Role.VISITOR
    assert "<td>kassa@example.org</td>" not in admin.get(STAFF).text
    assert log_in(cashier, "kassa@example.org", STAFF_PASSWORD).status_code == 303
    assert cashier.get("/beheer/bestellingen").status_code == 403


def test_refusals_name_the_problem_and_change_nothing(site: Site) -> None:
    admin = site.client()
    log_in_as_staff(site, admin, "baas@example.org")

    unknown = set_role(admin, "niemand@example.org", "kassa")
    own = set_role(admin, "baas@example.org", "deur")
    bad_role = set_role(admin, "baas@example.org", "superuser")
    empty = set_role(admin, "", "kassa")

    assert unknown.status_code == 422
    assert "Er is geen account met dit e-mailadres" in unknown.text
    assert own.status_code == 422
    assert "je eigen rol niet wijzigen" in own.text
    assert bad_role.status_code == 422
    assert "Kies een rol." in bad_role.text
    assert empty.status_code == 422
    assert "Vul het e-mailadres" in empty.text
    assert role_of(site, "baas@example.org") is Role.ADMIN


def test_a_counter_role_cannot_hand_out_roles(site: Site) -> None:
    cashier = site.client()
    log_in_as_staff(site, cashier, "kassa@example.org", Role.COUNTER)
    token = csrf_token(cashier.get("/beheer").text)

    answer = cashier.post(
        STAFF, data={"csrf_token": token, "email": "kassa@example.org", "role": "admin"}
    )

    assert answer.status_code == 403
    assert role_of(site, "kassa@example.org") is Role.COUNTER


def test_without_the_csrf_token_nothing_changes(site: Site) -> None:
    admin = site.client()
    log_in_as_staff(site, admin, "baas@example.org")
    site.container.accounts().register("vrijwilliger@example.org", "Vera", "lang-geheim-2026")

    answer = admin.post(STAFF, data={"email": "vrijwilliger@example.org", "role": "admin"})

    assert answer.status_code == 403
    assert role_of(site, "vrijwilliger@example.org") is Role.VISITOR
