"""Staff pages for halls and their seat plans, under /beheer/zalen (admins only).

A plan is made with the generator (rows x seats per section, aisles, straight or curved rows,
zone bands), looked at as the visitors' map will draw it, and saved as version 1.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mierloos_adapters.i18n import texts
from mierloos_core.model.seating import SeatPlan
from mierloos_core.model.seating.plan import MAX_LABEL
from mierloos_entrypoints.web.pages.admin.forms import FormReader, form_page, staff_form
from mierloos_entrypoints.web.pages.admin.plan_forms import SECTION_DEFAULTS, SECTIONS, read_plan
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.seat_map import legend_items, render_seat_map
from mierloos_entrypoints.web.seat_views import plan_map
from mierloos_entrypoints.web.services import services

HALLS = "/beheer/zalen"
NEW_PLAN = HALLS + "/nieuw"


def plan_drawing(plan: SeatPlan) -> dict[str, Any]:
    """The map of a plan and its legend, for a staff template."""
    seat_map = plan_map(plan)
    dutch = texts("nl")
    return {
        "preview": render_seat_map(seat_map, dutch, title=f"Plattegrond {plan.name}"),
        "preview_count": len(plan.seats),
        "seat_map_legend": legend_items(seat_map, dutch),
        "seat_map": seat_map,
    }


def _new_context(**extra: Any) -> dict[str, Any]:
    return {"action": NEW_PLAN, "sections": SECTIONS, "max_label": MAX_LABEL, **extra}


async def new_plan(request: Request) -> Response:
    return form_page(request, "admin/seat_plan_new.html", dict(SECTION_DEFAULTS), **_new_context())


async def preview_plan(request: Request, form: FormData) -> Response:
    """The generator's plan drawn as visitors will see it; nothing is saved."""
    reader = FormReader(form)
    plan = read_plan(
        reader, hall_id=uuid.uuid4(), plan_id=uuid.uuid4(), at=services(request).clock.now()
    )
    if plan is None:
        return form_page(request, "admin/seat_plan_new.html", reader, **_new_context())
    context = _new_context(**plan_drawing(plan))
    return form_page(request, "admin/seat_plan_new.html", reader.values, **context)


ROUTES: list[BaseRoute] = [
    staff_page(NEW_PLAN, new_plan, "admin_seat_plan_new"),
    staff_post(NEW_PLAN, staff_form(preview_plan, fields=60), "admin_seat_plan_create"),
]
