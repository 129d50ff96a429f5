"""CSRF tokens, cookie flags, security headers and the request body limit.

CSRF: every HTML form carries the session's token in a hidden field; every HTML POST route is
wrapped in `csrf_protected`, which reads the form (with limits) and refuses a missing or wrong
token with 403 before the handler runs. The payment webhook (called by the provider) and the
JSON API (JSON bodies only, no cookies used) are the only POST routes without it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import FormData, Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mierloos_core.services.images import MAX_UPLOAD_BYTES
from mierloos_entrypoints.web.inputs import read_form

CSRF_FIELD = "csrf_token"
_CSRF_SESSION_KEY = "csrf"
SESSION_COOKIE = "mierloos_sessie"
SESSION_MAX_AGE = 7 * 24 * 3600

# Bodies the site accepts: forms and JSON of a few kilobytes. A larger body is refused before
# anything reads it.
MAX_BODY_BYTES = 64 * 1024
# The show image upload, and only it, takes one image file plus a few form fields.
IMAGE_UPLOAD_PATH = re.compile(r"/beheer/voorstellingen/[0-9a-f-]{36}/afbeelding")
MAX_UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + MAX_BODY_BYTES
# A camera frame the door page sends to be decoded (JPEG or PNG of a phone's frame).
DOOR_FRAME_PATH = re.compile(r"/beheer/deur/[0-9a-f-]{36}/beeld")
MAX_FRAME_BYTES = 2 * 1024 * 1024
# Scans made offline: up to 5,000 of them in one JSON body or uploaded file.
OFFLINE_SCANS_PATH = re.compile(
    r"/api/checkin/performances/[^/]{1,100}/offline-scans|/beheer/deur/[0-9a-f-]{36}/offline"
)
MAX_OFFLINE_SCANS_BYTES = 1024 * 1024
#: The paths whose bodies may be larger than MAX_BODY_BYTES, with their own limits.
BODY_LIMIT_OVERRIDES = (
    (IMAGE_UPLOAD_PATH, MAX_UPLOAD_BODY_BYTES),
    (DOOR_FRAME_PATH, MAX_FRAME_BYTES + MAX_BODY_BYTES),
    (OFFLINE_SCANS_PATH, MAX_OFFLINE_SCANS_BYTES),
)
# The stylesheet and images of the site itself: they change only with a release.
STATIC_CACHE = "public, max-age=3600"

FormHandler = Callable[[Request, FormData], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(_CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_SESSION_KEY] = token
    return token


def rotate_csrf_token(request: Request) -> None:
    """A new token (after logging in or out), so a token seen before cannot be replayed."""
    request.session[_CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


def csrf_protected(handler: FormHandler) -> Endpoint:
    """Wrap an HTML form handler: read the form, check its CSRF token, then call the handler."""

    async def endpoint(request: Request) -> Response:
        form = await read_form(request)
        sent = form.get(CSRF_FIELD)
        expected = request.session.get(_CSRF_SESSION_KEY)
        if not (
            isinstance(sent, str)
            and isinstance(expected, str)
            and expected
            and secrets.compare_digest(sent.encode(), expected.encode())
        ):
            raise HTTPException(status_code=403, detail="csrf")
        return await handler(request, form)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    endpoint.csrf_protected = True  # type: ignore[attr-defined]
    return endpoint


def session_middleware(secret_key: str, *, https: bool) -> Middleware:
    """Signed-cookie sessions: HttpOnly, SameSite=Lax, Secure when the site runs on https."""
    return Middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=https,
    )


def security_headers(*, https: bool) -> dict[str, str]:
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            # Checkout answers a form post with a redirect to the payment provider.
            "form-action 'self' https:",
            "frame-ancestors 'none'",
        ]
    )
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # Order pages carry their secret in the URL: never send it to another site.
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, and `no-store` where nothing else is set."""

    def __init__(
        self, app: ASGIApp, *, headers: dict[str, str], base_url: str | None = None
    ) -> None:
        self.app = app
        self.headers = headers
        self.base_url = base_url.rstrip("/") if base_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                add_security_headers(
                    headers, self.headers, default_cache=STATIC_CACHE if static else "no-store"
                )
                if self.base_url and "location" in headers:
                    headers["location"] = own_location(headers["location"], scope, self.base_url)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def own_location(location: str, scope: Scope, base_url: str) -> str:
    """A redirect Starlette built from the request's Host (its trailing-slash redirect) points
    at BASE_URL instead: a forged Host header never chooses where a visitor is sent."""
    target = urlsplit(location)
    if not target.netloc:
        return location
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
    if target.netloc.lower() != host.lower():
        return location  # elsewhere on purpose (the payment provider's page)
    return base_url + urlunsplit(("", "", target.path or "/", target.query, target.fragment))


def add_security_headers(
    headers: MutableHeaders, policy: dict[str, str], *, default_cache: str = "no-store"
) -> None:
    for name, value in policy.items():
        if name not in headers:
            headers[name] = value
    if "cache-control" not in headers:
        # Pages show live availability, carts and CSRF tokens: no shared or stale copies.
        headers["Cache-Control"] = default_cache


class BodySizeLimitMiddleware:
    """Refuses request bodies above `max_bytes` with 413, by header or while reading.

    `overrides` raises (or lowers) the limit for paths under a prefix, or for paths a pattern
    matches whole, e.g. the image upload route.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        too_large: Callable[[Scope], Response],
        overrides: Iterable[tuple[str | re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.overrides = tuple(overrides)

    def limit_for(self, path: str) -> int:
        for where, limit in self.overrides:
            if path.startswith(where) if isinstance(where, str) else where.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = limit + 1
            if length > limit or length < 0:
                await self.too_large(scope)(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, limited_receive, send)


def is_csrf_exempt(path: str) -> bool:
    """POST routes that do not take HTML forms: the provider's webhook and the JSON API."""
    return path.startswith(("/api/", "/webhooks/"))


def checks_csrf(endpoint: Any) -> bool:
    """True when an endpoint checks the CSRF token (used by the tests over the route list)."""
    return bool(getattr(endpoint, "csrf_protected", False))
