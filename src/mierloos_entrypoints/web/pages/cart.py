"""The cart page, adding a performance to the cart and removing a line."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core.model.cart import CartLine, CartValidation
from mierloos_core.model.catalog import UnavailableReason
from mierloos_core.services.cart import validate_cart
from mierloos_entrypoints.web.cart_session import add_line, read_cart, remove_line, write_cart
from mierloos_entrypoints.web.errors import error_page
from mierloos_entrypoints.web.inputs import BadInput, parse_quantity, parse_uuid
from mierloos_entrypoints.web.language import N_, texts_for
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.services import WebServices, services


def cart_lines(request: Request) -> list[CartLine]:
    policy = services(request).checkout_policy
    return read_cart(
        request.session, max_lines=policy.max_lines, max_quantity=policy.max_tickets_per_line
    )


async def validated_cart(request: Request) -> CartValidation:
    """The session's cart checked against the catalogue now."""
    web = services(request)
    lines = cart_lines(request)
    if not lines:
        return CartValidation(valid=[], unavailable=[])
    return await run_in_threadpool(
        validate_cart, web.uow(), web.clock.now(), lines, web.checkout_policy.max_tickets_per_line
    )


async def cart_page(request: Request) -> Response:
    validation = await validated_cart(request)
    return render(request, "pages/cart.html", {"cart": validation})


async def add_to_cart(request: Request, form: FormData) -> Response:
    web = services(request)
    policy = web.checkout_policy
    performance_id = parse_uuid(form.get("performance_id"))
    if performance_id is None:
        raise BadInput("Onbekende voorstelling.", field="performance_id")
    quantity = parse_quantity(form.get("quantity"), policy.max_tickets_per_line)

    lines = cart_lines(request)
    if len(lines) >= policy.max_lines and all(
        line.performance_id != performance_id for line in lines
    ):
        text = texts_for(request).gettext(
            "Je winkelwagen is vol: hoogstens %(count)d voorstellingen per bestelling."
        )
        flash(request, text % {"count": policy.max_lines}, "error")
        return RedirectResponse("/winkelwagen", status_code=303)

    now = web.clock.now()
    lines, line, capped = add_line(
        lines, performance_id, quantity, now, max_quantity=policy.max_tickets_per_line
    )
    check = await _check_line(web, line)
    if check is not None:
        reason, slug = check
        if reason is UnavailableReason.UNKNOWN:
            raise HTTPException(status_code=404)
        return error_page(
            request,
            409,
            texts_for(request).gettext("%(reason)s Kies een andere voorstelling.")
            % {"reason": texts_for(request).gettext(reason.description)},
            back=(f"/voorstellingen/{slug}", N_("Terug naar de voorstelling")) if slug else None,
        )
    write_cart(request.session, lines)
    if capped:
        text = texts_for(request).gettext(
            "Je kunt hoogstens %(count)d kaarten per voorstelling bestellen."
        )
        flash(request, text % {"count": policy.max_tickets_per_line}, "warning")
    else:
        text = texts_for(request).ngettext(
            "%(count)d kaart toegevoegd.", "%(count)d kaarten toegevoegd.", quantity
        )
        flash(request, text % {"count": quantity}, "ok")
    return RedirectResponse("/winkelwagen", status_code=303)


async def _check_line(web: WebServices, line: CartLine) -> tuple[UnavailableReason, str] | None:
    validation = await run_in_threadpool(
        validate_cart, web.uow(), web.clock.now(), [line], web.checkout_policy.max_tickets_per_line
    )
    if not validation.unavailable:
        return None
    unavailable = validation.unavailable[0]
    return unavailable.reason, unavailable.show.slug if unavailable.show else ""


async def remove_from_cart(request: Request, form: FormData) -> Response:
    performance_id = parse_uuid(form.get("performance_id"))
    if performance_id is None:
        raise BadInput("Onbekende voorstelling.", field="performance_id")
    lines = cart_lines(request)
    remaining = remove_line(lines, performance_id)
    if len(remaining) != len(lines):
        write_cart(request.session, remaining)
        flash(request, N_("De voorstelling is uit je winkelwagen gehaald."), "ok")
    return RedirectResponse("/winkelwagen", status_code=303)
