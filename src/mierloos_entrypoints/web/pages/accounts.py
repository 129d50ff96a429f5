"""Account pages: log in and log out. (Registration and password reset live here too.)"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core import errors
from mierloos_entrypoints.web.auth import current_user, log_in, log_out, safe_next
from mierloos_entrypoints.web.inputs import MAX_EMAIL, text
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.services import services

log = logging.getLogger(__name__)

MAX_PASSWORD = 256
LOGIN_FAILED = "Dat e-mailadres en wachtwoord horen niet bij elkaar."


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if await current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "pages/account/login.html", {"next": target, "email": ""})


async def login(request: Request, form: FormData) -> Response:
    target = safe_next(text(form, "next", max_length=500))
    email = text(form, "email", max_length=MAX_EMAIL)
    password = form.get("password", "")
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        password = ""
    web = services(request)
    try:
        user = await run_in_threadpool(
            web.accounts.authenticate, email, password, client=_client(request)
        )
    except errors.TooManyAttempts as error:
        return render(
            request,
            "pages/account/login.html",
            {"next": target, "email": email, "error": error.message},
            status_code=429,
        )
    if user is None:
        return render(
            request,
            "pages/account/login.html",
            {"next": target, "email": email, "error": LOGIN_FAILED},
            status_code=400,
        )
    log_in(request, user)
    log.info("user %s logged in", user.id)
    flash(request, f"Welkom, {user.name}.", "ok")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request, form: FormData) -> Response:
    log_out(request)
    flash(request, "Je bent uitgelogd.", "ok")
    return RedirectResponse("/", status_code=303)
