"""Every visitor page in Dutch and in English, checked against the English catalogue: no
Dutch text of the catalogue on an English page, no English translation on a Dutch page, no raw
status values; the language choice stays in the session and goes onto the order."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from mierloos_adapters.i18n import LOCALE_DIR, catalogue
from mierloos_entrypoints.demo import SHOWS
from tests.integration.web.web_support import Site, add_to_cart, check_out

PAGES = [
    "/",
    "/?week=1",
    "/?maand=2099-01",
    "/voorstellingen/gebroeders-mierlo",
    "/voorstellingen/cabaret-uitverkocht",
    "/winkelwagen",
    "/afrekenen",
    "/account/inloggen",
    "/account/registreren",
    "/account/wachtwoord-vergeten",
    "/bestaat-niet",
]
RAW_VALUES = re.compile(r"\b(pending|completed|processing|open|paid|failed|expired|refunded)\b")
# Words both languages share (names, "Status", "Genre") say nothing about the language.
_SHARED = {"Status", "Status:", "Genre", "Log in", "log in", "Toon", "Op", "of", "voor"}


def _messages() -> list[tuple[str, str]]:
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        pairs = []
        for message in read_po(po):
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else message.string
            pairs += list(zip(ids, strings, strict=True))
    # Whole texts only: a fragment with a placeholder is checked through its pieces.
    return [
        (nl, en)
        for nl, en in pairs
        if nl != en and nl not in _SHARED and "%(" not in nl and len(nl) >= 8
    ]


def _visible_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html_lib.unescape(body).split())


def _client_in(client: TestClient, language: str) -> None:
    response = client.get(f"/taal/{language}?next=/", follow_redirects=False)
    assert response.status_code == 303


def test_the_english_catalogue_is_complete() -> None:
    english = catalogue("en")
    pairs = _messages()
    assert len(pairs) > 150
    for dutch, translation in pairs:
        assert translation, f"no English for {dutch!r}"
        assert english.gettext(dutch) == translation


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_visitor_page_speaks_one_language(
    site: Site, client: TestClient, language: str
) -> None:
    _client_in(client, language)
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 2)
    pages = {path: client.get(path).text for path in PAGES}
    check_out(client)
    with site.container.engine().connect() as connection:
        secret = connection.execute(text("SELECT secret FROM orders")).scalar_one()
    pages["order"] = client.get(f"/bestelling/{secret}").text

    messages = _messages()
    dutch = {nl for nl, _ in messages}
    foreign = (
        [en for _, en in messages if en not in dutch | _SHARED] if language == "nl" else list(dutch)
    )
    for path, page in pages.items():
        assert f'<html lang="{language}">' in page, path
        shown = _visible_text(page)
        for show, _ in SHOWS:  # the programme's own words stay as written
            title = str(show["title"])
            shown = shown.replace(html_lib.escape(title, quote=False), "").replace(title, "")
            shown = shown.replace(str(show["description"]), "")
        wrong = [words for words in foreign if words in shown]
        assert wrong == [], f"{path} in {language} shows {wrong}"
        assert RAW_VALUES.search(shown.replace("Open", "")) is None, f"raw value on {path}"


def test_the_order_keeps_the_language_it_was_placed_in(site: Site, client: TestClient) -> None:
    _client_in(client, "en")
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    check_out(client)
    _client_in(client, "nl")  # switching later changes the pages, not the order

    with site.container.engine().connect() as connection:
        stored = connection.execute(text("SELECT language FROM orders")).scalar_one()
    assert stored == "en"


def test_an_unknown_language_is_not_found_and_a_foreign_next_is_ignored(
    client: TestClient,
) -> None:
    assert client.get("/taal/de?next=/", follow_redirects=False).status_code == 404
    response = client.get("/taal/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"
