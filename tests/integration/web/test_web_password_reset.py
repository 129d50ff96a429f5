"""Password reset through the web site, from the request form to the new password.

The first test is the reference's checklist for its "Bug #1: Password Reset Issue" (mail
received, link correct, token in the database matches the URL's, not expired when clicked,
password updated, login with it works); the others are the rules around it.
"""

from __future__ import annotations

import email
import hashlib
import io
import logging
import logging.config
import re
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from mierloos_adapters.sqlalchemy.tables import password_reset_tokens, users
from mierloos_core.model.commands import SendEmail
from mierloos_entrypoints.log_redaction import uvicorn_log_config
from mierloos_entrypoints.observability import configure_logging
from tests.integration.web.test_web_accessibility import accessibility_problems
from tests.integration.web.web_support import BASE_URL, Site, csrf_token, log_in

PASSWORD = "Oude-Toneel-Wachtwoord-1"
NEW_PASSWORD = "Nieuw-Toneel-Wachtwoord-2"
EMAIL = "an@example.nl"
FORGOT = "/account/wachtwoord-vergeten"
RESET_PREFIX = f"{BASE_URL}/account/wachtwoord-herstellen/"
SENT_TEXT = "Hoort dit e-mailadres bij een account"
INVALID_TEXT = "Deze link werkt niet meer"


class Outbox:
    """Runs the queued e-mail jobs as a worker would and reads the .eml files they leave."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.directory: Path = site.container.settings().outbox_dir
        self._done: set[object] = set()

    def deliver(self) -> list[EmailMessage]:
        sender = self.site.container.email_sender()
        for job in self.site.jobs("email"):
            if job.id not in self._done:
                self._done.add(job.id)
                sender(SendEmail.from_payload(job.data))
        if not self.directory.exists():
            return []
        return [
            email.message_from_bytes(path.read_bytes(), _class=EmailMessage, policy=default_policy)
            for path in sorted(self.directory.glob("*.eml"))
        ]

    def reset_links(self, to: str = EMAIL) -> list[str]:
        links = []
        for message in self.deliver():
            if message["To"] != to or message["Subject"] != "Stel een nieuw wachtwoord in":
                continue
            body = message.get_body(("plain",))
            assert body is not None
            links += re.findall(
                r"https?://\S+/account/wachtwoord-herstellen/\S+", body.get_content()
            )
        return links


def path_of(link: str) -> str:
    return link.removeprefix(BASE_URL)


def token_of(link: str) -> str:
    return link.removeprefix(RESET_PREFIX)


def ask_for_link(client: TestClient, address: str = EMAIL) -> httpx.Response:
    form = client.get(FORGOT)
    assert form.status_code == 200
    return client.post(FORGOT, data={"csrf_token": csrf_token(form.text), "email": address})


def choose_password(
    client: TestClient, link: str, password: str = NEW_PASSWORD, repeat: str | None = None
) -> httpx.Response:
    page = client.get(path_of(link))
    return client.post(
        path_of(link),
        data={
            "csrf_token": csrf_token(page.text) if page.status_code == 200 else _any_token(client),
            "password": password,
            "password_repeat": password if repeat is None else repeat,
        },
    )


def _any_token(client: TestClient) -> str:
    return csrf_token(client.get(FORGOT).text)


def can_log_in(site: Site, password: str, address: str = EMAIL) -> bool:
    with site.client() as fresh:
        return log_in(fresh, address, password).status_code == 303


@pytest.fixture
def outbox(site: Site) -> Outbox:
    site.container.accounts().register(EMAIL, "An de Vries", PASSWORD)
    # Later than the registration, so the new password's session stamp differs.
    site.clock.advance(timedelta(minutes=5))
    return Outbox(site)


def test_the_reference_checklist_from_mail_to_login(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    answer = ask_for_link(client)
    assert answer.status_code == 200
    assert SENT_TEXT in answer.text

    # The e-mail is received, with a correct link to this site's reset page.
    (link,) = outbox.reset_links()
    assert link.startswith(RESET_PREFIX)
    token = token_of(link)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)

    # The database holds the hash of exactly the URL's token, and it has not expired.
    with site.container.engine().connect() as connection:
        user_id = connection.execute(select(users.c.id).where(users.c.email == EMAIL)).scalar()
        stored = connection.execute(
            select(password_reset_tokens).where(password_reset_tokens.c.user_id == user_id)
        ).one()
        old_hash = connection.execute(select(users.c.password_hash)).scalar()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert stored.expires_at == site.clock.now() + timedelta(hours=1)

    # Clicked 59 minutes later: still valid.
    site.clock.advance(timedelta(minutes=59))
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert "Nieuw wachtwoord kiezen" in page.text
    done = choose_password(client, link)
    assert done.status_code == 303
    assert done.headers["location"] == "/account"
    account = client.get("/account")
    assert account.status_code == 200
    assert "Je nieuwe wachtwoord is opgeslagen en je bent ingelogd." in account.text

    # The password is really updated: the new one logs in, the old one does not.
    with site.container.engine().connect() as connection:
        new_hash = connection.execute(select(users.c.password_hash)).scalar()
        used_at = connection.execute(select(password_reset_tokens.c.used_at)).scalar()
    assert new_hash != old_hash
    assert used_at is not None
    assert can_log_in(site, NEW_PASSWORD)
    assert not can_log_in(site, PASSWORD)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    known = ask_for_link(client, EMAIL)
    jobs_before = len(site.jobs("email"))
    unknown = ask_for_link(client, "niemand@example.nl")

    assert unknown.status_code == known.status_code == 200
    assert SENT_TEXT in unknown.text
    assert _main(unknown.text) == _main(known.text)
    assert len(site.jobs("email")) == jobs_before
    assert outbox.reset_links("niemand@example.nl") == []


def test_a_throttled_request_gets_the_same_answer_and_no_mail(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    answers = [ask_for_link(client) for _ in range(4)]

    assert {answer.status_code for answer in answers} == {200}
    assert all(SENT_TEXT in answer.text for answer in answers)
    assert len(outbox.reset_links()) == 3  # three an hour per address


def test_a_link_works_once(site: Site, client: TestClient, outbox: Outbox) -> None:
    ask_for_link(client)
    (link,) = outbox.reset_links()
    assert choose_password(client, link).status_code == 303

    again_get = client.get(path_of(link))
    again_post = choose_password(client, link, "Nog-Een-Ander-Wachtwoord-3")

    for answer in (again_get, again_post):
        assert answer.status_code == 400
        assert INVALID_TEXT in answer.text
        assert 'href="/account/wachtwoord-vergeten"' in answer.text
    assert can_log_in(site, NEW_PASSWORD)
    assert not can_log_in(site, "Nog-Een-Ander-Wachtwoord-3")


def test_an_expired_link_offers_a_new_one(site: Site, client: TestClient, outbox: Outbox) -> None:
    ask_for_link(client)
    (link,) = outbox.reset_links()
    site.clock.advance(timedelta(hours=1))

    page = client.get(path_of(link))
    post = choose_password(client, link)

    assert page.status_code == post.status_code == 400
    assert INVALID_TEXT in page.text
    assert INVALID_TEXT in post.text
    assert can_log_in(site, PASSWORD)


def test_a_link_changes_only_its_own_users_password(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    other = "bo@example.nl"
    site.container.accounts().register(other, "Bo", PASSWORD)
    assert log_in(client, other, PASSWORD).status_code == 303
    ask_for_link(client, EMAIL)
    (link,) = outbox.reset_links(EMAIL)

    assert choose_password(client, link).status_code == 303

    assert can_log_in(site, NEW_PASSWORD, EMAIL)
    assert can_log_in(site, PASSWORD, other)
    assert not can_log_in(site, NEW_PASSWORD, other)
    assert "an@example.nl" in client.get("/account").text  # the session is An's now


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="one-character"),
        pytest.param(lambda t: t[:-4], id="shortened"),
        pytest.param(lambda t: t + "x", id="lengthened"),
        pytest.param(lambda t: "x" * 300, id="far-too-long"),
        pytest.param(lambda t: "%00%27%22%3Cscript%3E", id="odd-characters"),
    ],
)
def test_a_tampered_link_gets_the_friendly_page(
    site: Site, client: TestClient, outbox: Outbox, mangle
) -> None:
    ask_for_link(client)
    (link,) = outbox.reset_links()
    tampered = RESET_PREFIX + mangle(token_of(link))

    page = client.get(path_of(tampered))
    post = choose_password(client, tampered)

    assert page.status_code == post.status_code == 400
    assert INVALID_TEXT in page.text
    assert INVALID_TEXT in post.text
    assert "<script>" not in page.text
    assert can_log_in(site, PASSWORD)
    assert client.get(path_of(link)).status_code == 200  # the real link still works


def test_the_new_password_must_follow_the_rules(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    ask_for_link(client)
    (link,) = outbox.reset_links()

    weak = choose_password(client, link, "wachtwoord123")
    own_address = choose_password(client, link, EMAIL)
    different = choose_password(client, link, NEW_PASSWORD, repeat=NEW_PASSWORD + "!")

    for answer in (weak, own_address, different):
        assert answer.status_code == 422
        assert "Nieuw wachtwoord kiezen" in answer.text
        assert 'role="alert"' in answer.text
    assert "minstens 10 tekens" in weak.text
    assert "niet gelijk" in different.text
    assert can_log_in(site, PASSWORD)
    assert choose_password(client, link).status_code == 303  # the link survived the mistakes


def test_using_one_link_voids_every_older_one(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    ask_for_link(client)
    ask_for_link(client)
    first, second = outbox.reset_links()
    assert first != second

    assert choose_password(client, second).status_code == 303

    assert client.get(path_of(first)).status_code == 400
    assert choose_password(client, first, "Nog-Een-Ander-Wachtwoord-3").status_code == 400
    assert can_log_in(site, NEW_PASSWORD)


def test_a_reset_ends_every_other_session(site: Site, client: TestClient, outbox: Outbox) -> None:
    with site.client() as elsewhere:
        assert log_in(elsewhere, EMAIL, PASSWORD).status_code == 303
        assert elsewhere.get("/account").status_code == 200
        ask_for_link(client)
        (link,) = outbox.reset_links()
        site.clock.advance(timedelta(minutes=1))

        assert choose_password(client, link).status_code == 303

        assert elsewhere.get("/account").status_code == 303  # sent to log in again
        assert client.get("/account").status_code == 200


def test_reset_pages_send_no_referrer_and_are_never_stored(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    ask_for_link(client)
    (link,) = outbox.reset_links()
    answers = {
        "form": client.get(path_of(link)),
        "mistake": choose_password(client, link, "kort"),
        "invalid": client.get(path_of(link + "x")),
        "done": choose_password(client, link),
    }
    for name, answer in answers.items():
        assert answer.headers["referrer-policy"] == "no-referrer", name
        assert answer.headers["cache-control"] == "no-store", name
    assert answers["done"].status_code == 303


def test_the_reset_pages_pass_the_accessibility_check(
    site: Site, client: TestClient, outbox: Outbox
) -> None:
    pages = {"forgot": client.get(FORGOT), "sent": ask_for_link(client)}
    (link,) = outbox.reset_links()
    pages["form"] = client.get(path_of(link))
    pages["mistake"] = choose_password(client, link, "kort")
    pages["invalid"] = client.get(path_of(link + "x"))

    assert {name: accessibility_problems(page.text) for name, page in pages.items()} == {
        name: [] for name in pages
    }


def test_forms_without_a_csrf_token_are_refused(site: Site, client: TestClient) -> None:
    forgot = client.post(FORGOT, data={"email": EMAIL})
    reset = client.post(
        "/account/wachtwoord-herstellen/" + "x" * 43,
        data={"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
    )
    assert forgot.status_code == reset.status_code == 403


def test_no_log_record_holds_the_token(
    site: Site, client: TestClient, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logging set up as `mierloos serve` does it, at DEBUG, around a whole reset."""
    written = io.StringIO()
    monkeypatch.setattr("sys.stderr", written)
    monkeypatch.setattr("sys.stdout", written)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    quiet = {name: logging.getLogger(name).level for name in ("sqlalchemy", "sqlalchemy.engine")}
    configure_logging(json_lines=True, level=logging.DEBUG)
    logging.config.dictConfig(uvicorn_log_config())
    seen: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    # Plain handlers, after the configured ones: they see records as the app's filters left them.
    for logger in (root, logging.getLogger("uvicorn"), logging.getLogger("uvicorn.access")):
        logger.addHandler(Capture(logging.DEBUG))
        logger.setLevel(logging.DEBUG)
    try:
        ask_for_link(client)
        (link,) = outbox.reset_links()
        token = token_of(link)
        client.get(path_of(link))
        choose_password(client, link, "kort")
        choose_password(client, link)
        client.get(path_of(link))  # used: the invalid page
        # What uvicorn itself writes for these requests, and an error naming the path.
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", path_of(link), "1.1", 200
        )
        logging.getLogger("uvicorn.error").error("Exception in ASGI application: %s", link)
        logging.getLogger("mierloos_entrypoints.web.errors").error(
            "unhandled %s on %s %s", "RuntimeError", "POST", path_of(link)
        )
        try:
            raise ValueError(f"bad request line for {path_of(link)}")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Invalid HTTP request received.")
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
        for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).handlers.clear()

    formatter = logging.Formatter("%(name)s %(message)s")
    texts = [formatter.format(record) for record in seen] + [written.getvalue()]
    assert any("/account/wachtwoord-herstellen/[verborgen]" in line for line in texts)
    assert any("uvicorn.access" in line for line in texts)
    assert [line for line in texts if token in line] == []


def _main(html: str) -> str:
    found = re.search(r"<main.*?</main>", html, flags=re.S)
    assert found is not None
    return re.sub(r'value="[^"]*"', "", found.group(0))
