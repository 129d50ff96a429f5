"""Account pages: register, log in and log out. (Password reset: `password_reset.py`.)"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core import errors
from mierloos_entrypoints.web.auth import current_user, log_in, log_out, safe_next
from mierloos_entrypoints.web.errors import status_for
from mierloos_entrypoints.web.inputs import MAX_EMAIL, MAX_NAME, client_address, text
from mierloos_entrypoints.web.language import N_, gettext_for
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.services import services

log = logging.getLogger(__name__)

MAX_PASSWORD = 256
LOGIN_FAILED = N_("Dat e-mailadres en wachtwoord horen niet bij elkaar.")
PASSWORDS_DIFFER = N_("De twee wachtwoorden zijn niet gelijk. Typ ze nog eens.")
ACCOUNT_HOME = "/account"


def password_field(form: FormData, name: str) -> str:
    """A password as typed (never stripped); empty when it is no text or far too long."""
    value = form.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_PASSWORD or "\x00" in value:
        return ""
    return value


def new_password(form: FormData) -> str:
    """The new password of a form with a repeat field; refuses two different ones."""
    password = password_field(form, "password")
    if password != password_field(form, "password_repeat"):
        raise errors.ValidationError(PASSWORDS_DIFFER)
    return password


async def login_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if await current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "pages/account/login.html", {"next": target, "email": ""})


async def login(request: Request, form: FormData) -> Response:
    target = safe_next(form.get("next"))
    email = text(form, "email", max_length=MAX_EMAIL)
    password = password_field(form, "password")
    web = services(request)
    # Failures on this account from anywhere slow every attempt down (never locking it):
    # waiting here holds no thread.
    delay = await run_in_threadpool(web.accounts.login_delay, email)
    if delay:
        await asyncio.sleep(delay.total_seconds())
    try:
        user = await run_in_threadpool(
            web.accounts.authenticate, email, password, client=client_address(request)
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
    await log_in(request, user)
    log.info("user %s logged in", user.id)
    flash(request, gettext_for(request, "Welkom, %(name)s.") % {"name": user.name}, "ok")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request, form: FormData) -> Response:
    await log_out(request)
    flash(request, N_("Je bent uitgelogd."), "ok")
    return RedirectResponse("/", status_code=303)


async def register_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"), ACCOUNT_HOME)
    if await current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "pages/account/register.html", {"next": target, "name": "", "email": ""})


async def register(request: Request, form: FormData) -> Response:
    target = safe_next(form.get("next"), ACCOUNT_HOME)
    name = text(form, "name", max_length=MAX_NAME)
    email = text(form, "email", max_length=MAX_EMAIL)
    kept = {"next": target, "name": name, "email": email}
    web = services(request)
    try:
        password = new_password(form)
        user = await run_in_threadpool(
            lambda: web.accounts.register(email, name, password, client=client_address(request))
        )
    except (errors.ValidationError, errors.TooManyAttempts) as error:
        # A taken address is said plainly, as the service does: this form cannot hide it
        # (the account would not be made), and the message points to "wachtwoord vergeten".
        return render(
            request,
            "pages/account/register.html",
            {**kept, "error": error.message, "taken": isinstance(error, errors.AccountExists)},
            status_code=status_for(error),
        )
    await log_in(request, user)
    log.info("user %s registered", user.id)
    welcome = gettext_for(
        request, "Welkom, %(name)s. Je account is aangemaakt en je bent ingelogd."
    )
    flash(request, welcome % {"name": user.name}, "ok")
    return RedirectResponse(target, status_code=303)
