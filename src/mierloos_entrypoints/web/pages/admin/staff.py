"""Staff accounts under /beheer/medewerkers: who has which role (admins only)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.model.accounts import Role
from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.inputs import MAX_EMAIL
from mierloos_entrypoints.web.pages.admin.forms import FormReader, form_context, staff_form
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.services import services

STAFF = "/beheer/medewerkers"
ROLE_LABELS = {
    Role.ADMIN: "Beheerder (alles)",
    Role.COUNTER: "Kassa (kassa, bestellingen en deur)",
    Role.DOOR: "Deur (alleen scannen aan de deur)",
    Role.VISITOR: "Geen toegang meer tot beheer",
}


async def staff_list(request: Request) -> Response:
    return await _page(request, FormReader(FormData()))


async def set_role(request: Request, form: FormData) -> Response:
    reader = FormReader(form)
    email = reader.text("email", max_length=MAX_EMAIL)
    role = _role(reader)
    if not email:
        reader.errors["email"] = "Vul het e-mailadres van het account in."
    actor = await current_user(request)
    assert actor is not None  # staff_required let us in
    if not reader.errors and role is not None:
        try:
            user = await run_in_threadpool(
                services(request).staff_accounts.set_role, actor.id, email, role
            )
        except (errors.UnknownAccount, errors.OwnRoleUnchangeable) as error:
            reader.errors["email"] = error.message
        else:
            flash(request, f"{user.email}: {ROLE_LABELS[user.role]}.", "ok")
            return RedirectResponse(STAFF, status_code=303)
    return await _page(request, reader, status_code=422)


def _role(reader: FormReader) -> Role | None:
    value = reader.text("role", max_length=20)
    try:
        return Role(value)
    except ValueError:
        reader.errors["role"] = "Kies een rol."
        return None


async def _page(request: Request, reader: FormReader, *, status_code: int = 200) -> Response:
    staff = await run_in_threadpool(services(request).staff_accounts.staff)
    context = form_context(reader, staff=staff, role_labels=ROLE_LABELS, roles=list(ROLE_LABELS))
    return render(request, "admin/staff.html", context, status_code=status_code)


ROUTES: list[BaseRoute] = [
    staff_page(STAFF, staff_list, "admin_staff"),
    staff_post(STAFF, staff_form(set_role), "admin_staff_role"),
]
