"""Logging in and out, and the staff-only admin behind it."""

from __future__ import annotations

import time
from datetime import timedelta

from starlette.testclient import TestClient

from mierloos_core.services.throttles import LoginPolicy
from mierloos_entrypoints.container import build_container
from mierloos_entrypoints.web.app import create_app
from tests.integration.web.web_support import (
    BASE_URL,
    STAFF_PASSWORD,
    Site,
    csrf_token,
    log_in,
    log_in_as_staff,
)


def test_the_admin_sends_a_visitor_without_a_session_to_log_in(client: TestClient) -> None:
    answer = client.get("/beheer?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/inloggen?next=%2Fbeheer%3Fx%3D1"


def test_staff_log_in_and_land_where_they_were_going(site: Site, client: TestClient) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    answer = log_in(client, "KASSA@example.org", STAFF_PASSWORD, next_page="/beheer")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/beheer"
    page = client.get("/beheer")
    assert page.status_code == 200
    assert "Achtergrondtaken" in page.text


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    site: Site, client: TestClient
) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    wrong_password = log_in(client, "kassa@example.org", "niet-het-wachtwoord")
    unknown_user = log_in(client, "niemand@example.org", STAFF_PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert "horen niet bij elkaar" in wrong_password.text
    assert "horen niet bij elkaar" in unknown_user.text
    assert client.get("/beheer").status_code == 303


def test_a_visitor_account_is_refused_the_admin(site: Site, client: TestClient) -> None:
    site.container.accounts().register("bezoeker@example.org", "Bezoeker", STAFF_PASSWORD)
    assert log_in(client, "bezoeker@example.org", STAFF_PASSWORD).status_code == 303
    assert client.get("/beheer").status_code == 403


def test_logging_out_ends_the_session(site: Site, client: TestClient) -> None:
    log_in_as_staff(site, client)
    home = client.get("/")
    answer = client.post("/account/uitloggen", data={"csrf_token": csrf_token(home.text)})
    assert answer.status_code == 303
    assert client.get("/beheer").status_code == 303


def test_a_password_change_ends_other_sessions(site: Site, client: TestClient) -> None:
    log_in_as_staff(site, client)
    user = site.container.accounts().authenticate("kassa@example.org", STAFF_PASSWORD)
    assert user is not None
    site.container.accounts().change_password(user.id, STAFF_PASSWORD, "een-heel-nieuw-wachtwoord")
    assert client.get("/beheer").status_code == 303


def test_login_never_redirects_to_another_site(site: Site, client: TestClient) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = log_in(client, "kassa@example.org", STAFF_PASSWORD, next_page=target)
        assert answer.headers["location"] == "/"
        client.post("/account/uitloggen", data={"csrf_token": csrf_token(client.get("/").text)})


def test_a_very_long_next_falls_back_to_the_home_page_instead_of_failing_the_login(
    site: Site, client: TestClient
) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    long_target = "/beheer/" + "a" * 600

    form = client.get("/account/inloggen", params={"next": long_target})
    answer = log_in(client, "kassa@example.org", STAFF_PASSWORD, next_page=long_target)

    assert form.status_code == 200
    assert long_target not in form.text
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    assert client.get("/beheer").status_code == 200


def test_a_next_with_a_line_break_falls_back_to_the_home_page(
    site: Site, client: TestClient
) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    answer = log_in(
        client, "kassa@example.org", STAFF_PASSWORD, next_page="/beheer\r\nSet-Cookie: x=1"
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_eleven_good_logins_in_a_row_are_never_refused(site: Site) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    for _ in range(11):
        with site.client() as browser:
            assert log_in(browser, "kassa@example.org", STAFF_PASSWORD).status_code == 303


def test_failures_from_elsewhere_slow_the_owner_down_but_never_lock_them_out(site: Site) -> None:
    accounts = site.container.accounts()
    accounts.create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    accounts.logins.policy = LoginPolicy(max_delay=timedelta(seconds=0.5))
    # Thirty failures from as many other addresses (a botnet): counted against the account.
    for n in range(30):
        assert accounts.authenticate("kassa@example.org", "fout", client=f"203.0.113.{n}") is None
    with site.client() as owner:
        started = time.monotonic()
        assert log_in(owner, "kassa@example.org", STAFF_PASSWORD).status_code == 303
        assert time.monotonic() - started >= 0.5
        assert owner.get("/beheer").status_code == 200


# The per-account delay doubles per failure up to 20 s; these tests are about the limits, so
# their ceiling is short (the delay itself is tested above).
QUICK_DELAYS = LoginPolicy(max_delay=timedelta(seconds=0.05))


def test_the_counters_are_shared_by_every_web_process(site: Site) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    site.container.accounts().logins.policy = QUICK_DELAYS
    other = build_container(site.container.settings())
    other.clock.override(site.clock)
    other.payment_gateway.override(site.gateway)
    other.accounts().logins.policy = QUICK_DELAYS
    second_process = TestClient(create_app(other), base_url=BASE_URL, follow_redirects=False)
    with site.client() as first, second_process:
        for n in range(10):
            browser = first if n % 2 else second_process
            assert log_in(browser, "kassa@example.org", "geraden").status_code == 400
        assert log_in(first, "kassa@example.org", STAFF_PASSWORD).status_code == 429
        assert log_in(second_process, "kassa@example.org", STAFF_PASSWORD).status_code == 429


def test_ten_failures_from_one_client_stop_that_client_only(site: Site) -> None:
    site.container.accounts().create_staff("kassa@example.org", "Kassa", STAFF_PASSWORD)
    site.container.accounts().logins.policy = QUICK_DELAYS
    with site.client() as attacker:
        for _ in range(10):
            assert log_in(attacker, "kassa@example.org", "geraden-wachtwoord").status_code == 400
        refused = log_in(attacker, "kassa@example.org", STAFF_PASSWORD)
        assert refused.status_code == 429
