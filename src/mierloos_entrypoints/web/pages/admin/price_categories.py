"""Staff pages for price categories: a performance's own (add, edit) and a show's default set.

The performance page lists its categories with an add form; each category has its own edit
page. The show page holds the default set as a list, one category per line, that new
performances copy. The core checks the rules (names, price range, a limit not below the seats
held) and its messages come back next to the field.
"""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.services.staff_price_categories import MAX_NAME, CategoryForm
from mierloos_entrypoints.web.inputs import BadInput
from mierloos_entrypoints.web.pages.admin.catalog import (
    PERFORMANCE,
    SHOW,
    render_performance,
    render_show,
)
from mierloos_entrypoints.web.pages.admin.category_forms import (
    MAX_DEFAULTS_TEXT,
    VISIBILITY_LABELS,
    category_values,
    parse_defaults,
    read_category,
)
from mierloos_entrypoints.web.pages.admin.forms import FormReader, form_page, staff_form
from mierloos_entrypoints.web.rendering import flash
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.services import services


def _performance_path(performance_id: uuid.UUID) -> str:
    return f"/beheer/uitvoeringen/{performance_id}"


# --- a performance's categories ------------------------------------------------------------------


async def add_category(request: Request, form: FormData) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    reader = FormReader(form)
    staff = services(request).staff_price_categories
    added = await reader.read_and_submit(read_category, staff.add, performance_id)
    if added is not None:
        flash(request, f'Prijscategorie "{added.name_nl}" is toegevoegd.', "ok")
        return RedirectResponse(_performance_path(performance_id), status_code=303)
    return await render_performance(
        request, performance_id, category_reader=reader, status_code=422
    )


async def category_page(request: Request) -> Response:
    category = await _category(request)
    return _render_edit(request, category, category_values(category))


async def save_category(request: Request, form: FormData) -> Response:
    category = await _category(request)
    reader = FormReader(form)
    staff = services(request).staff_price_categories
    saved = await reader.read_and_submit(read_category, staff.edit, category.id)
    if saved is not None:
        flash(request, f'Prijscategorie "{saved.name_nl}" is opgeslagen.', "ok")
        return RedirectResponse(_performance_path(category.performance_id), status_code=303)
    return _render_edit(request, category, reader)


async def _category(request: Request) -> PriceCategory:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    category_id: uuid.UUID = request.path_params["category_id"]
    staff = services(request).staff_price_categories
    categories = await run_in_threadpool(staff.for_performance, performance_id)
    found = next((c for c in categories if c.id == category_id), None)
    if found is None:
        raise errors.UnknownPriceCategory(category_id=str(category_id))
    return found


def _render_edit(
    request: Request, category: PriceCategory, form: FormReader | dict[str, str]
) -> Response:
    return form_page(
        request,
        "admin/price_category_edit.html",
        form,
        category=category,
        visibility_labels=VISIBILITY_LABELS,
        max_name=MAX_NAME,
    )


# --- a show's default set ------------------------------------------------------------------------


async def save_defaults(request: Request, form: FormData) -> Response:
    show_id: uuid.UUID = request.path_params["show_id"]
    reader = FormReader(form)
    typed = reader.text("defaults", max_length=MAX_DEFAULTS_TEXT)
    forms: list[CategoryForm] = []
    try:
        forms = parse_defaults(typed)
    except BadInput as bad:
        reader.errors["defaults"] = bad.message
    staff = services(request).staff_price_categories
    if not reader.errors:
        try:
            await run_in_threadpool(staff.set_show_defaults, show_id, forms)
        except errors.ValidationError as refused:
            reader.errors["defaults"] = refused.message
        else:
            flash(request, "De standaardprijscategorieën zijn opgeslagen.", "ok")
            return RedirectResponse(f"/beheer/voorstellingen/{show_id}", status_code=303)
    return await render_show(request, show_id, defaults_reader=reader, status_code=422)


CATEGORY = PERFORMANCE + "/prijscategorieen/{category_id:uuid}"

ROUTES: list[BaseRoute] = [
    staff_post(PERFORMANCE + "/prijscategorieen", staff_form(add_category), "admin_category_add"),
    staff_page(CATEGORY, category_page, "admin_category"),
    staff_post(CATEGORY, staff_form(save_category), "admin_category_save"),
    staff_post(SHOW + "/prijscategorieen", staff_form(save_defaults), "admin_show_defaults"),
]
