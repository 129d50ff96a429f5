"""Staff's view of a performance's waiting list: positions, offers out, conversions; removing
an entry, offering seats by hand, and turning the list on or off."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.model.waitlist import EntryStatus
from mierloos_entrypoints.web.pages.admin.catalog import PERFORMANCE
from mierloos_entrypoints.web.pages.admin.forms import staff_form
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.services import services

STATUS_LABELS = {
    EntryStatus.WAITING: "wacht",
    EntryStatus.OFFERED: "aanbod uit",
    EntryStatus.CONVERTED: "gekocht",
    EntryStatus.REMOVED: "verwijderd",
    EntryStatus.LEFT: "zelf afgemeld",
    EntryStatus.EXPIRED: "aanbod verlopen",
}
WAITLIST = PERFORMANCE + "/wachtlijst"
ENTRY = WAITLIST + "/{entry_id:uuid}"


def _path(performance_id: uuid.UUID) -> str:
    return f"/beheer/uitvoeringen/{performance_id}/wachtlijst"


async def waitlist_page(request: Request) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    web = services(request)
    listing = await run_in_threadpool(web.waitlists.staff_list, performance_id)
    categories = await run_in_threadpool(web.staff_price_categories.for_performance, performance_id)
    context: dict[str, Any] = {
        "listing": listing,
        "status_labels": STATUS_LABELS,
        "categories": {c.id: c.name_nl for c in categories},
    }
    return render(request, "admin/waitlist.html", context)


async def _act(request: Request, action: Callable[[], object], done: str) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    try:
        await run_in_threadpool(action)
    except errors.NotFound:
        raise
    except errors.MierloosError as refused:
        flash(request, refused.message, "error")
    else:
        flash(request, done, "ok")
    return RedirectResponse(_path(performance_id), status_code=303)


def _ids(request: Request) -> tuple[uuid.UUID, uuid.UUID]:
    return request.path_params["performance_id"], request.path_params["entry_id"]


async def turn_on(request: Request, form: FormData) -> Response:
    lists = services(request).waitlists
    performance_id = request.path_params["performance_id"]
    return await _act(
        request, lambda: lists.set_enabled(performance_id, True), "De wachtlijst staat aan."
    )


async def turn_off(request: Request, form: FormData) -> Response:
    lists = services(request).waitlists
    performance_id = request.path_params["performance_id"]
    return await _act(
        request, lambda: lists.set_enabled(performance_id, False), "De wachtlijst staat uit."
    )


async def remove(request: Request, form: FormData) -> Response:
    lists = services(request).waitlists
    performance_id, entry_id = _ids(request)
    return await _act(
        request, lambda: lists.remove(performance_id, entry_id), "De inschrijving is verwijderd."
    )


async def offer(request: Request, form: FormData) -> Response:
    lists = services(request).waitlists
    performance_id, entry_id = _ids(request)
    return await _act(
        request,
        lambda: lists.offer_by_hand(performance_id, entry_id),
        "De plaatsen zijn aangeboden; de bezoeker krijgt een e-mail.",
    )


ROUTES: list[BaseRoute] = [
    staff_page(WAITLIST, waitlist_page, "admin_waitlist"),
    staff_post(WAITLIST + "/aan", staff_form(turn_on), "admin_waitlist_on"),
    staff_post(WAITLIST + "/uit", staff_form(turn_off), "admin_waitlist_off"),
    staff_post(ENTRY + "/verwijderen", staff_form(remove), "admin_waitlist_remove"),
    staff_post(ENTRY + "/aanbieden", staff_form(offer), "admin_waitlist_offer"),
]
