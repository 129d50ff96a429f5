"""Staff pages for coupons under /beheer/kortingscodes: list, create, edit, (de)activate."""

from __future__ import annotations

import uuid
from decimal import Decimal

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.money import Money
from mierloos_core.services.staff_coupons import MAX_CODE, MAX_DESCRIPTION, CouponForm
from mierloos_entrypoints.web.inputs import parse_cents, parse_local_moment, parse_whole_number
from mierloos_entrypoints.web.pages.admin.forms import (
    FormReader,
    euros_value,
    form_page,
    staff_form,
    wall_time_value,
)
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.services import services

COUPONS = "/beheer/kortingscodes"
KIND_LABELS = {DiscountKind.PERCENTAGE: "Percentage", DiscountKind.FIXED: "Vast bedrag"}
# The form's choice: the discount for every price category, or for the ones named.
ALL_CATEGORIES = "alle"
CHOSEN_CATEGORIES = "gekozen"
MAX_CATEGORY_NAMES = 1000


async def coupon_list(request: Request) -> Response:
    coupons = await run_in_threadpool(services(request).staff_coupons.list)
    discounts = {coupon.id: _discount(coupon) for coupon in coupons}
    context = {
        "coupons": coupons,
        "discounts": discounts,
        "categories": {coupon.id: categories_label(coupon) for coupon in coupons},
    }
    return render(request, "admin/coupons.html", context)


async def new_coupon(request: Request) -> Response:
    values = {"kind": DiscountKind.PERCENTAGE.value, "categories": ALL_CATEGORIES}
    return _form_page(request, None, values)


async def create_coupon(request: Request, form: FormData) -> Response:
    reader = FormReader(form)
    coupon = await reader.read_and_submit(_read, services(request).staff_coupons.create)
    if coupon is not None:
        flash(request, f"Kortingscode {coupon.code} is aangemaakt.", "ok")
        return RedirectResponse(COUPONS, status_code=303)
    return _form_page(request, None, reader)


async def coupon_page(request: Request) -> Response:
    coupon = await run_in_threadpool(
        services(request).staff_coupons.get, request.path_params["coupon_id"]
    )
    return _form_page(request, coupon, _values(coupon))


async def save_coupon(request: Request, form: FormData) -> Response:
    coupon_id: uuid.UUID = request.path_params["coupon_id"]
    staff = services(request).staff_coupons
    coupon = await run_in_threadpool(staff.get, coupon_id)
    reader = FormReader(form)
    if await reader.read_and_submit(_read, staff.edit, coupon_id) is not None:
        flash(request, "De kortingscode is opgeslagen.", "ok")
        return RedirectResponse(COUPONS, status_code=303)
    return _form_page(request, coupon, reader)


async def deactivate(request: Request, form: FormData) -> Response:
    coupon = await run_in_threadpool(
        services(request).staff_coupons.deactivate, request.path_params["coupon_id"]
    )
    flash(request, f"Kortingscode {coupon.code} is uitgeschakeld.", "ok")
    return RedirectResponse(COUPONS, status_code=303)


async def activate(request: Request, form: FormData) -> Response:
    coupon = await run_in_threadpool(
        services(request).staff_coupons.activate, request.path_params["coupon_id"]
    )
    flash(request, f"Kortingscode {coupon.code} is weer actief.", "ok")
    return RedirectResponse(COUPONS, status_code=303)


def _read(reader: FormReader) -> CouponForm | None:
    code = reader.text("code", max_length=MAX_CODE)
    kind_text = reader.text("kind", max_length=20)
    kind = DiscountKind(kind_text) if kind_text in set(DiscountKind) else None
    if kind is None and "kind" not in reader.errors:
        reader.errors["kind"] = "Kies percentage of vast bedrag."
    cents = reader.parsed("value", parse_cents)
    valid_from = reader.parsed("valid_from", parse_local_moment, optional=True)
    valid_until = reader.parsed("valid_until", parse_local_moment, optional=True)
    max_usages = reader.parsed("max_usages", parse_whole_number, optional=True)
    minimum = reader.parsed("minimum_order", parse_cents, optional=True)
    description = reader.text("description", max_length=MAX_DESCRIPTION)
    category_names = _read_categories(reader)
    if reader.errors or kind is None or cents is None:
        return None
    # The value field takes euros for a fixed amount and a percentage with up to 2 decimals:
    # both are read as hundredths.
    value = Decimal(cents) if kind is DiscountKind.FIXED else Decimal(cents) / 100
    return CouponForm(
        code=code,
        kind=kind,
        value=value,
        valid_from=valid_from,
        valid_until=valid_until,
        max_usages=max_usages,
        minimum_order=Money(minimum or 0),
        description=description,
        category_names=category_names,
    )


def _read_categories(reader: FormReader) -> tuple[str, ...] | None:
    """None for all categories, else the names typed (comma-separated) when "gekozen"."""
    scope = reader.text("categories", max_length=20) or ALL_CATEGORIES
    names = reader.text("category_names", max_length=MAX_CATEGORY_NAMES)
    if scope not in (ALL_CATEGORIES, CHOSEN_CATEGORIES):
        reader.errors["categories"] = "Kies alle prijscategorieën of de genoemde."
    if scope != CHOSEN_CATEGORIES:
        return None
    return tuple(name.strip() for name in names.split(",") if name.strip())


def categories_label(coupon: Coupon) -> str:
    """For whom the coupon gives its discount, as the coupon list says it."""
    if coupon.category_names is None:
        return "alle prijscategorieën"
    return ", ".join(coupon.category_names)


def _discount(coupon: Coupon) -> str:
    if coupon.kind is DiscountKind.FIXED:
        return Money(int(coupon.value)).display()
    return _percent(coupon.value) + "%"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


def _values(coupon: Coupon) -> dict[str, str]:
    value = (
        euros_value(int(coupon.value))
        if coupon.kind is DiscountKind.FIXED
        else _percent(coupon.value)
    )
    return {
        "code": coupon.code,
        "kind": coupon.kind.value,
        "value": value,
        "valid_from": wall_time_value(coupon.valid_from),
        "valid_until": wall_time_value(coupon.valid_until),
        "max_usages": "" if coupon.max_usages is None else str(coupon.max_usages),
        "minimum_order": euros_value(coupon.minimum_order.cents),
        "description": coupon.description,
        "categories": ALL_CATEGORIES if coupon.category_names is None else CHOSEN_CATEGORIES,
        "category_names": ", ".join(coupon.category_names or ()),
    }


def _form_page(
    request: Request, coupon: Coupon | None, form: FormReader | dict[str, str]
) -> Response:
    return form_page(
        request,
        "admin/coupons_form.html",
        form,
        coupon=coupon,
        kind_labels=KIND_LABELS,
        max_code=MAX_CODE,
        max_description=MAX_DESCRIPTION,
    )


COUPON = COUPONS + "/{coupon_id:uuid}"

ROUTES: list[BaseRoute] = [
    staff_page(COUPONS, coupon_list, "admin_coupons"),
    staff_page(COUPONS + "/nieuw", new_coupon, "admin_coupon_new"),
    staff_post(COUPONS + "/nieuw", staff_form(create_coupon), "admin_coupon_create"),
    staff_page(COUPON, coupon_page, "admin_coupon"),
    staff_post(COUPON, staff_form(save_coupon), "admin_coupon_save"),
    staff_post(COUPON + "/uitschakelen", staff_form(deactivate), "admin_coupon_deactivate"),
    staff_post(COUPON + "/inschakelen", staff_form(activate), "admin_coupon_activate"),
]
