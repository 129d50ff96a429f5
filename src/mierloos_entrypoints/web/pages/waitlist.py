"""The waiting list for visitors: join on a sold-out performance, the personal page (place on
the list, leave), and the offer page where the seats held for them are bought.

The personal link (`/wachtlijst/{token}`) only ever travels by e-mail: joining answers with
"check your mail", so typing someone else's address gives no access to their entry. The offer
link is the offer order's secret (`/wachtlijst/aanbod/{secret}`). Both pages send no Referer and
are never cached; the logs cut the secret out (`log_redaction`).
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core import errors
from mierloos_core.services.waitlist import JoinRequest
from mierloos_entrypoints.web.errors import status_for
from mierloos_entrypoints.web.inputs import (
    MAX_EMAIL,
    MAX_NAME,
    BadInput,
    client_address,
    is_secret,
    is_slug,
    parse_quantity,
    parse_uuid,
    text,
)
from mierloos_entrypoints.web.language import N_, request_language
from mierloos_entrypoints.web.pages.checkout import DEFERRED_MESSAGE
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.services import services

PRIVATE = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
JOINS_PER_CLIENT = 10  # per JOIN_WINDOW, like the other public forms' throttles
JOIN_WINDOW = timedelta(hours=1)
GONE = 410
REFUSED_MESSAGE = N_(
    "De betaaldienst weigerde deze betaling, dus er is niets afgeschreven. Neem contact op met "
    "de kassa als je de kaarten toch wilt."
)


def _secret(request: Request, name: str) -> str:
    value = str(request.path_params[name])
    if not is_secret(value):
        raise HTTPException(status_code=404)
    return value


def _refused(request: Request, message: str, status_code: int, slug: str = "") -> Response:
    context = {"message": message, "slug": slug if is_slug(slug) else ""}
    return render(request, "pages/waitlist_refused.html", context, status_code=status_code)


async def join(request: Request, form: FormData) -> Response:
    web = services(request)
    slug = text(form, "slug", max_length=200)
    if text(form, "website", max_length=200):  # the honeypot: people never see it
        return _refused(request, N_("Je aanmelding kon niet verwerkt worden."), 400, slug)
    performance_id = parse_uuid(form.get("performance"))
    category_id = parse_uuid(form.get("category_id")) if form.get("category_id") else None
    if performance_id is None or (form.get("category_id") and category_id is None):
        return _refused(request, N_("Deze voorstelling bestaat niet."), 404, slug)
    try:
        email = text(form, "email", max_length=MAX_EMAIL, required=True)
        quantity = parse_quantity(form.get("quantity"), web.checkout_policy.max_tickets_per_line)
    except BadInput as bad:
        return _refused(request, bad.message, 400, slug)
    key = f"waitlist-join:{client_address(request)}"
    if not await run_in_threadpool(web.limiter.allow, key, JOINS_PER_CLIENT, JOIN_WINDOW):
        return _refused(request, errors.TooManyAttempts.message, 429, slug)
    request_ = JoinRequest(
        performance_id=performance_id,
        email=email,
        quantity=quantity,
        category_id=category_id,
        language=request_language(request),
    )
    try:
        joined = await run_in_threadpool(web.waitlists.join, request_)
    except errors.MierloosError as refused:
        return _refused(request, refused.message, status_for(refused), slug)
    context = {"position": joined.position, "email": joined.entry.email, "slug": slug}
    return render(request, "pages/waitlist_joined.html", context, headers=PRIVATE)


async def entry_page(request: Request) -> Response:
    token = _secret(request, "token")
    web = services(request)
    try:
        view = await run_in_threadpool(web.waitlists.view, token)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    offer_open = (
        view.offer is not None and view.offer.status.value == "pending"
    ) and not view.offer.is_overdue(web.clock.now())
    context = {"view": view, "token": token, "offer_open": offer_open}
    return render(request, "pages/waitlist_entry.html", context, headers=PRIVATE)


async def leave(request: Request, form: FormData) -> Response:
    token = _secret(request, "token")
    web = services(request)
    try:
        await run_in_threadpool(web.waitlists.leave, token)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    flash(request, N_("Je staat niet meer op de wachtlijst."), "ok")
    return RedirectResponse(f"/wachtlijst/{token}", status_code=303)


async def offer_page(request: Request) -> Response:
    secret = _secret(request, "secret")
    return await _offer_form(request, secret)


async def _offer_form(
    request: Request, secret: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    web = services(request)
    try:
        order, view = await run_in_threadpool(web.waitlists.offer, secret)
    except (errors.OfferGone, errors.OfferUsed) as closed:
        return _closed_offer(request, closed)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    context = {"order": order, "view": view, "secret": secret, "error": error, "max_name": MAX_NAME}
    return render(
        request, "pages/waitlist_offer.html", context, status_code=status_code, headers=PRIVATE
    )


def _closed_offer(request: Request, closed: errors.MierloosError) -> Response:
    status_code = GONE if isinstance(closed, errors.OfferGone) else 409
    return render(
        request,
        "pages/waitlist_refused.html",
        {"message": closed.message, "slug": ""},
        status_code=status_code,
        headers=PRIVATE,
    )


async def accept_offer(request: Request, form: FormData) -> Response:
    secret = _secret(request, "secret")
    web = services(request)
    try:
        name = text(form, "name", max_length=MAX_NAME, required=True)
        order_id = await run_in_threadpool(web.waitlists.accept, secret, name)
    except BadInput as bad:
        return await _offer_form(request, secret, error=bad.message, status_code=400)
    except (errors.OfferGone, errors.OfferUsed) as closed:
        return _closed_offer(request, closed)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    except errors.ValidationError as bad:
        return await _offer_form(request, secret, error=bad.message, status_code=422)
    payment = await run_in_threadpool(web.ordering.pay, order_id)
    order_page = f"/bestelling/{secret}"
    if payment.kind == "refused":
        flash(request, REFUSED_MESSAGE, "error")
    elif payment.kind == "deferred":
        flash(request, DEFERRED_MESSAGE, "warning")
    return RedirectResponse(payment.checkout_url or order_page, status_code=303)
