"""Forgotten passwords: ask for a link by e-mail, then choose a new password with it.

Asking gives the same page and status whether or not the address has an account, and also
when the service throttles the request. The link's token sits in the path, so its pages send
no Referer and are never stored by a cache; the logs show the path with the token cut out
(see `log_redaction`).
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core import errors
from mierloos_entrypoints.web.auth import log_in
from mierloos_entrypoints.web.errors import status_for
from mierloos_entrypoints.web.inputs import MAX_EMAIL, client_address, text
from mierloos_entrypoints.web.language import N_
from mierloos_entrypoints.web.pages.accounts import ACCOUNT_HOME, new_password
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.services import services

log = logging.getLogger(__name__)

RESET_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
INVALID_LINK_STATUS = 400


async def forgot_form(request: Request) -> Response:
    return render(request, "pages/account/forgot.html")


async def forgot(request: Request, form: FormData) -> Response:
    email = text(form, "email", max_length=MAX_EMAIL)
    accounts = services(request).accounts
    await run_in_threadpool(accounts.request_password_reset, email, client=client_address(request))
    return render(request, "pages/account/forgot_sent.html")


def _token(request: Request) -> str:
    return str(request.path_params["token"])


def _invalid_link(request: Request) -> Response:
    return render(
        request,
        "pages/account/reset_invalid.html",
        {"message": errors.InvalidResetLink.message},
        status_code=INVALID_LINK_STATUS,
        headers=RESET_HEADERS,
    )


def _form(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    return render(
        request,
        "pages/account/reset.html",
        {"action": request.url.path, "error": error},
        status_code=status_code,
        headers=RESET_HEADERS,
    )


async def reset_form(request: Request) -> Response:
    accounts = services(request).accounts
    if not await run_in_threadpool(accounts.reset_link_usable, _token(request)):
        return _invalid_link(request)
    return _form(request)


async def reset(request: Request, form: FormData) -> Response:
    token = _token(request)
    accounts = services(request).accounts
    try:
        password = new_password(form)
    except errors.ValidationError as error:
        if not await run_in_threadpool(accounts.reset_link_usable, token):
            return _invalid_link(request)
        return _form(request, error=error.message, status_code=status_for(error))
    try:
        user = await run_in_threadpool(accounts.reset_password, token, password)
    except errors.InvalidResetLink:
        return _invalid_link(request)
    except errors.ValidationError as error:  # the password breaks a rule
        return _form(request, error=error.message, status_code=status_for(error))
    await log_in(request, user)
    log.info("user %s chose a new password with a reset link", user.id)
    flash(request, N_("Je nieuwe wachtwoord is opgeslagen en je bent ingelogd."), "ok")
    return RedirectResponse(ACCOUNT_HOME, status_code=303, headers=RESET_HEADERS)
