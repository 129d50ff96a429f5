"""Staff roles over HTTP: every staff route lets in exactly the roles its area allows."""

from __future__ import annotations

import re
import uuid

import pytest
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from mierloos_core.model.accounts import AREAS_BY_ROLE, Role, StaffArea
from mierloos_entrypoints.web.auth import is_staff_only
from mierloos_entrypoints.web.staff_areas import staff_area
from tests.integration.web.web_support import (
    Site,
    log_in,
    log_in_as_staff,
    session_token,
)

STAFF_ROLES = (Role.ADMIN, Role.COUNTER, Role.DOOR)
_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def staff_routes(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """(method, concrete path) of every staff-only route, parameters filled with made-up ids."""
    found = []
    for route in routes:
        if isinstance(route, Mount):
            found += staff_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and is_staff_only(route.endpoint):
            path = _PARAM.sub(lambda m: str(uuid.uuid4()), prefix + route.path)
            found += [(method, path) for method in sorted(set(route.methods or {"GET"}) - {"HEAD"})]
    return found


def client_as(site: Site, role: Role) -> TestClient:
    client = site.client()
    if role is Role.VISITOR:
        site.container.accounts().register("bezoeker@example.org", "Bezoeker", "lang-geheim-2026")
        assert log_in(client, "bezoeker@example.org", "lang-geheim-2026").status_code == 303
    else:
        log_in_as_staff(site, client, f"{role.value}@example.org", role)
    return client


def request(client: TestClient, method: str, path: str):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(path)
    return client.request(method, path, data={"csrf_token": session_token(client)})


def test_the_areas_map_paths_to_roles() -> None:
    assert staff_area("/beheer") is None
    assert staff_area("/beheer/deur/1234") is StaffArea.DOOR
    assert staff_area("/beheer/kassa") is StaffArea.COUNTER
    assert staff_area("/beheer/bestellingen/1/terugbetalen") is StaffArea.ORDERS
    assert staff_area("/beheer/deuren") is StaffArea.ADMIN  # a prefix is a whole path segment
    assert staff_area("/beheer/taken") is StaffArea.ADMIN
    assert staff_area("/api/beheer/deur/scan") is StaffArea.DOOR
    assert staff_area("/api/beheer/rapporten") is StaffArea.ADMIN


def test_the_app_has_staff_routes_in_every_area(site: Site) -> None:
    areas = {staff_area(path) for _, path in staff_routes(list(site.app.routes))}
    assert {None, StaffArea.ADMIN, StaffArea.ORDERS} <= areas


@pytest.mark.parametrize("role", [Role.VISITOR, *STAFF_ROLES])
def test_every_staff_route_admits_exactly_the_roles_of_its_area(site: Site, role: Role) -> None:
    client = client_as(site, role)
    wrong = []
    for method, path in staff_routes(list(site.app.routes)):
        area = staff_area(path)
        allowed = role is not Role.VISITOR and (area is None or area in AREAS_BY_ROLE[role])
        status = request(client, method, path).status_code
        if allowed == (status in (401, 403)):
            wrong.append((role.value, method, path, status))
    assert wrong == []


def test_without_a_login_every_staff_page_sends_to_the_login(site: Site) -> None:
    client = site.client()
    for method, path in staff_routes(list(site.app.routes)):
        answer = request(client, method, path)
        if path.startswith("/api/"):
            assert answer.status_code == 401, path
        elif method == "GET":
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/account/inloggen?next="), path
        else:
            assert answer.status_code in (303, 403), path


def test_the_navigation_shows_only_what_the_role_may_open(site: Site) -> None:
    door = client_as(site, Role.DOOR)
    page = door.get("/beheer")
    assert page.status_code == 200
    assert "Deur (alleen scannen aan de deur)" in page.text
    assert 'href="/beheer/taken"' not in page.text
    assert "Achtergrondtaken" not in page.text
    counter = client_as(site, Role.COUNTER)
    nav = counter.get("/beheer").text
    assert 'href="/beheer/bestellingen"' in nav
    assert 'href="/beheer/voorstellingen"' not in nav
    assert 'href="/beheer/taken"' in client_as(site, Role.ADMIN).get("/beheer").text
