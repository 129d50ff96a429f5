"""The counter (kassa) pages: sell, take a phone booking, mark one paid, print the tickets.

Every refusal of the core (sold out, a category of another performance, free without a
reason, ...) shows the counter page again with the staff's input kept, its message on top and
the error's own HTTP status (409 for seats that are gone).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.model.accounts import User
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import PaymentMethod
from mierloos_core.services.counter import (
    MARK_PAID_METHODS,
    SALE_METHODS,
    CounterOrder,
    CounterSale,
    PhoneBooking,
)
from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.errors import status_for
from mierloos_entrypoints.web.inputs import MAX_EMAIL, MAX_NAME, BadInput, parse_uuid, text
from mierloos_entrypoints.web.pages.admin.counter_seats import (
    MAX_SEATS,
    chosen_seat_ids,
    counter_seat_map,
)
from mierloos_entrypoints.web.pages.admin.forms import staff_form
from mierloos_entrypoints.web.pages.admin.jobs import moment
from mierloos_entrypoints.web.rendering import ORDER_STATUS_LABELS, flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.security import csrf_protected
from mierloos_entrypoints.web.services import services

METHOD_LABELS = {
    PaymentMethod.MOLLIE: "Online (Mollie)",
    PaymentMethod.CASH: "Contant",
    PaymentMethod.PIN: "Pin",
    PaymentMethod.FREE: "Gratis",
    PaymentMethod.TRANSFER: "Overboeking",
    PaymentMethod.AT_COUNTER: "Nog te betalen aan de kassa",
}
QUANTITY_FIELD = "aantal-"
_QUANTITY = re.compile(r"[0-9]{1,3}")
COUNTER = "/beheer/kassa"


def order_path(order_id: uuid.UUID) -> str:
    return f"{COUNTER}/bestellingen/{order_id}"


async def _staff(request: Request) -> User:
    user = await current_user(request)
    assert user is not None  # staff_required let the request in
    return user


def _lines(form: FormData, performance_id: uuid.UUID) -> list[CartLine]:
    """The form's `aantal-<category id>` fields: a line per category with a quantity over 0."""
    lines = []
    for name, value in form.multi_items():
        if not name.startswith(QUANTITY_FIELD):
            continue
        category_id = parse_uuid(name.removeprefix(QUANTITY_FIELD))
        raw = value.strip() if isinstance(value, str) else ""
        if category_id is None:
            raise BadInput("Deze prijscategorie bestaat niet.", field=name)
        if raw == "":
            continue
        if not _QUANTITY.fullmatch(raw):
            raise BadInput("Vul bij elk aantal een heel getal in (0 of meer).", field=name)
        if int(raw):
            lines.append(
                CartLine(performance_id=performance_id, category_id=category_id, quantity=int(raw))
            )
    return lines


def _performance(form: FormData) -> uuid.UUID:
    performance_id = parse_uuid(form.get("performance"))
    if performance_id is None:
        raise BadInput("Kies een voorstelling.", field="performance")
    return performance_id


def _request_key(form: FormData) -> str:
    """The form's own key (a fresh one each time the page is shown): sent twice, it acts once."""
    return text(form, "request_key", max_length=64, required=True)


def _method(form: FormData, allowed: tuple[PaymentMethod, ...]) -> PaymentMethod:
    raw = form.get("method")
    for method in allowed:
        if raw == method.value:
            return method
    raise BadInput("Kies hoe er betaald is.", field="method")


async def counter_page(
    request: Request,
    *,
    chosen: uuid.UUID | None = None,
    form: FormData | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    web = services(request)
    if chosen is None:
        chosen = parse_uuid(request.query_params.get("voorstelling"))
    for_sale = await run_in_threadpool(web.counter.for_sale)
    bookings = await run_in_threadpool(web.counter.open_bookings)
    selected = next((p for p in for_sale if p.performance.id == chosen), None)
    values: dict[str, Any] = dict(form.items()) if form is not None else {}
    seat_context = await counter_seat_map(request, selected.performance.id) if selected else {}
    return render(
        request,
        "admin/counter.html",
        {
            "for_sale": for_sale,
            "selected": selected,
            "bookings": bookings,
            "values": values,
            "error": error,
            "sale_methods": [(m.value, METHOD_LABELS[m]) for m in SALE_METHODS],
            "paid_methods": [(m.value, METHOD_LABELS[m]) for m in MARK_PAID_METHODS],
            "quantity_field": QUANTITY_FIELD,
            "request_key": secrets.token_urlsafe(16),
            "moment": moment,
            **seat_context,
        },
        status_code=status_code,
    )


async def counter(request: Request) -> Response:
    return await counter_page(request)


async def _refused(
    request: Request, error: errors.MierloosError, performance_id: uuid.UUID, form: FormData
) -> Response:
    return await counter_page(
        request,
        chosen=performance_id,
        form=form,
        error=error.message,
        status_code=status_for(error),
    )


async def _placed(
    request: Request,
    form: FormData,
    performance_id: uuid.UUID,
    place: Callable[[], CounterOrder],
    done: str,
) -> Response:
    """Run the sale or booking; its order's counter page, or the counter page with why not."""
    try:
        placed = await run_in_threadpool(place)
    except errors.MierloosError as error:
        return await _refused(request, error, performance_id, form)
    flash(request, f"{done}: bestelling {placed.number}, {placed.tickets} kaart(en).", "ok")
    return RedirectResponse(order_path(placed.order_id), status_code=303)


async def sell(request: Request, form: FormData) -> Response:
    performance_id = _performance(form)
    staff = await _staff(request)
    seats = chosen_seat_ids(form)
    sale = CounterSale(
        seats={performance_id: seats} if seats else {},
        lines=_lines(form, performance_id),
        method=_method(form, SALE_METHODS),
        staff_id=staff.id,
        free_reason=text(form, "free_reason", max_length=500),
        name=text(form, "name", max_length=MAX_NAME),
        email=text(form, "email", max_length=MAX_EMAIL),
        request_key=_request_key(form),
    )
    counter = services(request).counter
    return await _placed(request, form, performance_id, lambda: counter.sell(sale), "Verkocht")


async def reserve(request: Request, form: FormData) -> Response:
    performance_id = _performance(form)
    staff = await _staff(request)
    booking = PhoneBooking(
        lines=_lines(form, performance_id),
        staff_id=staff.id,
        name=text(form, "name", max_length=MAX_NAME),
        email=text(form, "email", max_length=MAX_EMAIL),
        phone=text(form, "phone", max_length=40),
        request_key=_request_key(form),
    )
    counter = services(request).counter
    return await _placed(
        request, form, performance_id, lambda: counter.reserve(booking), "Gereserveerd"
    )


def _order_id(request: Request) -> uuid.UUID:
    order_id: uuid.UUID = request.path_params["order_id"]  # the route's uuid converter
    return order_id


async def mark_paid(request: Request, form: FormData) -> Response:
    order_id = _order_id(request)
    method = _method(form, MARK_PAID_METHODS)
    staff = await _staff(request)
    web = services(request)
    try:
        paid = await run_in_threadpool(web.counter.mark_paid, order_id, method, staff.id)
    except errors.InvalidTransition as error:
        return await order_page(request, error=error.message, status_code=status_for(error))
    flash(request, f"Bestelling {paid.number} is betaald ({METHOD_LABELS[paid.payment_method]}).")
    return RedirectResponse(order_path(order_id), status_code=303)


async def order_page(
    request: Request, *, error: str | None = None, status_code: int = 200
) -> Response:
    web = services(request)
    detail = await run_in_threadpool(web.staff_orders.detail, _order_id(request))
    return render(
        request,
        "admin/counter_order.html",
        {
            "detail": detail,
            "order": detail.order,
            "error": error,
            "statuses": ORDER_STATUS_LABELS,
            "methods": METHOD_LABELS,
            "paid_methods": [(m.value, METHOD_LABELS[m]) for m in MARK_PAID_METHODS],
            "moment": moment,
        },
        status_code=status_code,
    )


async def order(request: Request) -> Response:
    return await order_page(request)


async def tickets_pdf(request: Request) -> Response:
    """The paid order's tickets, rendered now: four to an A4 sheet, or on a receipt."""
    web = services(request)
    layout = request.path_params["layout"]
    download = await run_in_threadpool(web.tickets.print_now, _order_id(request), layout)
    assert download.data is not None
    return Response(
        download.data,
        media_type=download.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{download.filename}"',
            "Cache-Control": "no-store",
        },
    )


ORDER = COUNTER + "/bestellingen/{order_id:uuid}"

ROUTES: list[BaseRoute] = [
    staff_page(COUNTER, counter, "counter"),
    # a field per ticked seat at most
    staff_post(COUNTER + "/verkopen", staff_form(sell, fields=MAX_SEATS + 30), "counter_sell"),
    staff_post(COUNTER + "/reserveren", csrf_protected(reserve), "counter_reserve"),
    staff_page(ORDER, order, "counter_order"),
    staff_post(ORDER + "/betaald", csrf_protected(mark_paid), "counter_mark_paid"),
    staff_page(ORDER + "/kaarten-{layout:str}.pdf", tickets_pdf, "counter_tickets_pdf"),
]
