"""Who is logged in: the signed cookie carries a random session id, the database the session.

Logging out deletes the session row, so a copy of the cookie taken earlier opens nothing; a
password change or reset deletes all of the user's sessions; idle and absolute limits end the
rest (`SessionPolicy`). `staff_required` guards the staff pages: visitors without a session
are sent to the login page; logged-in users whose role may not open the page get 403
(`staff_areas` says which role opens what).
"""

from __future__ import annotations

import functools
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_adapters.links import LOGIN
from mierloos_core.model.accounts import User
from mierloos_entrypoints.web.security import Endpoint, rotate_csrf_token
from mierloos_entrypoints.web.services import services
from mierloos_entrypoints.web.session_keys import USER_CACHE_ATTR, USER_KEY
from mierloos_entrypoints.web.staff_areas import may_open


async def log_in(request: Request, user: User) -> None:
    """Start a new session for `user`; the cart stays, the CSRF token is renewed."""
    sessions = services(request).sessions
    previous = request.session.get(USER_KEY)
    if isinstance(previous, str):
        await run_in_threadpool(sessions.end, previous)
    request.session[USER_KEY] = await run_in_threadpool(sessions.start, user)
    rotate_csrf_token(request)
    setattr(request.state, USER_CACHE_ATTR, user)


async def log_out(request: Request) -> None:
    """End the session entirely (the server-side row, cart and flash messages included)."""
    session_id = request.session.get(USER_KEY)
    if isinstance(session_id, str):
        await run_in_threadpool(services(request).sessions.end, session_id)
    request.session.clear()
    setattr(request.state, USER_CACHE_ATTR, None)


async def current_user(request: Request) -> User | None:
    """The session's user, or None when nobody (or an ended session) is logged in."""
    if hasattr(request.state, USER_CACHE_ATTR):
        cached: User | None = getattr(request.state, USER_CACHE_ATTR)
        return cached
    user = None
    session_id = request.session.get(USER_KEY) if "session" in request.scope else None
    if session_id is not None:
        if isinstance(session_id, str):
            user = await run_in_threadpool(services(request).sessions.user, session_id)
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
        if not may_open(user, request.url.path):
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
