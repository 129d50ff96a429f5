"""A performance on reserved seating (admins): choose a plan version and a price category per
zone, before it sold anything; afterwards the page shows its seats and their states."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_adapters.i18n import texts
from mierloos_core import errors
from mierloos_entrypoints.web.inputs import parse_uuid
from mierloos_entrypoints.web.pages.admin.forms import staff_form
from mierloos_entrypoints.web.pages.admin.seat_plans import seating
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.seat_map import legend_items, render_seat_map
from mierloos_entrypoints.web.seat_reading import hall_plans, performance_seating
from mierloos_entrypoints.web.services import services

PAGE = "/beheer/uitvoeringen/{performance_id}/zaalplan"
STATE_LABELS = {
    "free": "Vrij",
    "held": "Gereserveerd",
    "sold": "Verkocht",
    "blocked": "Geblokkeerd",
}


def _performance_id(request: Request) -> uuid.UUID:
    performance_id = parse_uuid(request.path_params["performance_id"])
    if performance_id is None:
        raise HTTPException(status_code=404)
    return performance_id


async def _context(request: Request, performance_id: uuid.UUID) -> dict[str, Any]:
    web = services(request)
    try:
        details = await run_in_threadpool(web.staff_catalog.performance, performance_id)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    context: dict[str, Any] = {"details": details, "state_labels": STATE_LABELS}
    current = await run_in_threadpool(
        performance_seating, web.uow(), performance_id, "nl", staff=True
    )
    if current is not None:
        dutch = texts("nl")
        context |= {
            "seating": current,
            "seat_map_svg": render_seat_map(current.seat_map, dutch, title="Zaalplan"),
            "seat_map_legend": legend_items(current.seat_map, dutch),
            "state_counts": Counter(seat.state.value for seat in current.seats),
        }
        return context
    halls = await run_in_threadpool(hall_plans, web.uow())
    plans = {plan.id: plan for _, versions in halls for plan in versions}
    chosen = plans.get(parse_uuid(request.query_params.get("plan", "")) or uuid.UUID(int=0))
    categories = await run_in_threadpool(web.staff_price_categories.for_performance, performance_id)
    return context | {"halls": halls, "chosen_plan": chosen, "categories": categories}


async def seating_page(request: Request) -> Response:
    performance_id = _performance_id(request)
    return render(
        request, "admin/performance_seating.html", await _context(request, performance_id)
    )


async def put_on_sale(request: Request, form: FormData) -> Response:
    performance_id = _performance_id(request)
    plan_id = parse_uuid(form.get("plan_id"))
    zones: dict[str, uuid.UUID] = {}
    for key in form:
        if key.startswith("zone:"):
            category_id = parse_uuid(form.get(key))
            if category_id is not None:
                zones[key.removeprefix("zone:")[:40]] = category_id
    try:
        if plan_id is None:
            raise errors.NotFound("Kies een plattegrond.")
        await run_in_threadpool(seating(request).put_on_sale, performance_id, plan_id, zones)
    except errors.MierloosError as refused:
        context = await _context(request, performance_id)
        status = 422 if isinstance(refused, errors.ValidationError | errors.NotFound) else 409
        return render(
            request,
            "admin/performance_seating.html",
            {**context, "seating_error": refused.message},
            status_code=status,
        )
    flash(request, "De uitvoering verkoopt nu genummerde stoelen.", "ok")
    return RedirectResponse(PAGE.format(performance_id=performance_id), status_code=303)


ROUTES: list[BaseRoute] = [
    staff_page(PAGE, seating_page, "admin_performance_seating"),
    staff_post(PAGE, staff_form(put_on_sale, fields=60), "admin_performance_seating_post"),
]
