"""Server-side sessions over HTTP: logout, password changes and time limits really end them."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from mierloos_entrypoints.web.security import SESSION_COOKIE
from tests.integration.web.web_support import (
    STAFF_PASSWORD,
    Site,
    csrf_token,
    log_in,
    log_in_as_staff,
)

NEW_PASSWORD = "een-heel-nieuw-wachtwoord-9"


def copy_of(site: Site, client: TestClient) -> TestClient:
    """Another browser holding a copy of `client`'s session cookie, as a thief would."""
    thief = site.client()
    thief.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    return thief


def post_form(client: TestClient, page: str, action: str, **fields: str) -> int:
    token = csrf_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **fields}).status_code


def test_a_cookie_copied_before_logout_opens_nothing_after_it(
    site: Site, client: TestClient
) -> None:
    log_in_as_staff(site, client)
    thief = copy_of(site, client)
    assert thief.get("/beheer").status_code == 200

    assert post_form(client, "/", "/account/uitloggen") == 303

    assert thief.get("/beheer").status_code == 303
    assert client.get("/beheer").status_code == 303


def test_staff_sessions_end_after_12_idle_hours_but_live_while_used(
    site: Site, client: TestClient
) -> None:
    log_in_as_staff(site, client)
    for _ in range(3):
        site.clock.advance(timedelta(hours=11))
        assert client.get("/beheer").status_code == 200
    site.clock.advance(timedelta(hours=12, seconds=1))
    assert client.get("/beheer").status_code == 303


def test_staff_sessions_end_after_a_week_however_busy(site: Site, client: TestClient) -> None:
    log_in_as_staff(site, client)
    for _ in range(16):  # 176 hours, never idle for long
        site.clock.advance(timedelta(hours=11))
        client.get("/beheer")
    assert client.get("/beheer").status_code == 303


def test_visitor_sessions_last_seven_idle_days(site: Site, client: TestClient) -> None:
    site.container.accounts().register("an@example.nl", "An", "Een-Lang-Wachtwoord-1")
    assert log_in(client, "an@example.nl", "Een-Lang-Wachtwoord-1").status_code == 303
    site.clock.advance(timedelta(days=6))
    assert client.get("/account").status_code == 200
    site.clock.advance(timedelta(days=7, seconds=1))
    assert client.get("/account").status_code == 303


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(
    site: Site, client: TestClient
) -> None:
    log_in_as_staff(site, client)
    with site.client() as laptop:
        assert log_in(laptop, "kassa@example.org", STAFF_PASSWORD).status_code == 303
        thief = copy_of(site, client)

        answer = post_form(
            client,
            "/account/wachtwoord",
            "/account/wachtwoord",
            current_password=STAFF_PASSWORD,
            password=NEW_PASSWORD,
            password_repeat=NEW_PASSWORD,
        )

        assert answer == 303
        assert client.get("/beheer").status_code == 200
        assert laptop.get("/beheer").status_code == 303
        assert thief.get("/beheer").status_code == 303
        assert log_in(laptop, "kassa@example.org", NEW_PASSWORD).status_code == 303


def test_a_wrong_current_password_changes_nothing(site: Site, client: TestClient) -> None:
    log_in_as_staff(site, client)
    answer = post_form(
        client,
        "/account/wachtwoord",
        "/account/wachtwoord",
        current_password="niet-mijn-wachtwoord",
        password=NEW_PASSWORD,
        password_repeat=NEW_PASSWORD,
    )
    assert answer == 422
    assert client.get("/beheer").status_code == 200
    with site.client() as other:
        assert log_in(other, "kassa@example.org", STAFF_PASSWORD).status_code == 303


def test_the_password_page_needs_a_login(client: TestClient) -> None:
    answer = client.get("/account/wachtwoord")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/account/inloggen")


def test_log_out_everywhere_ends_every_session_of_the_user(site: Site, client: TestClient) -> None:
    log_in_as_staff(site, client)
    with site.client() as laptop:
        assert log_in(laptop, "kassa@example.org", STAFF_PASSWORD).status_code == 303
        assert "Overal uitloggen" in client.get("/account").text

        assert post_form(client, "/account", "/account/overal-uitloggen") == 303

        assert client.get("/beheer").status_code == 303
        assert laptop.get("/beheer").status_code == 303


def test_the_database_holds_only_a_hash_of_the_session_id(site: Site, client: TestClient) -> None:
    log_in_as_staff(site, client)
    from sqlalchemy import select

    from mierloos_adapters.sqlalchemy.tables import login_sessions

    with site.container.engine().connect() as connection:
        stored = connection.execute(select(login_sessions.c.id_hash)).scalars().all()
    assert len(stored) == 1
    assert stored[0] not in client.cookies[SESSION_COOKIE]
