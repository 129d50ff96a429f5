"""The JSON API under /api: shows, availability, cart validation, checkout and order status.

Bodies are JSON only (415 otherwise), so no cross-site form can post here, and the API never
reads the session cookie. Every error is ``{"error": {"code": ..., "message": ...}}`` with the
domain error's stable code where there is one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mierloos_adapters.i18n import texts
from mierloos_core import errors
from mierloos_core.model.cart import CartLine, CartValidation
from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.orders import LANGUAGES
from mierloos_core.model.timeutil import local
from mierloos_core.services.cart import validate_cart
from mierloos_core.services.catalog import ShowListing, upcoming_shows
from mierloos_core.services.checkout import CheckoutRequest
from mierloos_entrypoints.observability import CHECKOUTS
from mierloos_entrypoints.web.inputs import (
    MAX_COUPON,
    MAX_EMAIL,
    MAX_NAME,
    BadInput,
    client_address,
    coupon_code,
    is_secret,
    is_utf8,
    parse_uuid,
)
from mierloos_entrypoints.web.language import accepted_language
from mierloos_entrypoints.web.openapi import openapi_document
from mierloos_entrypoints.web.order_view import OrderView, load_order_view
from mierloos_entrypoints.web.pages.checkout import open_payment, place
from mierloos_entrypoints.web.pages.orders import current_order
from mierloos_entrypoints.web.rendering import ORDER_STATUS_LABELS
from mierloos_entrypoints.web.services import services

_JSON = "application/json"
_QUANTITY = re.compile(r"[0-9]{1,3}")


# --- input ---------------------------------------------------------------------------------


async def json_object(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != _JSON:
        raise HTTPException(status_code=415)
    body = await request.body()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadInput("De body is geen geldige JSON.") from None
    if not isinstance(data, dict):
        raise BadInput("De body moet een JSON-object zijn.")
    return data


def _only(data: Mapping[str, Any], allowed: set[str], where: str = "") -> None:
    # The unknown name is not echoed: it is the caller's text, and may not even be valid UTF-8.
    if set(data) - allowed:
        raise BadInput(f"Onbekend veld{where}. Toegestaan: {', '.join(sorted(allowed))}.")


def _string(data: Mapping[str, Any], name: str, max_length: int, *, required: bool) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"Het veld {name!r} moet tekst zijn.", field=name)
    if len(value) > max_length:
        raise BadInput(f"Het veld {name!r} mag hoogstens {max_length} tekens bevatten.", field=name)
    if "\x00" in value or not is_utf8(value):
        raise BadInput(f"Het veld {name!r} bevat ongeldige tekens.", field=name)
    return value


def parse_lines(value: object, max_lines: int, now: datetime) -> list[CartLine]:
    """Cart lines from JSON: a list of {performance_id, quantity} objects."""
    if not isinstance(value, list):
        raise BadInput("Het veld 'lines' moet een lijst zijn.", field="lines")
    if len(value) > max_lines:
        raise errors.TooManyLines(maximum=max_lines)
    lines = []
    for entry in value:
        if not isinstance(entry, dict):
            raise BadInput("Elke regel moet een object zijn.", field="lines")
        _only(entry, {"performance_id", "quantity"}, " in een regel")
        performance_id = parse_uuid(entry.get("performance_id"))
        if performance_id is None:
            raise BadInput("Elke regel heeft een geldig 'performance_id' nodig.", field="lines")
        quantity = entry.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise BadInput("Elke regel heeft een geheel getal 'quantity' nodig.", field="lines")
        lines.append(CartLine(performance_id=performance_id, quantity=quantity, added_at=now))
    return lines


# --- output ----------------------------------------------------------------------------------


def money(value: Money) -> dict[str, Any]:
    return {"cents": value.cents, "display": value.display()}


def moment(value: datetime) -> str:
    return local(value).isoformat()


def performance_json(performance: Performance) -> dict[str, Any]:
    return {
        "id": str(performance.id),
        "starts_at": moment(performance.starts_at),
        "hall": performance.hall,
        "price": money(performance.price),
        "available_seats": performance.available_seats,
        "sold_out": performance.sold_out,
    }


def show_json(listing: ShowListing) -> dict[str, Any]:
    show = listing.show
    return {
        "slug": show.slug,
        "title": show.title,
        "description": show.description,
        "url": f"/voorstellingen/{show.slug}",
        "image_url": f"/afbeeldingen/{show.image_id}/md.jpg" if show.image_id else None,
        "first_date": moment(listing.first_date),
        "sold_out": listing.sold_out,
        "performances": [performance_json(p) for p in listing.performances],
    }


def validation_json(validation: CartValidation) -> dict[str, Any]:
    return {
        "valid": [
            {
                "performance_id": str(v.performance.id),
                "quantity": v.line.quantity,
                "show_title": v.show.title,
                "starts_at": moment(v.performance.starts_at),
                "unit_price": money(v.performance.price),
                "total": money(v.total),
            }
            for v in validation.valid
        ],
        "unavailable": [
            {
                "performance_id": str(u.line.performance_id),
                "quantity": u.line.quantity,
                "reason": u.reason.value,
                "message": u.reason.description,
            }
            for u in validation.unavailable
        ],
        "subtotal": money(validation.subtotal),
        "can_check_out": validation.can_check_out,
    }


def order_json(view: OrderView, status_url: str) -> dict[str, Any]:
    return {
        "order_number": view.number,
        "status": view.status.value,
        "status_label": texts(view.language).gettext(
            ORDER_STATUS_LABELS.get(view.status, str(view.status))
        ),
        "language": view.language,
        "status_url": status_url,
        "subtotal": money(view.subtotal),
        "discount": money(view.discount),
        "total": money(view.total),
        "expires_at": moment(view.expires_at) if view.is_pending else None,
        "payment_url": view.payment_url,
        "tickets_ready": view.tickets_ready,
        "lines": [
            {
                "performance_id": str(line.performance_id),
                "show_title": line.show_title,
                "starts_at": moment(line.starts_at) if line.starts_at else None,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "total": money(line.total),
            }
            for line in view.lines
        ],
    }


# --- endpoints -------------------------------------------------------------------------------


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(), headers={"Cache-Control": "public, max-age=300"})


async def shows(request: Request) -> Response:
    web = services(request)
    listings = await run_in_threadpool(upcoming_shows, web.uow(), web.clock.now())
    return JSONResponse({"shows": [show_json(listing) for listing in listings]})


async def availability(request: Request) -> Response:
    web = services(request)
    performance_id = parse_uuid(request.path_params["performance_id"])
    if performance_id is None:
        raise BadInput("Dit is geen geldig voorstellings-id.", field="performance_id")
    maximum = web.checkout_policy.max_tickets_per_line
    raw_quantity = request.query_params.get("quantity", "1")
    if not _QUANTITY.fullmatch(raw_quantity) or not 1 <= int(raw_quantity) <= maximum:
        raise BadInput(f"'quantity' moet een geheel getal van 1 tot {maximum} zijn.")
    quantity = int(raw_quantity)
    line = CartLine(performance_id=performance_id, quantity=quantity, added_at=web.clock.now())
    validation = await run_in_threadpool(validate_cart, web.uow(), web.clock.now(), [line], maximum)
    if validation.valid:
        performance = validation.valid[0].performance
        reason = None
    else:
        unavailable = validation.unavailable[0]
        if unavailable.performance is None:
            raise errors.UnknownPerformance(performance_id=str(performance_id))
        performance = unavailable.performance
        reason = {"code": unavailable.reason.value, "message": unavailable.reason.description}
    return JSONResponse(
        {
            "performance_id": str(performance.id),
            "quantity": quantity,
            "available": reason is None,
            "reason": reason,
            "available_seats": performance.available_seats,
            "starts_at": moment(performance.starts_at),
            "price": money(performance.price),
        }
    )


async def validate(request: Request) -> Response:
    web = services(request)
    data = await json_object(request)
    _only(data, {"lines"})
    policy = web.checkout_policy
    lines = parse_lines(data.get("lines"), policy.max_lines, web.clock.now())
    if not lines:
        return JSONResponse(validation_json(CartValidation(valid=[], unavailable=[])))
    result = await run_in_threadpool(
        validate_cart, web.uow(), web.clock.now(), lines, policy.max_tickets_per_line
    )
    return JSONResponse(validation_json(result))


async def place_order(request: Request) -> Response:
    web = services(request)
    data = await json_object(request)
    _only(data, {"name", "email", "coupon_code", "newsletter", "lines", "language"})
    newsletter = data.get("newsletter", False)
    if not isinstance(newsletter, bool):
        raise BadInput("Het veld 'newsletter' moet true of false zijn.", field="newsletter")
    language = data.get("language")
    if language is None:
        language = accepted_language(request.headers.get("accept-language"))
    elif not isinstance(language, str) or language not in LANGUAGES:
        allowed = ", ".join(LANGUAGES)
        raise BadInput(f"Het veld 'language' moet een van {allowed} zijn.", field="language")
    order_request = CheckoutRequest(
        name=_string(data, "name", MAX_NAME, required=True),
        email=_string(data, "email", MAX_EMAIL, required=True),
        coupon_code=coupon_code(_string(data, "coupon_code", MAX_COUPON, required=False).strip()),
        newsletter=newsletter,
        lines=parse_lines(data.get("lines"), web.checkout_policy.max_lines, web.clock.now()),
        language=language,
    )
    try:
        placed = await run_in_threadpool(place, web, order_request, client_address(request))
    except errors.MierloosError as error:
        CHECKOUTS.labels(error.code).inc()
        raise
    outcome = await run_in_threadpool(open_payment, web, placed.order_id)
    CHECKOUTS.labels(outcome.kind).inc()
    if outcome.kind == "refused":
        raise errors.PermanentFailure(
            "De betaaldienst weigerde deze betaling; de bestelling is geannuleerd."
        )
    status_url = web.settings.base_url + f"/bestelling/{placed.secret}"
    # Opening the payment may lengthen the hold to the provider's own expiry: show the hold.
    view = await run_in_threadpool(load_order_view, web.uow(), placed.secret, web.clock.now())
    expires_at = view.expires_at if view is not None else placed.expires_at
    return JSONResponse(
        {
            "order_number": placed.number,
            "status": "pending",
            "status_url": status_url,
            "api_url": f"/api/orders/{placed.secret}",
            "total": money(placed.total),
            "expires_at": moment(expires_at),
            "payment_url": outcome.checkout_url,
            "payment_deferred": outcome.kind == "deferred",
            "language": language,
        },
        status_code=201,
    )


async def order_status(request: Request) -> Response:
    secret = request.path_params["secret"]
    if not is_secret(secret):
        raise errors.OrderNotFound()
    web = services(request)
    view = await run_in_threadpool(current_order, web, secret)
    if view is None:
        raise errors.OrderNotFound()
    status_url = web.settings.base_url + f"/bestelling/{secret}"
    return JSONResponse(order_json(view, status_url), headers={"X-Robots-Tag": "noindex"})
