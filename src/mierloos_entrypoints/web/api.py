"""The JSON API under /api: shows, availability, cart validation, checkout and order status.

Bodies are JSON only (415 otherwise), so no cross-site form can post here, and the API never
reads the session cookie. Every error is ``{"error": {"code": ..., "message": ...}}`` with the
domain error's stable code where there is one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mierloos_adapters.i18n import texts
from mierloos_core import errors
from mierloos_core.model.cart import CartLine, CartValidation
from mierloos_core.model.catalog import Performance
from mierloos_core.services.cart import validate_cart
from mierloos_core.services.catalog import ShowListing, upcoming_shows
from mierloos_core.services.checkout import CheckoutRequest
from mierloos_core.services.order_views import OrderView
from mierloos_core.services.ordering import CheckoutRefused
from mierloos_entrypoints.observability import CHECKOUTS
from mierloos_entrypoints.web import api_models as models
from mierloos_entrypoints.web.api_refusals import refusal
from mierloos_entrypoints.web.inputs import BadInput, client_address, coupon_code, is_secret
from mierloos_entrypoints.web.language import accepted_language
from mierloos_entrypoints.web.openapi import BODY_ERRORS, Operation, openapi_document
from mierloos_entrypoints.web.rendering import ORDER_STATUS_LABELS
from mierloos_entrypoints.web.services import services

_JSON = "application/json"
M = TypeVar("M", bound=models.ApiModel)


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


def _parse(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise refusal(model, error.errors(include_input=False)[0]) from None


def cart_lines(
    lines: Sequence[models.CartLineInput], max_lines: int, now: datetime
) -> list[CartLine]:
    if len(lines) > max_lines:
        raise errors.TooManyLines(maximum=max_lines)
    return [
        CartLine(performance_id=line.performance_id, quantity=line.quantity, added_at=now)
        for line in lines
    ]


# --- output ----------------------------------------------------------------------------------


def performance_answer(performance: Performance) -> models.Performance:
    return models.Performance(
        id=performance.id,
        starts_at=performance.starts_at,
        hall=performance.hall,
        price=models.Money.of(performance.price),
        available_seats=performance.available_seats,
        sold_out=performance.sold_out,
        capacity=performance.capacity,
        stock=performance.stock,
    )


def show_answer(listing: ShowListing) -> models.Show:
    show = listing.show
    return models.Show(
        slug=show.slug,
        title=show.title,
        description=show.description,
        url=f"/voorstellingen/{show.slug}",
        image_url=f"/afbeeldingen/{show.image_id}/md.jpg" if show.image_id else None,
        first_date=listing.first_date,
        sold_out=listing.sold_out,
        performances=[performance_answer(p) for p in listing.performances],
    )


def validation_answer(validation: CartValidation) -> models.CartValidation:
    return models.CartValidation(
        valid=[
            models.ValidLine(
                performance_id=v.performance.id,
                quantity=v.line.quantity,
                show_title=v.show.title,
                starts_at=v.performance.starts_at,
                unit_price=models.Money.of(v.performance.price),
                total=models.Money.of(v.total),
            )
            for v in validation.valid
        ],
        unavailable=[
            models.UnavailableLine(
                performance_id=u.line.performance_id,
                quantity=u.line.quantity,
                reason=u.reason,
                message=u.reason.description,
            )
            for u in validation.unavailable
        ],
        subtotal=models.Money.of(validation.subtotal),
        can_check_out=validation.can_check_out,
    )


def order_answer(view: OrderView, status_url: str) -> models.Order:
    return models.Order(
        order_number=view.number,
        status=view.status,
        status_label=texts(view.language).gettext(
            ORDER_STATUS_LABELS.get(view.status, str(view.status))
        ),
        language=view.language,
        status_url=status_url,
        subtotal=models.Money.of(view.subtotal),
        discount=models.Money.of(view.discount),
        total=models.Money.of(view.total),
        expires_at=view.expires_at if view.is_pending else None,
        payment_url=view.payment_url,
        tickets_ready=view.tickets_ready,
        lines=[
            models.OrderLine(
                performance_id=line.performance_id,
                show_title=line.show_title,
                starts_at=line.starts_at,
                quantity=line.quantity,
                unit_price=models.Money.of(line.unit_price),
                total=models.Money.of(line.total),
            )
            for line in view.lines
        ],
    )


# --- endpoints -------------------------------------------------------------------------------


async def shows(request: Request) -> models.ShowList:
    web = services(request)
    listings = await run_in_threadpool(upcoming_shows, web.uow(), web.clock.now())
    return models.ShowList(shows=[show_answer(listing) for listing in listings])


async def availability(
    request: Request, parameters: models.AvailabilityParameters
) -> models.Availability:
    web = services(request)
    maximum = web.checkout_policy.max_tickets_per_line
    if parameters.quantity > maximum:
        raise BadInput(f"'quantity' moet een geheel getal van 1 tot {maximum} zijn.")
    performance_id, quantity = parameters.performance_id, parameters.quantity
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
        reason = models.Reason(code=unavailable.reason, message=unavailable.reason.description)
    return models.Availability(
        performance_id=performance.id,
        quantity=quantity,
        available=reason is None,
        reason=reason,
        available_seats=performance.available_seats,
        starts_at=performance.starts_at,
        price=models.Money.of(performance.price),
        capacity=performance.capacity,
        stock=performance.stock,
    )


async def validate(request: Request, body: models.CartInput) -> models.CartValidation:
    web = services(request)
    policy = web.checkout_policy
    lines = cart_lines(body.lines, policy.max_lines, web.clock.now())
    if not lines:
        return validation_answer(CartValidation(valid=[], unavailable=[]))
    result = await run_in_threadpool(
        validate_cart, web.uow(), web.clock.now(), lines, policy.max_tickets_per_line
    )
    return validation_answer(result)


async def place_order(request: Request, body: models.CheckoutInput) -> models.CheckoutResult:
    web = services(request)
    language = body.language or accepted_language(request.headers.get("accept-language"))
    order_request = CheckoutRequest(
        name=body.name,
        email=body.email,
        coupon_code=coupon_code((body.coupon_code or "").strip()),
        newsletter=body.newsletter,
        lines=cart_lines(body.lines, web.checkout_policy.max_lines, web.clock.now()),
        language=language,
    )
    outcome = await run_in_threadpool(
        web.ordering.place_and_pay, order_request, client_address(request)
    )
    if isinstance(outcome, CheckoutRefused):
        CHECKOUTS.labels(outcome.error.code).inc()
        raise outcome.error
    placed, payment = outcome.order, outcome.payment
    CHECKOUTS.labels(payment.kind).inc()
    if payment.kind == "refused":
        raise errors.PermanentFailure(
            "De betaaldienst weigerde deze betaling; de bestelling is geannuleerd."
        )
    status_url = web.settings.base_url + f"/bestelling/{placed.secret}"
    # Opening the payment may lengthen the hold to the provider's own expiry: show the hold.
    view = await run_in_threadpool(web.order_views.find, placed.secret)
    expires_at = view.expires_at if view is not None else placed.expires_at
    return models.CheckoutResult(
        order_number=placed.number,
        status="pending",
        status_url=status_url,
        api_url=f"/api/orders/{placed.secret}",
        total=models.Money.of(placed.total),
        expires_at=expires_at,
        payment_url=payment.checkout_url,
        payment_deferred=payment.kind == "deferred",
        language=language,
    )


async def order_status(request: Request, parameters: models.OrderParameters) -> models.Order:
    secret = parameters.secret
    if not is_secret(secret):
        raise errors.OrderNotFound()
    web = services(request)
    view = await run_in_threadpool(web.order_views.current, secret)
    if view is None:
        raise errors.OrderNotFound()
    status_url = web.settings.base_url + f"/bestelling/{secret}"
    return order_answer(view, status_url)


OPERATIONS = [
    Operation(
        method="GET",
        path="/api/shows",
        operation_id="listShows",
        summary="Upcoming shows with their published performances.",
        handler=shows,
        answer=models.ShowList,
        answer_text="The shows, soonest first.",
    ),
    Operation(
        method="GET",
        path="/api/performances/{performance_id}/availability",
        operation_id="performanceAvailability",
        summary="Can `quantity` seats of this performance be bought now?",
        handler=availability,
        parameters=models.AvailabilityParameters,
        answer=models.Availability,
        answer_text="Availability, with a reason when not.",
        errors=(400, 404),
    ),
    Operation(
        method="POST",
        path="/api/cart/validate",
        operation_id="validateCart",
        summary="Revalidate cart lines: valid ones, and unavailable ones with a reason.",
        handler=validate,
        body=models.CartInput,
        answer=models.CartValidation,
        answer_text="The lines split in valid and unavailable.",
        errors=BODY_ERRORS,
    ),
    Operation(
        method="POST",
        path="/api/checkout",
        operation_id="checkout",
        summary="Place a pending order for the lines and open its payment.",
        description="Every line must be sellable, or nothing is ordered.",
        handler=place_order,
        body=models.CheckoutInput,
        status=201,
        answer=models.CheckoutResult,
        answer_text="The order was placed; go to payment_url.",
        errors=(*BODY_ERRORS, 404, 409, 429, 502, 503),
    ),
    Operation(
        method="GET",
        path="/api/orders/{secret}",
        operation_id="orderStatus",
        summary="An order's status, by the secret from its e-mail link.",
        handler=order_status,
        parameters=models.OrderParameters,
        answer=models.Order,
        answer_text="The order.",
        errors=(404, 503),
        headers={"X-Robots-Tag": "noindex"},
    ),
]

_DOCUMENT = openapi_document(OPERATIONS)


def document() -> dict[str, Any]:
    """The OpenAPI document of the operations above (a fresh copy)."""
    return copy.deepcopy(_DOCUMENT)


async def openapi(request: Request) -> Response:
    return JSONResponse(document(), headers={"Cache-Control": "public, max-age=300"})


def endpoint(operation: Operation) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint of an operation: parses with its models, answers with its model."""

    async def serve(request: Request) -> Response:
        if operation.body is not None:
            answer = await operation.handler(
                request, _parse(operation.body, await json_object(request))
            )
        elif operation.parameters is not None:
            values = {**request.query_params, **request.path_params}
            answer = await operation.handler(request, _parse(operation.parameters, values))
        else:
            answer = await operation.handler(request)
        assert isinstance(answer, operation.answer)
        return JSONResponse(
            answer.model_dump(mode="json"),
            status_code=operation.status,
            headers=dict(operation.headers),
        )

    return serve


def routes() -> list[Route]:
    """The API's routes, the document's first."""
    return [
        Route("/api/openapi.json", openapi, name="api_openapi"),
        *(
            Route(op.path, endpoint(op), methods=[op.method], name=op.operation_id)
            for op in OPERATIONS
        ),
    ]
