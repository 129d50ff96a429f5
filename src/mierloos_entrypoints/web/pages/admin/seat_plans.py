"""Staff pages for halls and their seat plans, under /beheer/zalen (admins only).

A plan is made with the generator (rows x seats per section, aisles, straight or curved rows,
zone bands), looked at as the visitors' map will draw it, and saved as version 1 of a new
hall. On a plan's page staff choose seats (on the map or in the list) and change them:
wheelchair place, companion seat, restricted view, blocked, or another zone. That saves the
next version; a performance keeps the version it was put on sale with.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_adapters.i18n import texts
from mierloos_core import errors
from mierloos_core.model.seating import SeatPlan
from mierloos_core.model.seating.plan import MAX_LABEL
from mierloos_core.services.seating import Seating
from mierloos_entrypoints.web.inputs import parse_uuid
from mierloos_entrypoints.web.pages.admin.forms import FormReader, form_page, staff_form
from mierloos_entrypoints.web.pages.admin.plan_forms import (
    SECTION_DEFAULTS,
    SECTIONS,
    preview_plan,
    read_sections,
)
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.seat_map import attribute_words, legend_items, render_seat_map
from mierloos_entrypoints.web.seat_reading import hall_plans, plan_with_versions
from mierloos_entrypoints.web.seat_views import plan_map
from mierloos_entrypoints.web.services import services

HALLS = "/beheer/zalen"
NEW_PLAN = HALLS + "/nieuw"
PLAN = HALLS + "/plannen/{plan_id}"
MAX_PLAN_FIELDS = 6000  # a checkbox per seat of the biggest plan, and the form's own fields
# The adjustments a form may ask for: field value -> (seat attribute, new value)
ADJUSTMENTS: dict[str, tuple[str, object]] = {
    "rolstoel-aan": ("wheelchair", True),
    "rolstoel-uit": ("wheelchair", False),
    "begeleider-aan": ("companion", True),
    "begeleider-uit": ("companion", False),
    "beperkt-aan": ("restricted_view", True),
    "beperkt-uit": ("restricted_view", False),
    "blokkeren": ("blocked", True),
    "vrijgeven": ("blocked", False),
    "zone": ("zone", None),
}


def seating(request: Request) -> Seating:
    web = services(request)
    return Seating(uow=web.uow, clock=web.clock)


def plan_drawing(plan: SeatPlan) -> dict[str, Any]:
    """The map of a plan, its legend and its seats, for a staff template."""
    seat_map = plan_map(plan)
    dutch = texts("nl")
    return {
        "preview": render_seat_map(seat_map, dutch, title=f"Plattegrond {plan.name}"),
        "preview_count": len(plan.seats),
        "seat_map_legend": legend_items(seat_map, dutch),
        "seat_map": seat_map,
        "seat_attribute_words": attribute_words,
    }


async def halls_page(request: Request) -> Response:
    halls = await run_in_threadpool(hall_plans, services(request).uow())
    return render(request, "admin/halls.html", {"halls": halls})


def _new_context(**extra: Any) -> dict[str, Any]:
    return {"action": NEW_PLAN, "sections": SECTIONS, "max_label": MAX_LABEL, **extra}


async def new_plan(request: Request) -> Response:
    return form_page(request, "admin/seat_plan_new.html", dict(SECTION_DEFAULTS), **_new_context())


async def create_plan(request: Request, form: FormData) -> Response:
    """ "Voorbeeld bekijken" draws the plan and saves nothing; "Opslaan" makes the hall and
    its plan's version 1."""
    reader = FormReader(form)
    plan = preview_plan(reader, services(request).clock.now())
    if plan is None:
        return form_page(request, "admin/seat_plan_new.html", reader, **_new_context())
    if form.get("actie") != "opslaan":
        context = _new_context(**plan_drawing(plan))
        return form_page(request, "admin/seat_plan_new.html", reader.values, **context)
    read = read_sections(FormReader(form))
    assert read is not None  # the preview read the same form
    name, specs = read
    service = seating(request)
    hall = await reader.submit(service.add_hall, name)
    if hall is None:
        return form_page(request, "admin/seat_plan_new.html", reader, **_new_context())
    saved = await run_in_threadpool(service.generate, hall.id, name, specs)
    flash(request, f"Zaal {hall.name} is opgeslagen met {len(saved.seats)} stoelen.", "ok")
    return RedirectResponse(PLAN.format(plan_id=saved.id), status_code=303)


async def plan_page(request: Request) -> Response:
    plan_id = parse_uuid(request.path_params["plan_id"])
    found = await run_in_threadpool(plan_with_versions, services(request).uow(), plan_id)
    if found is None:
        raise HTTPException(status_code=404)
    plan, versions = found
    context = {"plan": plan, "versions": versions, "adjustments": ADJUSTMENTS, **plan_drawing(plan)}
    return render(request, "admin/seat_plan.html", context)


def _changes(form: FormData, plan: SeatPlan) -> dict[uuid.UUID, dict[str, object]] | str:
    """The seats' changes the form asks for, or what is wrong with it."""
    action = form.get("wijziging")
    if not isinstance(action, str) or action not in ADJUSTMENTS:
        return "Kies wat er met de stoelen moet gebeuren."
    attribute, value = ADJUSTMENTS[action]
    if attribute == "zone":
        zone = " ".join(str(form.get("zone", "")).split())
        if not zone or len(zone) > MAX_LABEL:
            return f"Vul een zone in van 1 tot {MAX_LABEL} tekens."
        value = zone
    chosen = [parse_uuid(raw) for raw in form.getlist("seat")]
    seats = plan.by_id
    unknown = [
        raw
        for raw, seat_id in zip(form.getlist("seat"), chosen, strict=True)
        if seat_id is None or seat_id not in seats
    ]
    if unknown:
        return (
            f"Deze stoelen staan niet in dit plan: {', '.join(str(u)[:40] for u in unknown[:10])}."
        )
    if not chosen:
        return "Kies minstens één stoel."
    return {seat_id: {attribute: value} for seat_id in chosen if seat_id is not None}


async def adjust_plan(request: Request, form: FormData) -> Response:
    plan_id = parse_uuid(request.path_params["plan_id"])
    found = await run_in_threadpool(plan_with_versions, services(request).uow(), plan_id)
    if found is None:
        raise HTTPException(status_code=404)
    plan, versions = found
    changes = _changes(form, plan)
    if isinstance(changes, str):
        context = {
            "plan": plan,
            "versions": versions,
            "adjustments": ADJUSTMENTS,
            "adjust_error": changes,
            **plan_drawing(plan),
        }
        return render(request, "admin/seat_plan.html", context, status_code=422)
    try:
        adjusted = await run_in_threadpool(seating(request).adjust, plan.id, changes)
    except (ValueError, errors.ValidationError) as refused:
        context = {
            "plan": plan,
            "versions": versions,
            "adjustments": ADJUSTMENTS,
            "adjust_error": str(refused),
            **plan_drawing(plan),
        }
        return render(request, "admin/seat_plan.html", context, status_code=422)
    flash(
        request, f"Versie {adjusted.version} is opgeslagen: {len(changes)} stoelen gewijzigd.", "ok"
    )
    return RedirectResponse(PLAN.format(plan_id=adjusted.id), status_code=303)


ROUTES: list[BaseRoute] = [
    staff_page(HALLS, halls_page, "admin_halls"),
    staff_page(NEW_PLAN, new_plan, "admin_seat_plan_new"),
    staff_post(NEW_PLAN, staff_form(create_plan, fields=60), "admin_seat_plan_create"),
    staff_page(PLAN, plan_page, "admin_seat_plan"),
    staff_post(PLAN, staff_form(adjust_plan, fields=MAX_PLAN_FIELDS), "admin_seat_plan_adjust"),
]
