"""Staff pages for shows, their performances and show images, under /beheer/voorstellingen."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import PriceCategory, Visibility, in_order
from mierloos_core.services.images import MAX_UPLOAD_BYTES
from mierloos_core.services.staff_catalog import (
    MAX_AGE_ADVICE,
    MAX_DESCRIPTION,
    MAX_GENRE,
    MAX_HALL,
    MAX_SLUG,
    MAX_TITLE,
    PerformanceForm,
    ShowForm,
)
from mierloos_core.services.staff_price_categories import MAX_NAME
from mierloos_entrypoints.web.inputs import (
    parse_cents,
    parse_local_moment,
    parse_whole_number,
)
from mierloos_entrypoints.web.pages.admin.category_forms import (
    VISIBILITY_LABELS,
    categories_text,
)
from mierloos_entrypoints.web.pages.admin.forms import (
    FormReader,
    euros_value,
    form_context,
    form_state,
    staff_form,
    wall_time_value,
)
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.services import services

MAX_VAT_TEXT = 10  # "100,00" and some room for spaces
PERFORMANCE_STATUS_LABELS = {
    PerformanceStatus.DRAFT: "Concept",
    PerformanceStatus.PUBLISHED: "Gepubliceerd",
    PerformanceStatus.CANCELLED: "Geannuleerd",
    PerformanceStatus.ARCHIVED: "Gearchiveerd",
}
# URL action -> (target status, button text, message afterwards)
ACTIONS = {
    "publiceren": (PerformanceStatus.PUBLISHED, "Publiceren", "De uitvoering is gepubliceerd."),
    "concept": (PerformanceStatus.DRAFT, "Terug naar concept", "De uitvoering is weer concept."),
    "annuleren": (PerformanceStatus.CANCELLED, "Annuleren", "De uitvoering is geannuleerd."),
    "annuleren-en-terugbetalen": (
        PerformanceStatus.CANCELLED,
        "Annuleren en alle betaalde bestellingen terugbetalen",
        "De uitvoering is geannuleerd.",
    ),
    "archiveren": (PerformanceStatus.ARCHIVED, "Archiveren", "De uitvoering is gearchiveerd."),
}
IMAGE_FIELD = "afbeelding"


def _common(request: Request) -> dict[str, Any]:
    return {
        "status_labels": PERFORMANCE_STATUS_LABELS,
        "actions": ACTIONS,
        "now": services(request).clock.now(),
    }


# --- shows ---------------------------------------------------------------------------------------


async def show_list(request: Request) -> Response:
    shows = await run_in_threadpool(services(request).staff_catalog.overview)
    return render(request, "admin/shows.html", {"shows": shows, **_common(request)})


async def new_show(request: Request) -> Response:
    return render(request, "admin/shows_new.html", {"values": {}, "errors": {}, **_LIMITS})


async def create_show(request: Request, form: FormData) -> Response:
    reader = FormReader(form)
    show = await reader.read_and_submit(_read_show, services(request).staff_catalog.create_show)
    if show is not None:
        flash(request, f'Voorstelling "{show.title}" is aangemaakt.', "ok")
        return RedirectResponse(f"/beheer/voorstellingen/{show.id}", status_code=303)
    return render(
        request,
        "admin/shows_new.html",
        form_context(reader, **_LIMITS),
        status_code=422,
    )


async def show_page(request: Request) -> Response:
    show_id: uuid.UUID = request.path_params["show_id"]
    return await render_show(request, show_id)


async def save_show(request: Request, form: FormData) -> Response:
    show_id: uuid.UUID = request.path_params["show_id"]
    reader = FormReader(form)
    catalog = services(request).staff_catalog
    if await reader.read_and_submit(_read_show, catalog.edit_show, show_id) is not None:
        flash(request, "De voorstelling is opgeslagen.", "ok")
        return RedirectResponse(f"/beheer/voorstellingen/{show_id}", status_code=303)
    return await render_show(request, show_id, show_form=reader, status_code=422)


async def add_performance(request: Request, form: FormData) -> Response:
    show_id: uuid.UUID = request.path_params["show_id"]
    reader = FormReader(form)
    catalog = services(request).staff_catalog
    added = await reader.read_and_submit(_read_performance, catalog.add_performance, show_id)
    if added is not None:
        flash(request, "De uitvoering is toegevoegd als concept.", "ok")
        return RedirectResponse(f"/beheer/voorstellingen/{show_id}", status_code=303)
    return await render_show(request, show_id, performance_form=reader, status_code=422)


async def upload_image(request: Request, form: FormData) -> Response:
    """The only route that takes a file: one, within the body limit of its path."""
    show_id: uuid.UUID = request.path_params["show_id"]
    upload = form.get(IMAGE_FIELD)
    if not isinstance(upload, UploadFile):
        return await _image_refused(request, show_id, "Kies een afbeelding om te uploaden.", 422)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    web = services(request)
    try:
        await run_in_threadpool(web.images.upload, show_id, data, upload.filename or "")
    except errors.ImageTooLarge as error:
        return await _image_refused(request, show_id, error.message, 413)
    except errors.InvalidImage as error:
        return await _image_refused(request, show_id, error.message, 422)
    flash(request, "De afbeelding is ontvangen en wordt nu in de juiste maten gemaakt.", "ok")
    return RedirectResponse(f"/beheer/voorstellingen/{show_id}", status_code=303)


async def _image_refused(
    request: Request, show_id: uuid.UUID, message: str, status_code: int
) -> Response:
    return await render_show(request, show_id, image_error=message, status_code=status_code)


# --- performances --------------------------------------------------------------------------------


async def performance_page(request: Request) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    return await render_performance(request, performance_id)


async def save_performance(request: Request, form: FormData) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    reader = FormReader(form)
    catalog = services(request).staff_catalog
    try:
        saved = await reader.read_and_submit(
            _read_performance, catalog.edit_performance, performance_id
        )
    except errors.InvalidTransition as error:
        return await render_performance(
            request, performance_id, reader=reader, status_error=error.message, status_code=409
        )
    if saved is not None:
        flash(request, "De uitvoering is opgeslagen.", "ok")
        return RedirectResponse(f"/beheer/uitvoeringen/{performance_id}", status_code=303)
    return await render_performance(request, performance_id, reader=reader, status_code=422)


async def change_status(request: Request, form: FormData) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        return await render_performance(
            request, performance_id, status_error="Deze actie bestaat niet.", status_code=404
        )
    status, _, done = action
    catalog = services(request).staff_catalog
    change = {
        PerformanceStatus.PUBLISHED: catalog.publish,
        PerformanceStatus.DRAFT: catalog.unpublish,
        PerformanceStatus.ARCHIVED: catalog.archive,
    }.get(status)
    try:
        if change is not None:
            await run_in_threadpool(change, performance_id)
        else:
            refund_paid = request.path_params["action"] == "annuleren-en-terugbetalen"
            cancellation = await run_in_threadpool(
                partial(catalog.cancel, performance_id, refund_paid=refund_paid)
            )
            if cancellation.refunds_queued:
                done += (
                    f" {cancellation.refunds_queued} betaalde bestelling(en) worden "
                    "terugbetaald; de voortgang staat hieronder."
                )
            if cancellation.cancelled_orders:
                done += (
                    f" {cancellation.cancelled_orders} onbetaalde bestelling(en) zijn "
                    "geannuleerd; de kopers krijgen daarvan bericht."
                )
    except errors.InvalidTransition as error:
        return await render_performance(
            request, performance_id, status_error=error.message, status_code=409
        )
    flash(request, done, "ok")
    return RedirectResponse(f"/beheer/uitvoeringen/{performance_id}", status_code=303)


# --- reading forms and rendering pages -----------------------------------------------------------


# The show form's text fields and the longest value of each.
_SHOW_TEXTS = {
    "title": MAX_TITLE,
    "slug": MAX_SLUG,
    "description": MAX_DESCRIPTION,
    "genre": MAX_GENRE,
    "age_advice": MAX_AGE_ADVICE,
    "vat_rate": MAX_VAT_TEXT,
}
# The forms' length limits, for the fields' maxlength.
_LIMITS = {f"max_{name}": most for name, most in _SHOW_TEXTS.items()} | {"max_hall": MAX_HALL}


def _read_show(reader: FormReader) -> ShowForm:
    texts = {name: reader.text(name, max_length=most) for name, most in _SHOW_TEXTS.items()}
    minutes = reader.parsed("duration_minutes", parse_whole_number, optional=True)
    return ShowForm(**texts, duration_minutes=minutes)


def _read_performance(reader: FormReader) -> PerformanceForm | None:
    starts_at = reader.parsed("starts_at", parse_local_moment)
    price = reader.parsed("price", parse_cents)
    capacity = reader.parsed("capacity", parse_whole_number)
    hall = reader.text("hall", max_length=MAX_HALL)
    if reader.errors or starts_at is None or price is None or capacity is None:
        return None
    return PerformanceForm(starts_at=starts_at, price=Money(price), capacity=capacity, hall=hall)


def _show_values(show: Show) -> dict[str, str]:
    """The form's fields as the show has them: its own text, the minutes and rate as typed."""
    texts = {name: getattr(show, name) for name in _SHOW_TEXTS}
    return texts | {
        "duration_minutes": str(show.duration_minutes or ""),
        "vat_rate": f"{show.vat_rate:.2f}".replace(".", ","),
    }


def _new_category_values(categories: list[PriceCategory]) -> dict[str, str]:
    """A new category is public and comes last."""
    return {"visibility": Visibility.PUBLIC.value, "position": str(len(categories))}


def _performance_values(performance: Performance) -> dict[str, str]:
    return {
        "starts_at": wall_time_value(performance.starts_at),
        "price": euros_value(performance.price.cents),
        "capacity": str(performance.capacity),
        "hall": performance.hall or "",
    }


async def render_show(
    request: Request,
    show_id: uuid.UUID,
    *,
    show_form: FormReader | None = None,
    performance_form: FormReader | None = None,
    image_error: str | None = None,
    defaults_reader: FormReader | None = None,
    status_code: int = 200,
) -> Response:
    web = services(request)
    details = await run_in_threadpool(web.staff_catalog.show, show_id)
    defaults = await run_in_threadpool(web.staff_price_categories.show_defaults, show_id)
    context = {
        "details": details,
        **form_state(show_form, _show_values(details.show), "show_"),
        **form_state(performance_form, {}, "performance_"),
        "image_error": image_error,
        "defaults": defaults,
        **form_state(defaults_reader, {"defaults": categories_text(defaults)}, "defaults_"),
        "image_field": IMAGE_FIELD,
        "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return _edit_page(request, "admin/shows_edit.html", context, status_code)


async def render_performance(
    request: Request,
    performance_id: uuid.UUID,
    *,
    reader: FormReader | None = None,
    status_error: str | None = None,
    category_reader: FormReader | None = None,
    status_code: int = 200,
) -> Response:
    web = services(request)
    details = await run_in_threadpool(web.staff_catalog.performance, performance_id)
    categories = await run_in_threadpool(web.staff_price_categories.for_performance, performance_id)
    context = {
        "details": details,
        **form_state(reader, _performance_values(details.performance)),
        "status_error": status_error,
        "categories": in_order(categories),
        **form_state(category_reader, _new_category_values(categories), "category_"),
        "visibility_labels": VISIBILITY_LABELS,
        "max_name": MAX_NAME,
    }
    return _edit_page(request, "admin/performance_edit.html", context, status_code)


def _edit_page(
    request: Request, template: str, context: dict[str, Any], status_code: int
) -> Response:
    """A show's or a performance's page, with the forms' limits, status labels and actions."""
    page = {**context, **_LIMITS, **_common(request)}
    return render(request, template, page, status_code=status_code)


SHOW = "/beheer/voorstellingen/{show_id:uuid}"
PERFORMANCE = "/beheer/uitvoeringen/{performance_id:uuid}"
STATUS_CHANGE = PERFORMANCE + "/{action:str}"

ROUTES: list[BaseRoute] = [
    staff_page("/beheer/voorstellingen", show_list, "admin_shows"),
    staff_page("/beheer/voorstellingen/nieuw", new_show, "admin_show_new"),
    staff_post("/beheer/voorstellingen/nieuw", staff_form(create_show), "admin_show_create"),
    staff_page(SHOW, show_page, "admin_show"),
    staff_post(SHOW, staff_form(save_show), "admin_show_save"),
    staff_post(SHOW + "/uitvoeringen", staff_form(add_performance), "admin_performance_add"),
    staff_post(SHOW + "/afbeelding", staff_form(upload_image, files=1), "admin_show_image"),
    staff_page(PERFORMANCE, performance_page, "admin_performance"),
    staff_post(PERFORMANCE, staff_form(save_performance), "admin_performance_save"),
    staff_post(STATUS_CHANGE, staff_form(change_status), "admin_performance_status"),
]
