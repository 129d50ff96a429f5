"""Who is logged in: a user id and password stamp in the signed session, checked per request.

The stamp changes whenever the password does, so resetting or changing a password ends every
other session of that user. `staff_required` guards the admin pages: visitors without a
session are sent to the login page, logged-in visitors without the staff role get 403.
"""

from __future__ import annotations

import functools
import uuid
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_adapters.links import LOGIN
from mierloos_core.model.accounts import User
from mierloos_core.services.accounts import session_stamp
from mierloos_entrypoints.web.security import Endpoint, rotate_csrf_token
from mierloos_entrypoints.web.services import services
from mierloos_entrypoints.web.session_keys import USER_CACHE_ATTR, USER_KEY


def log_in(request: Request, user: User) -> None:
    """Bind the session to `user`; the cart stays, the CSRF token is renewed."""
    request.session[USER_KEY] = [str(user.id), session_stamp(user)]
    rotate_csrf_token(request)
    setattr(request.state, USER_CACHE_ATTR, user)


def log_out(request: Request) -> None:
    """End the session entirely (cart and flash messages included)."""
    request.session.clear()
    setattr(request.state, USER_CACHE_ATTR, None)


async def current_user(request: Request) -> User | None:
    """The session's user, or None when nobody (or a stale session) is logged in."""
    if hasattr(request.state, USER_CACHE_ATTR):
        cached: User | None = getattr(request.state, USER_CACHE_ATTR)
        return cached
    user = None
    raw = request.session.get(USER_KEY) if "session" in request.scope else None
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(part, str) for part in raw):
        try:
            user_id = uuid.UUID(raw[0])
        except ValueError:
            user_id = None
        if user_id is not None:
            user = await run_in_threadpool(services(request).accounts.session_user, user_id, raw[1])
        if user is None:
            request.session.pop(USER_KEY, None)
    setattr(request.state, USER_CACHE_ATTR, user)
    return user


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{LOGIN}?next={quote(target, safe='')}", status_code=303)


def staff_required(endpoint: Endpoint) -> Endpoint:
    """Only staff reach `endpoint`: others are sent to log in (or refused when logged in)."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            if request.url.path.startswith("/api/"):
                raise HTTPException(status_code=401)
            return login_redirect(request)
        if not user.is_staff:
            raise HTTPException(status_code=403)
        return await endpoint(request)

    guarded.staff_only = True  # type: ignore[attr-defined]
    return guarded


def is_staff_only(endpoint: object) -> bool:
    return bool(getattr(endpoint, "staff_only", False))


MAX_NEXT = 500


def safe_next(target: object, default: str = "/") -> str:
    """A post-login destination on this site only: never another host (open redirect).

    Anything else (too long, control characters, not text at all) is the default, so a bad
    `next` never costs the visitor their login.
    """
    if (
        not isinstance(target, str)
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or len(target) > MAX_NEXT
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
    ):
        return default
    return target
