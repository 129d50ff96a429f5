"""The visitor's language: Dutch unless they chose English in the header; kept in the session."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_adapters.i18n import LANGUAGES, Texts, supported_language, texts
from mierloos_entrypoints.web.auth import safe_next

LANGUAGE_KEY = "language"


def N_(message: str) -> str:
    """Marks Dutch text for the catalogue; the page translates it where it shows it."""
    return message


def request_language(request: Request) -> str:
    if "session" not in request.scope:
        return LANGUAGES[0]
    return supported_language(request.session.get(LANGUAGE_KEY))


def accepted_language(header: str | None) -> str:
    """The site's language an ``Accept-Language`` header prefers most; Dutch when it names none.

    ``en-GB,en;q=0.9,nl;q=0.8`` is English; ``de, fr`` or a malformed header is Dutch.
    """
    best, best_quality = LANGUAGES[0], 0.0
    for item in (header or "")[:500].split(",")[:20]:
        tag, _, parameters = item.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if language in LANGUAGES and 0 < quality <= 1 and quality > best_quality:
            best, best_quality = language, quality
    return best


def texts_for(request: Request) -> Texts:
    return texts(request_language(request))


def gettext_for(request: Request, message: str) -> str:
    """`message` (Dutch, as written in the code) in the visitor's language."""
    return texts_for(request).gettext(message)


async def switch_language(request: Request) -> Response:
    """``/taal/en?next=/agenda``: remember the choice and go back to the page it was made on.

    A plain link, so it works without JavaScript; an unknown language is a 404.
    """
    language = request.path_params["language"]
    if language not in LANGUAGES:
        raise HTTPException(status_code=404)
    request.session[LANGUAGE_KEY] = language
    return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
