"""The JSON API under /api: shows, availability, cart validation, checkout and order status.

Bodies are JSON only (415 otherwise), so no cross-site form can post here, and the API never
reads the session cookie. Every error is ``{"error": {"code": ..., "message": ...}}`` with the
domain error's stable code where there is one.
"""

from __future__ import annotations

import copy
import json
import uuid
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
from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.services.cart import validate_cart
from mierloos_core.services.catalog import ShowListing, upcoming_shows
from mierloos_core.services.checkout import CheckoutRequest
from mierloos_core.services.door_devices import DeviceNotAuthorised
from mierloos_core.services.order_views import OrderView
from mierloos_core.services.ordering import CheckoutRefused
from mierloos_entrypoints.observability import CHECKOUTS
from mierloos_entrypoints.web import api_models as models
from mierloos_entrypoints.web import report_api, seat_api
from mierloos_entrypoints.web.api_refusals import refusal
from mierloos_entrypoints.web.auth import staff_required
from mierloos_entrypoints.web.checkin_api import OPERATIONS as CHECKIN_OPERATIONS
from mierloos_entrypoints.web.checkin_api import bearer_token
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
        CartLine(
            performance_id=line.performance_id,
            category_id=line.category_id,
            quantity=line.quantity,
            added_at=now,
        )
        for line in lines
    ]


def chosen_seats(
    choices: Sequence[models.SeatChoiceInput], max_lines: int
) -> dict[uuid.UUID, tuple[uuid.UUID, ...]]:
    """The chosen seat ids per performance (two choices of one performance joined)."""
    if len(choices) > max_lines:
        raise errors.TooManyLines(maximum=max_lines)
    chosen: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}
    for choice in choices:
        chosen[choice.performance_id] = (*chosen.get(choice.performance_id, ()), *choice.seat_ids)
    return chosen


def refuse_categories(validation: CartValidation) -> None:
    """Raise for the first line that names a category visitors cannot buy: unknown at its
    performance (404) or staff-only (422). A line without a category is only reported."""
    for unavailable in validation.unavailable:
        line, category = unavailable.line, unavailable.category
        if line.category_id is None or unavailable.performance is None:
            continue
        details = {"performance_id": str(line.performance_id), "category_id": str(line.category_id)}
        if category is None:
            raise errors.UnknownPriceCategory(**details)
        if not category.public:
            raise errors.PriceCategoryNotForSale(**details)


# --- output ----------------------------------------------------------------------------------


def category_answer(category: PriceCategory, language: str) -> models.Category:
    return models.Category(
        id=category.id,
        name=category.name(language),
        name_nl=category.name_nl,
        name_en=category.name_en,
        price=models.Money.of(category.price),
        limited=category.limited,
        available_seats=category.available,
        limit=category.limit,
        stock=category.stock,
    )


def performance_answer(
    performance: Performance, categories: list[PriceCategory], language: str
) -> models.Performance:
    return models.Performance(
        id=performance.id,
        starts_at=performance.starts_at,
        hall=performance.hall,
        price=models.Money.of(performance.price),
        available_seats=performance.available_seats,
        sold_out=performance.sold_out,
        capacity=performance.capacity,
        stock=performance.stock,
        categories=[category_answer(category, language) for category in categories],
    )


def show_answer(listing: ShowListing, language: str) -> models.Show:
    show = listing.show
    return models.Show(
        slug=show.slug,
        title=show.title,
        description=show.description,
        url=f"/voorstellingen/{show.slug}",
        image_url=f"/afbeeldingen/{show.image_id}/md.jpg" if show.image_id else None,
        first_date=listing.first_date,
        sold_out=listing.sold_out,
        performances=[
            performance_answer(p, listing.categories_of(p), language) for p in listing.performances
        ],
    )


def validation_answer(validation: CartValidation, language: str) -> models.CartValidation:
    return models.CartValidation(
        valid=[
            models.ValidLine(
                performance_id=v.performance.id,
                category_id=v.category.id,
                category_name=v.category.name(language),
                quantity=v.line.quantity,
                show_title=v.show.title,
                starts_at=v.performance.starts_at,
                unit_price=models.Money.of(v.unit_price),
                total=models.Money.of(v.total),
            )
            for v in validation.valid
        ],
        unavailable=[
            models.UnavailableLine(
                performance_id=u.line.performance_id,
                category_id=u.line.category_id,
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
                category_name=line.category_name,
                show_title=line.show_title,
                starts_at=line.starts_at,
                quantity=line.quantity,
                unit_price=models.Money.of(line.unit_price),
                total=models.Money.of(line.total),
                seats=list(line.seats),
            )
            for line in view.lines
        ],
    )


# --- endpoints -------------------------------------------------------------------------------


async def shows(request: Request) -> models.ShowList:
    web = services(request)
    listings = await run_in_threadpool(upcoming_shows, web.uow(), web.clock.now())
    language = accepted_language(request.headers.get("accept-language"))
    return models.ShowList(shows=[show_answer(listing, language) for listing in listings])


async def availability(
    request: Request, parameters: models.AvailabilityParameters
) -> models.Availability:
    web = services(request)
    maximum = web.checkout_policy.max_tickets_per_line
    if parameters.quantity > maximum:
        raise BadInput(f"'quantity' moet een geheel getal van 1 tot {maximum} zijn.")
    performance_id, quantity = parameters.performance_id, parameters.quantity
    line = CartLine(
        performance_id=performance_id,
        category_id=parameters.category_id,
        quantity=quantity,
        added_at=web.clock.now(),
    )
    validation = await run_in_threadpool(validate_cart, web.uow(), web.clock.now(), [line], maximum)
    refuse_categories(validation)
    category: PriceCategory | None
    if validation.valid:
        found, reason = validation.valid[0], None
        performance, category = found.performance, found.category
    else:
        unavailable = validation.unavailable[0]
        if unavailable.performance is None:
            raise errors.UnknownPerformance(performance_id=str(performance_id))
        performance, category = unavailable.performance, unavailable.category
        reason = models.Reason(code=unavailable.reason, message=unavailable.reason.description)
    if category is not None and not category.public:
        category = None
    language = accepted_language(request.headers.get("accept-language"))
    return models.Availability(
        performance_id=performance.id,
        quantity=quantity,
        available=reason is None,
        reason=reason,
        available_seats=performance.available_seats,
        starts_at=performance.starts_at,
        price=models.Money.of(category.price if category else performance.price),
        capacity=performance.capacity,
        stock=performance.stock,
        category=category_answer(category, language) if category else None,
    )


async def validate(request: Request, body: models.CartInput) -> models.CartValidation:
    web = services(request)
    policy = web.checkout_policy
    lines = cart_lines(body.lines, policy.max_lines, web.clock.now())
    language = accepted_language(request.headers.get("accept-language"))
    if not lines:
        return validation_answer(CartValidation(valid=[], unavailable=[]), language)
    result = await run_in_threadpool(
        validate_cart, web.uow(), web.clock.now(), lines, policy.max_tickets_per_line
    )
    refuse_categories(result)
    return validation_answer(result, language)


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
        seats=chosen_seats(body.seats, web.checkout_policy.max_lines),
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
        summary="Can `quantity` seats of this performance (of `category_id`, else its default"
        " category) be bought now?",
        handler=availability,
        parameters=models.AvailabilityParameters,
        answer=models.Availability,
        answer_text="Availability, with a reason when not.",
        errors=(400, 404, 422),
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
        description="A line naming a category that the performance does not have (404) or"
        " that is not for sale to visitors (422) is refused.",
        errors=(*BODY_ERRORS, 404),
    ),
    Operation(
        method="POST",
        path="/api/checkout",
        operation_id="checkout",
        summary="Place a pending order for the lines (and chosen seats) and open its payment.",
        description="Every line must be sellable, or nothing is ordered. Chosen seats that are"
        " not in the plan, blocked or taken, a wheelchair companion seat without its wheelchair"
        " place, or more seats than the maximum are refused (409/422) naming the seats; no row"
        " with the asked number of seats side by side is a 409 `no_adjacent_seats`.",
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
    *CHECKIN_OPERATIONS,
]

OPERATIONS += report_api.OPERATIONS
OPERATIONS += seat_api.OPERATIONS

_DOCUMENT = openapi_document(OPERATIONS)


def document() -> dict[str, Any]:
    """The OpenAPI document of the operations above (a fresh copy)."""
    return copy.deepcopy(_DOCUMENT)


async def openapi(request: Request) -> Response:
    return JSONResponse(document(), headers={"Cache-Control": "public, max-age=300"})


def endpoint(operation: Operation) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint of an operation: parses with its models, answers with its model."""

    async def serve(request: Request) -> Response:
        if operation.device_token and not bearer_token(request):
            raise DeviceNotAuthorised()  # before the body: no token, nothing read or told
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
            Route(
                op.path,
                staff_required(endpoint(op)) if op.staff else endpoint(op),
                methods=[op.method],
                name=op.operation_id,
            )
            for op in OPERATIONS
        ),
    ]
