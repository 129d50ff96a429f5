"""The checkout form: name, e-mail, coupon, newsletter; then on to the payment page.

The order is placed for the cart's valid lines only, and only if they are still the lines the
visitor saw on the form (a hidden fingerprint), so nobody pays for less than they chose.
"""

from __future__ import annotations

import hashlib
from typing import Any

import attrs
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core import errors
from mierloos_core.model.cart import CartValidation
from mierloos_core.services.checkout import CheckoutRequest
from mierloos_core.services.ordering import CheckoutRefused, OrderPlaced
from mierloos_entrypoints.observability import CHECKOUTS
from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.cart_session import write_cart
from mierloos_entrypoints.web.errors import status_for
from mierloos_entrypoints.web.inputs import (
    MAX_COUPON,
    MAX_EMAIL,
    MAX_NAME,
    BadInput,
    checkbox,
    client_address,
    coupon_code,
    text,
)
from mierloos_entrypoints.web.language import N_, request_language
from mierloos_entrypoints.web.pages.cart import seat_names_of, validated_cart
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.seat_cart import chosen_seats, clear_seats
from mierloos_entrypoints.web.seat_refusals import seat_refusal
from mierloos_entrypoints.web.services import services

DEFERRED_MESSAGE = N_(
    "Je bestelling is ontvangen en je plaatsen zijn gereserveerd. De betaalpagina is even niet "
    "bereikbaar: we sturen je de betaallink per e-mail zodra die er is."
)
REFUSED_MESSAGE = N_(
    "De betaaldienst weigerde deze betaling, dus je bestelling is geannuleerd en er is niets "
    "afgeschreven. Je kaarten staan nog in je winkelwagen: probeer het opnieuw, of neem contact "
    "op met de kassa."
)


@attrs.frozen(kw_only=True)
class CheckoutForm:
    name: str = ""
    email: str = ""
    coupon: str = ""
    newsletter: bool = False


def cart_fingerprint(cart: CartValidation) -> str:
    """Identifies the valid lines (performance, category, its price and the quantity) the form
    was shown with."""
    key = ",".join(
        sorted(
            f"{v.performance.id}:{v.category.id}:{v.unit_price.cents}:{v.line.quantity}"
            for v in cart.valid
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _form_page(
    request: Request,
    cart: CartValidation,
    form: CheckoutForm,
    *,
    error: str | None = None,
    field: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "cart": cart,
        "form": form,
        "error": error,
        "error_field": field,
        "fingerprint": cart_fingerprint(cart),
        "limits": {"name": MAX_NAME, "email": MAX_EMAIL, "coupon": MAX_COUPON},
        "seat_names": getattr(request.state, "seat_names", {}),
    }
    return render(request, "pages/checkout.html", context, status_code=status_code)


async def checkout_form(request: Request) -> Response:
    cart = await validated_cart(request)
    request.state.seat_names = await seat_names_of(request)
    if not cart.can_check_out:
        flash(request, N_("Er staat niets in je winkelwagen dat je nog kunt bestellen."), "error")
        return RedirectResponse("/winkelwagen", status_code=303)
    return _form_page(request, cart, CheckoutForm())


async def place_order(request: Request, form: FormData) -> Response:
    web = services(request)
    kept = CheckoutForm(
        name=_kept(form, "name", MAX_NAME),
        email=_kept(form, "email", MAX_EMAIL),
        coupon=_kept(form, "coupon", MAX_COUPON),
        newsletter=checkbox(form, "newsletter"),
    )
    cart = await validated_cart(request)
    if not cart.can_check_out:
        flash(request, N_("Er staat niets in je winkelwagen dat je nog kunt bestellen."), "error")
        return RedirectResponse("/winkelwagen", status_code=303)
    request.state.seat_names = await seat_names_of(request)
    try:
        name = text(form, "name", max_length=MAX_NAME, required=True)
        email = text(form, "email", max_length=MAX_EMAIL, required=True)
        coupon = coupon_code(text(form, "coupon", max_length=MAX_COUPON))
        seen = text(form, "cart_version", max_length=64)
    except BadInput as bad:
        return _form_page(request, cart, kept, error=bad.message, field=bad.field, status_code=400)
    if seen != cart_fingerprint(cart):
        return _form_page(
            request,
            cart,
            kept,
            error=N_(
                "Je winkelwagen is intussen veranderd. Controleer je bestelling en bevestig "
                "opnieuw."
            ),
            status_code=409,
        )
    user = await current_user(request)
    seats = chosen_seats(request.session, cart)
    order_request = CheckoutRequest(
        email=email,
        name=name,
        # a reserved performance's tickets are its chosen seats, which the core counts itself
        lines=[valid.line for valid in cart.valid if valid.line.performance_id not in seats],
        seats=seats,
        coupon_code=coupon,
        newsletter=kept.newsletter,
        user_id=user.id if user else None,  # so the order shows under "Mijn account"
        language=request_language(request),  # its e-mails and tickets speak the buyer's
    )
    outcome = await run_in_threadpool(
        web.ordering.place_and_pay, order_request, client_address(request)
    )
    if isinstance(outcome, CheckoutRefused):
        return _refused_page(request, cart, kept, outcome.error)
    return _to_payment(request, outcome)


def _refused_page(
    request: Request, cart: CartValidation, kept: CheckoutForm, error: errors.MierloosError
) -> Response:
    """The form again, with the core's reason next to the field it is about."""
    CHECKOUTS.labels(error.code).inc()
    if isinstance(error, errors.SeatsUnavailable | errors.NoAdjacentSeats):
        message, status = seat_refusal(request, error)
        return _form_page(request, cart, kept, error=message, status_code=status)
    field = "coupon" if isinstance(error, errors.CouponInvalid) else None
    if isinstance(error, errors.InvalidEmail):
        field = "email"
    elif isinstance(error, errors.InvalidName):
        field = "name"
    return _form_page(
        request, cart, kept, error=error.message, field=field, status_code=status_for(error)
    )


def _to_payment(request: Request, placed: OrderPlaced) -> Response:
    """On to the provider's page; the cart is emptied unless the provider refused."""
    outcome = placed.payment
    CHECKOUTS.labels(outcome.kind).inc()
    if outcome.kind != "refused":
        write_cart(request.session, [])
        clear_seats(request.session)
    order_page = f"/bestelling/{placed.order.secret}"
    if outcome.kind == "refused":
        flash(request, REFUSED_MESSAGE, "error")
        return RedirectResponse("/winkelwagen", status_code=303)
    if outcome.kind == "deferred":
        flash(request, DEFERRED_MESSAGE, "warning")
    return RedirectResponse(outcome.checkout_url or order_page, status_code=303)


def _kept(form: FormData, name: str, limit: int) -> str:
    """What the visitor typed, to show again (cut to the field's limit)."""
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""
