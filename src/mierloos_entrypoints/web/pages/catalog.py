"""Home (upcoming shows), a show's page, and show images."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mierloos_core import errors
from mierloos_core.services.catalog import show_page, upcoming_shows
from mierloos_core.services.images import variant_key
from mierloos_entrypoints.web.inputs import is_slug, parse_uuid
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.services import services

IMAGE_SIZES = frozenset({"sm", "md", "lg"})


async def home(request: Request) -> Response:
    web = services(request)
    listings = await run_in_threadpool(upcoming_shows, web.uow(), web.clock.now())
    return render(request, "pages/home.html", {"listings": listings})


async def show(request: Request) -> Response:
    slug = request.path_params["slug"]
    if not is_slug(slug):
        raise HTTPException(status_code=404)
    web = services(request)
    try:
        page = await run_in_threadpool(show_page, web.uow(), web.clock.now(), slug)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    return render(
        request,
        "pages/show.html",
        {"page": page, "max_quantity": web.checkout_policy.max_tickets_per_line},
    )


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
