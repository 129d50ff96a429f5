"""Device tokens for scanner apps, under /beheer/apparaten (admin only: they open the
check-in API). A new token is shown once, on the page that answers its form, and stored as a
hash; it is never put in the session or a redirect.
"""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.services.door_devices import MAX_NAME_LENGTH, NewDevice
from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.inputs import BadInput, parse_uuid, text
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.security import csrf_protected
from mierloos_entrypoints.web.services import services

DEVICES = "/beheer/apparaten"


async def _page(
    request: Request, *, made: NewDevice | None = None, error: str | None = None, status: int = 200
) -> Response:
    web = services(request)
    devices = await run_in_threadpool(web.devices.list)
    performances = await run_in_threadpool(web.door.performances)
    titles = {p.id: p for p in performances}
    return render(
        request,
        "admin/devices.html",
        {
            "devices": devices,
            "performances": performances,
            "titles": titles,
            "made": made,
            "error": error,
            "max_name": MAX_NAME_LENGTH,
        },
        status_code=status,
    )


async def devices_page(request: Request) -> Response:
    return await _page(request)


async def create(request: Request, form: FormData) -> Response:
    try:
        name = text(form, "name", max_length=MAX_NAME_LENGTH, required=True)
        scope = text(form, "performance", max_length=36)
    except BadInput as bad:
        return await _page(request, error=bad.message, status=422)
    performance_id: uuid.UUID | None = None
    if scope:
        performance_id = parse_uuid(scope)
        if performance_id is None:
            return await _page(request, error="Kies een voorstelling uit de lijst.", status=422)
    staff = await current_user(request)
    created_by = staff.email if staff is not None else ""
    try:
        made = await run_in_threadpool(
            services(request).devices.create, name, performance_id, created_by
        )
    except errors.MierloosError as refused:
        return await _page(request, error=refused.message, status=422)
    return await _page(request, made=made, status=201)


async def revoke(request: Request, form: FormData) -> Response:
    device_id: uuid.UUID = request.path_params["device_id"]
    if await run_in_threadpool(services(request).devices.revoke, device_id):
        flash(request, "De sleutel is ingetrokken: het apparaat kan niet meer inchecken.", "ok")
    else:
        flash(request, "Deze sleutel bestaat niet of was al ingetrokken.", "warning")
    return RedirectResponse(DEVICES, status_code=303)


ROUTES: list[BaseRoute] = [
    staff_page(DEVICES, devices_page, "admin_devices"),
    staff_post(DEVICES, csrf_protected(create), "admin_device_create"),
    staff_post(
        DEVICES + "/{device_id:uuid}/intrekken", csrf_protected(revoke), "admin_device_revoke"
    ),
]
