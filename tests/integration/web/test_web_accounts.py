"""Registering, the header's account links, and "Mijn account" with the visitor's own orders."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select
from starlette.testclient import TestClient

from mierloos_adapters.sqlalchemy.tables import orders, users
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.test_web_tickets_download import pay, place_order
from tests.integration.web.web_support import Site, csrf_token, log_in

PASSWORD = "Mierlo-Toneel-2026"
REGISTER = "/account/registreren"


def register(
    client: TestClient,
    *,
    name: str = "An de Vries",
    email: str = "an@example.nl",
    password: str = PASSWORD,
    repeat: str | None = None,
    next_page: str | None = None,
) -> httpx.Response:
    form = client.get(REGISTER)
    assert form.status_code == 200
    data = {
        "csrf_token": csrf_token(form.text),
        "name": name,
        "email": email,
        "password": password,
        "password_repeat": password if repeat is None else repeat,
    }
    if next_page is not None:
        data["next"] = next_page
    return client.post(REGISTER, data=data)


def user_count(site: Site) -> int:
    return site.count("users")


def test_registering_logs_in_and_opens_the_account(site: Site, client: TestClient) -> None:
    answer = register(client, email="An@Example.nl")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Je account is aangemaakt en je bent ingelogd." in page.text
    assert "an@example.nl" in page.text
    assert [job.data["template"] for job in site.jobs("email")] == ["account_created"]
    with site.container.engine().connect() as connection:
        stored = connection.execute(select(users.c.email, users.c.password_hash)).one()
    assert stored.email == "an@example.nl"
    assert PASSWORD not in stored.password_hash
    with site.client() as fresh:
        assert log_in(fresh, "an@example.nl", PASSWORD).status_code == 303


def test_registering_goes_on_to_a_page_of_this_site_only(site: Site) -> None:
    with site.client() as first, site.client() as second:
        to_cart = register(first, next_page="/winkelwagen")
        to_elsewhere = register(second, email="bo@example.nl", next_page="//evil.example/")

    assert to_cart.headers["location"] == "/winkelwagen"
    assert to_elsewhere.headers["location"] == "/account"


def test_a_taken_address_is_refused_with_a_way_to_reset(site: Site, client: TestClient) -> None:
    site.container.accounts().register("an@example.nl", "An", PASSWORD)

    answer = register(client, email="AN@example.nl", password="Een-Ander-Wachtwoord-9")

    assert answer.status_code == 422
    assert "Er bestaat al een account met dit e-mailadres." in answer.text
    assert 'href="/account/wachtwoord-vergeten"' in answer.text
    assert user_count(site) == 1
    assert client.get("/account").status_code == 303  # not logged in
    with site.client() as fresh:
        assert log_in(fresh, "an@example.nl", "Een-Ander-Wachtwoord-9").status_code == 400


def test_bad_registrations_keep_what_was_typed_and_make_no_account(
    site: Site, client: TestClient
) -> None:
    answers = {
        "weak": register(client, password="wachtwoord123"),
        "own address": register(client, password="an@example.nl"),
        "different": register(client, repeat=PASSWORD + "!"),
        "no e-mail": register(client, email="geen-adres"),
        "no name": register(client, name=""),
    }

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 422)
    assert "minstens 10 tekens" in answers["weak"].text
    assert "niet gelijk" in answers["different"].text
    assert "geldig e-mailadres" in answers["no e-mail"].text
    assert 'value="An de Vries"' in answers["different"].text
    assert PASSWORD not in answers["different"].text  # passwords are never sent back
    assert user_count(site) == 0
    assert site.jobs("email") == []


def test_over_long_input_and_missing_tokens_are_refused(site: Site, client: TestClient) -> None:
    too_long = register(client, name="x" * 201)
    no_token = client.post(
        REGISTER,
        data={
            "name": "An",
            "email": "an@example.nl",
            "password": PASSWORD,
            "password_repeat": PASSWORD,
        },
    )

    assert too_long.status_code == 400
    assert no_token.status_code == 403
    assert user_count(site) == 0


def test_the_header_offers_register_or_my_account(client: TestClient) -> None:
    logged_out = client.get("/").text
    register(client)
    logged_in = client.get("/").text

    assert 'href="/account/registreren"' in logged_out
    assert 'href="/account/inloggen"' in logged_out
    assert 'href="/account"' not in logged_out
    assert 'href="/account"' in logged_in
    assert 'href="/account/registreren"' not in logged_in
    assert client.get(REGISTER).status_code == 303


def test_my_account_needs_a_login(client: TestClient) -> None:
    answer = client.get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/inloggen?next=%2Faccount"


def test_my_account_lists_only_my_own_orders(site: Site, client: TestClient) -> None:
    _, anonymous_secret = place_order(site, client)
    register(client)
    _, first_secret = place_order(site, client)
    site.clock.advance(timedelta(minutes=1))
    mine_id, mine_secret = place_order(site, client, quantity=1)
    with site.client() as other:
        register(other, email="bo@example.nl")
        _, others_secret = place_order(site, other)

    page = client.get("/account")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert f'href="/bestelling/{first_secret}"' in page.text
    assert f'href="/bestelling/{mine_secret}"' in page.text
    assert anonymous_secret not in page.text
    assert others_secret not in page.text
    assert page.text.index(mine_secret) < page.text.index(first_secret)  # newest first
    with site.container.engine().connect() as connection:
        owner = connection.execute(
            select(orders.c.user_id).where(orders.c.id == mine_id)
        ).scalar_one()
        user_id = connection.execute(
            select(users.c.id).where(users.c.email == "an@example.nl")
        ).scalar_one()
    assert owner == user_id


def test_an_owner_downloads_tickets_from_the_account(site: Site, client: TestClient) -> None:
    register(client)
    order_id, secret = place_order(site, client)
    link = f"/account/bestellingen/{order_id}/kaarten.pdf"
    before = client.get("/account").text
    pay(site, client, secret)
    being_made = client.get("/account").text
    site.container.tickets().generate_pdf(order_id)
    ready = client.get("/account").text

    download = client.get(link)

    assert link not in before
    assert "Kaarten worden gemaakt" in being_made
    assert f'href="{link}"' in ready
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")
    assert download.headers["content-disposition"].startswith('attachment; filename="kaarten-')
    assert download.headers["cache-control"] == "private, no-store"


def test_nobody_else_downloads_an_owners_tickets(site: Site, client: TestClient) -> None:
    register(client)
    order_id, secret = place_order(site, client)
    pay(site, client, secret)
    site.container.tickets().generate_pdf(order_id)
    link = f"/account/bestellingen/{order_id}/kaarten.pdf"

    with site.client() as stranger:
        logged_out = stranger.get(link)
        register(stranger, email="bo@example.nl")
        someone_else = stranger.get(link)
        unknown = stranger.get(f"/account/bestellingen/{uuid.uuid4()}/kaarten.pdf")
        not_an_id = stranger.get("/account/bestellingen/123/kaarten.pdf")

    assert logged_out.status_code == 303
    assert logged_out.headers["location"].startswith("/account/inloggen?next=")
    assert someone_else.status_code == unknown.status_code == not_an_id.status_code == 404
    # Someone else's order answers exactly like one that does not exist.
    assert "Er zijn geen kaarten te downloaden bij deze link." in someone_else.text
    assert "Er zijn geen kaarten te downloaden bij deze link." in unknown.text


def test_account_pages_pass_the_accessibility_check(site: Site, client: TestClient) -> None:
    pages = {
        "register": client.get(REGISTER),
        "register refused": register(client, repeat="iets anders"),
        "login": client.get("/account/inloggen"),
    }
    register(client)
    pages["empty account"] = client.get("/account")
    order_id, secret = place_order(site, client)
    pay(site, client, secret)
    place_order(site, client)
    site.container.tickets().generate_pdf(order_id)
    pages["account with orders"] = client.get("/account")

    assert {name: accessibility_problems(page.text) for name, page in pages.items()} == {
        name: [] for name in pages
    }


def test_a_client_registering_many_accounts_is_slowed_down(site: Site) -> None:
    for n in range(10):
        with site.client() as client:
            assert register(client, email=f"bot{n}@example.nl").status_code == 303

    with site.client() as client:
        answer = register(client, email="bot-te-veel@example.nl")

    assert answer.status_code == 429
    assert "Te veel pogingen" in answer.text
    assert 'value="bot-te-veel@example.nl"' in answer.text
    assert user_count(site) == 10
