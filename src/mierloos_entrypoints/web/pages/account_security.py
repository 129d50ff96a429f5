"""The logged-in user's own security: change the password, log out on every device."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core import errors
from mierloos_entrypoints.web.auth import current_user, log_in, log_out, login_redirect
from mierloos_entrypoints.web.errors import status_for
from mierloos_entrypoints.web.language import N_
from mierloos_entrypoints.web.pages.accounts import new_password, password_field
from mierloos_entrypoints.web.pages.orders import PRIVATE
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.services import services

log = logging.getLogger(__name__)

PASSWORD_PAGE = "/account/wachtwoord"  # noqa: S105 (a path, not a password)
LOG_OUT_EVERYWHERE = "/account/overal-uitloggen"
_TEMPLATE = "pages/account/change_password.html"


async def password_form(request: Request) -> Response:
    if await current_user(request) is None:
        return login_redirect(request)
    return render(request, _TEMPLATE, {}, headers=PRIVATE)


async def change_password(request: Request, form: FormData) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    accounts = services(request).accounts
    try:
        password = new_password(form)
        current = password_field(form, "current_password")
        changed = await run_in_threadpool(accounts.change_password, user.id, current, password)
    except errors.ValidationError as error:
        return render(
            request,
            _TEMPLATE,
            {"error": error.message},
            status_code=status_for(error),
            headers=PRIVATE,
        )
    # The change ended every session, this one too: this browser gets a fresh one.
    await log_in(request, changed)
    log.info("user %s changed their password", user.id)
    flash(
        request,
        N_("Je nieuwe wachtwoord is opgeslagen. Op andere apparaten ben je uitgelogd."),
        "ok",
    )
    return RedirectResponse("/account", status_code=303)


async def log_out_everywhere(request: Request, form: FormData) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    ended = await run_in_threadpool(services(request).sessions.end_all, user.id)
    await log_out(request)
    log.info("user %s logged out everywhere (%d sessions)", user.id, ended)
    flash(request, N_("Je bent op alle apparaten uitgelogd."), "ok")
    return RedirectResponse("/", status_code=303)
