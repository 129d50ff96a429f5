"""Error pages and JSON errors: friendly Dutch text for visitors, stable codes for the API.

No stack trace ever reaches a visitor; unexpected exceptions are logged with their traceback
and answered with a plain 500 page (or JSON error under /api).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from mierloos_adapters.sqlalchemy.outages import is_connection_lost
from mierloos_core import errors
from mierloos_core.services.door_devices import DeviceNotAuthorised, DeviceOutOfScope
from mierloos_entrypoints.web.api_models import Error, ErrorDetail
from mierloos_entrypoints.web.inputs import BadInput
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.security import add_security_headers

log = logging.getLogger(__name__)

_PAGES: Mapping[int, tuple[str, str]] = {
    400: (
        "Ongeldig verzoek",
        "We konden je verzoek niet verwerken. Controleer wat je hebt ingevuld en probeer het "
        "opnieuw.",
    ),
    403: (
        "Verzoek geweigerd",
        "Dit formulier is verlopen of niet van deze site afkomstig. Ga terug, laad de pagina "
        "opnieuw en probeer het nog eens.",
    ),
    404: (
        "Pagina niet gevonden",
        "Deze pagina bestaat niet (meer). Controleer het adres, of kijk in onze agenda.",
    ),
    405: ("Niet toegestaan", "Deze pagina kan zo niet worden gebruikt."),
    409: ("Niet meer mogelijk", "Dit kan niet meer. Kijk in je winkelwagen of in onze agenda."),
    413: ("Te veel gegevens", "Je verzoek bevat te veel gegevens."),
    415: ("Ongeldig verzoek", "Dit soort gegevens accepteren we hier niet."),
    422: ("Controleer je invoer", "Niet alles wat je invulde klopt. Probeer het opnieuw."),
    429: ("Te veel pogingen", "Te veel pogingen achter elkaar. Probeer het later opnieuw."),
    500: (
        "Er ging iets mis",
        "Er ging bij ons iets mis. Probeer het over een ogenblik opnieuw; blijft het misgaan, "
        "neem dan contact op met de kassa.",
    ),
    502: ("Betaaldienst weigert", "De betaaldienst weigerde het verzoek."),
    503: (
        "Even geduld",
        "Het is erg druk of een dienst is tijdelijk niet bereikbaar. Probeer het over een "
        "ogenblik opnieuw.",
    ),
}

API_CODES: Mapping[int, str] = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def status_for(error: errors.MierloosError) -> int:
    """The HTTP status of a domain error."""
    if isinstance(error, DeviceNotAuthorised):
        return 401
    if isinstance(error, DeviceOutOfScope):
        return 403
    if isinstance(error, errors.NotFound):
        return 404
    if isinstance(error, errors.ValidationError):
        return 422
    if isinstance(
        error,
        errors.PerformanceUnavailable
        | errors.NotEnoughSeats
        | errors.PriceCategorySoldOut
        | errors.TooManyUnpaidTickets
        | errors.SeatsUnavailable
        | errors.NoAdjacentSeats,
    ):
        return 409
    if isinstance(error, errors.InvalidTransition):
        return 409
    if isinstance(error, errors.TooManyAttempts):
        return 429
    if isinstance(error, errors.Busy | errors.DependencyUnavailable):
        return 503
    if isinstance(error, errors.PermanentFailure):
        return 502
    return 400


def api_error(
    code: str, message: str, status_code: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    answer = Error(error=ErrorDetail(code=code, message=message))
    return JSONResponse(answer.model_dump(mode="json"), status_code=status_code, headers=headers)


def error_page(
    request: Request,
    status_code: int,
    message: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    with_session: bool = True,
    back: tuple[str, str] | None = None,
) -> Response:
    """The friendly error page; `back` is an extra (path, label) link to offer."""
    title, text = _PAGES.get(status_code, _PAGES[500] if status_code >= 500 else _PAGES[400])
    return render(
        request,
        "errors/error.html",
        {"title": title, "message": message or text, "status_code": status_code, "back": back},
        status_code=status_code,
        headers=headers,
        with_session=with_session,
    )


def _respond(
    request: Request,
    status_code: int,
    *,
    code: str | None = None,
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if is_api(request.url.path):
        default_message = _PAGES.get(status_code, _PAGES[400])[1]
        return api_error(
            code or API_CODES.get(status_code, "error"),
            message or default_message,
            status_code,
            headers,
        )
    return error_page(request, status_code, message, headers=headers)


def _retry_headers(status_code: int) -> dict[str, str]:
    if status_code == 401:
        return {"WWW-Authenticate": "Bearer"}
    return {"Retry-After": "2"} if status_code == 503 else {}


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # The exception's detail may hold parser internals; visitors get our own text.
    return _respond(request, exc.status_code, headers=exc.headers)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.MierloosError)
    status_code = status_for(exc)
    if status_code >= 500:
        log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc)
    return _respond(
        request,
        status_code,
        code=exc.code,
        message=exc.message,
        headers=_retry_headers(status_code),
    )


async def bad_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadInput)
    return _respond(request, exc.status_code, code="invalid_input", message=exc.message)


def too_large(scope: Scope) -> Response:
    """The 413 sent before the body is read (its declared length is over the limit)."""
    request = Request(scope)
    if is_api(request.url.path):
        return api_error("payload_too_large", _PAGES[413][1], 413)
    return error_page(request, 413, with_session=False)


#: Seconds a visitor is asked to wait while the database is unreachable.
OUTAGE_RETRY_AFTER = 10
_OUTAGE_TEXT = (
    "De site is even niet bereikbaar. Probeer het over een minuut opnieuw; er is niets veranderd."
)
_CHECKOUT_OUTAGE_TEXT = (
    "De site is even niet bereikbaar: je bestelling is niet geplaatst en er is niets "
    "gereserveerd of betaald. Probeer het over een minuut opnieuw."
)
_CHECKOUT_PATHS = ("/afrekenen", "/api/checkout")


class LogThrottle:
    """At most one log record per kind of failure per `every` seconds, with a count of the rest."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}
        self.suppressed: dict[str, int] = {}

    def allow(self, kind: str) -> int | None:
        """None to stay quiet, else how many records of this kind were held back before."""
        now = time.monotonic()
        with self.lock:
            if now - self.last.get(kind, -self.every) < self.every:
                self.suppressed[kind] = self.suppressed.get(kind, 0) + 1
                return None
            self.last[kind] = now
            return self.suppressed.pop(kind, 0)


_outage_log = LogThrottle()


def _outage_response(request: Request, exc: Exception) -> Response:
    kind = type(exc).__name__
    held_back = _outage_log.allow(kind)
    if held_back is not None:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        log.warning(
            "database unreachable (%s: %s) on %s %s: answering 503 (%d more like it in the"
            " last %g s)",
            kind,
            first,
            request.method,
            request.url.path,
            held_back,
            _outage_log.every,
        )
    message = _CHECKOUT_OUTAGE_TEXT if request.url.path in _CHECKOUT_PATHS else _OUTAGE_TEXT
    headers = {"Retry-After": str(OUTAGE_RETRY_AFTER)}
    if is_api(request.url.path):
        return api_error("unavailable", message, 503, headers)
    try:
        return error_page(request, 503, message, headers=headers, with_session=False)
    except Exception:  # rendering needs nothing from the database, but never fail here
        return Response(message, status_code=503, media_type="text/plain", headers=headers)


def server_error_handler(
    security: dict[str, str],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def server_error(request: Request, exc: Exception) -> Response:
        if is_connection_lost(exc):
            response = _outage_response(request, exc)
            add_security_headers(MutableHeaders(raw=response.raw_headers), security)
            return response
        log.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            request.method,
            request.url.path,
            exc_info=exc,
        )
        if is_api(request.url.path):
            response: Response = api_error("internal_error", _PAGES[500][1], 500)
        else:
            try:
                response = error_page(request, 500, with_session=False)
            except Exception:  # the template itself failed: plain text, still no trace
                response = Response(_PAGES[500][1], status_code=500, media_type="text/plain")
        # This answer leaves through ServerErrorMiddleware, outside our header middleware.
        add_security_headers(MutableHeaders(raw=response.raw_headers), security)
        return response

    return server_error
