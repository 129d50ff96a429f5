"""Home (upcoming shows), a show's page, and show images."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mierloos_core import errors
from mierloos_core.services.catalog import (
    AgendaFilter,
    ShowListing,
    agenda,
    performance_of,
    show_page,
)
from mierloos_core.services.images import variant_key
from mierloos_entrypoints.web.calendar_files import CalendarEntry, calendar_response
from mierloos_entrypoints.web.inputs import is_slug, parse_uuid
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.services import services

IMAGE_SIZES = frozenset({"sm", "md", "lg"})
_MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")
MAX_GENRE = 40


def agenda_filter(request: Request) -> AgendaFilter:
    """The agenda's filter from the query string; anything malformed is simply not applied."""
    query = request.query_params
    month = query.get("maand", "")
    genre = " ".join(query.get("genre", "").split())
    return AgendaFilter(
        month=month if _MONTH.fullmatch(month) else "",
        genre=genre if len(genre) <= MAX_GENRE else "",
        this_week=query.get("week") == "1",
    )


async def home(request: Request) -> Response:
    web = services(request)
    wanted = agenda_filter(request)
    programme = await run_in_threadpool(agenda, web.uow(), web.clock.now(), wanted)
    return render(
        request,
        "pages/home.html",
        {"agenda": programme, "wanted": wanted, "filtered": wanted != AgendaFilter()},
    )


async def show(request: Request) -> Response:
    slug = request.path_params["slug"]
    if not is_slug(slug):
        raise HTTPException(status_code=404)
    web = services(request)
    try:
        page = await run_in_threadpool(show_page, web.uow(), web.clock.now(), slug)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    context = {"page": page, "max_quantity": web.checkout_policy.max_tickets_per_line}
    return render(request, "pages/show.html", context)


async def performance_listing(request: Request) -> ShowListing:
    """The public performance of the path's show slug and performance id, with its show; 404
    for a malformed path or one that names no such performance."""
    slug = request.path_params["slug"]
    performance_id = parse_uuid(request.path_params["performance_id"])
    if not is_slug(slug) or performance_id is None:
        raise HTTPException(status_code=404)
    try:
        return await run_in_threadpool(
            performance_of, services(request).uow(), slug, performance_id
        )
    except errors.NotFound:
        raise HTTPException(status_code=404) from None


async def performance_ics(request: Request) -> Response:
    """One performance as a calendar file, for anyone (it is on the public agenda)."""
    listing = await performance_listing(request)
    web, slug = services(request), listing.show.slug
    performance = listing.performances[0]
    entry = CalendarEntry(
        uid=f"performance-{performance.id}@mierloos",
        title=listing.show.title,
        starts_at=performance.starts_at,
        duration_minutes=listing.show.duration_minutes,
        hall=performance.hall,
        url=web.settings.base_url + str(request.app.url_path_for("show", slug=slug)),
        description=listing.show.description,
    )
    return calendar_response([entry], f"{slug}.ics", web.clock.now())


async def show_image(request: Request) -> Response:
    """A show's image in one of its sizes, streamed from object storage.

    Served by the site itself (not redirected to the store) so the page's CSP stays 'self'.
    """
    image_id = parse_uuid(request.path_params["image_id"])
    size = request.path_params["size"]
    if image_id is None or size not in IMAGE_SIZES:
        raise HTTPException(status_code=404)
    web = services(request)
    try:
        data = await run_in_threadpool(web.storage.get, variant_key(image_id, size))
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=3600"},
    )
