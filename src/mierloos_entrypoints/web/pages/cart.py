"""The cart page, adding tickets of a performance's price categories to the cart, and removing
a line."""

from __future__ import annotations

import uuid

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
from mierloos_entrypoints.web.language import N_, request_language, texts_for
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.seat_cart import forget_seats, read_seats
from mierloos_entrypoints.web.seat_reading import chosen_seat_names, reserved_performances
from mierloos_entrypoints.web.services import WebServices, services

_PER_CATEGORY = "quantity_"
MAX_CATEGORIES = 20  # per performance in one form; more is not a visitor's form
_CATEGORY_REFUSALS = {
    UnavailableReason.UNKNOWN_CATEGORY: 404,
    UnavailableReason.CATEGORY_NOT_FOR_SALE: 422,
    UnavailableReason.CATEGORY_SOLD_OUT: 409,
}


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
    return render(
        request,
        "pages/cart.html",
        {"cart": validation, "seat_names": await seat_names_of(request)},
    )


async def seat_names_of(request: Request) -> dict[tuple[uuid.UUID, uuid.UUID], list[str]]:
    """The chosen seats' names per cart line (performance, category), for the cart's table."""
    chosen = read_seats(request.session)
    if not chosen:
        return {}
    web = services(request)
    return await run_in_threadpool(chosen_seat_names, web.uow(), chosen, request_language(request))


def chosen_quantities(form: FormData, maximum: int) -> list[tuple[uuid.UUID | None, int]]:
    """What the show page's form asks for: (category, quantity) pairs, None the default category.

    A performance with one category posts `quantity` (and `category_id`); one with several posts
    `quantity_<category id>` per category, 0 for those not wanted.
    """
    per_category = [key for key in form if key.startswith(_PER_CATEGORY)]
    if not per_category:
        category_id = _category_field(form.get("category_id"))
        return [(category_id, parse_quantity(form.get("quantity"), maximum))]
    chosen: list[tuple[uuid.UUID | None, int]] = []
    for key in per_category[:MAX_CATEGORIES]:
        category_id = _category_field(key.removeprefix(_PER_CATEGORY))
        value = form.get(key)
        if isinstance(value, str) and value.strip() == "0":
            continue
        chosen.append((category_id, parse_quantity(value, maximum)))
    if not chosen:
        raise BadInput("Kies bij minstens een prijscategorie een aantal kaarten.", field="quantity")
    return chosen


def _category_field(value: object) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    category_id = parse_uuid(value)
    if category_id is None:
        raise BadInput("Onbekende prijscategorie.", field="category_id")
    return category_id


async def add_to_cart(request: Request, form: FormData) -> Response:
    web = services(request)
    policy = web.checkout_policy
    performance_id = parse_uuid(form.get("performance_id"))
    if performance_id is None:
        raise BadInput("Onbekende voorstelling.", field="performance_id")
    chosen = chosen_quantities(form, policy.max_tickets_per_line)
    if await run_in_threadpool(reserved_performances, web.uow(), [performance_id]):
        # numbered seats are chosen on the map (or by best available), never as a bare number
        text = texts_for(request).gettext(
            "Voor deze voorstelling kies je stoelen op de zaalplattegrond."
        )
        return error_page(request, 409, text)

    lines = cart_lines(request)
    keys = {line.key for line in lines}
    new_keys = {(performance_id, category_id) for category_id, _ in chosen} - keys
    if len(lines) + len(new_keys) > policy.max_lines:
        text = texts_for(request).gettext(
            "Je winkelwagen is vol: hoogstens %(count)d voorstellingen per bestelling."
        )
        flash(request, text % {"count": policy.max_lines}, "error")
        return RedirectResponse("/winkelwagen", status_code=303)

    now = web.clock.now()
    changed: list[CartLine] = []
    capped = False
    for category_id, quantity in chosen:
        lines, line, cut = add_line(
            lines,
            performance_id,
            quantity,
            now,
            max_quantity=policy.max_tickets_per_line,
            category_id=category_id,
        )
        changed = [*(c for c in changed if c.key != line.key), line]
        capped = capped or cut
    refused = await _check_lines(request, web, changed)
    if refused is not None:
        return refused
    write_cart(request.session, lines)
    _flash_added(request, capped, sum(quantity for _, quantity in chosen))
    return RedirectResponse("/winkelwagen", status_code=303)


def _flash_added(request: Request, capped: bool, quantity: int) -> None:
    policy = services(request).checkout_policy
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


async def _check_lines(
    request: Request, web: WebServices, lines: list[CartLine]
) -> Response | None:
    """None when the lines can be bought together; else the page that says why not."""
    validation = await run_in_threadpool(
        validate_cart, web.uow(), web.clock.now(), lines, web.checkout_policy.max_tickets_per_line
    )
    if not validation.unavailable:
        return None
    unavailable = validation.unavailable[0]
    reason = unavailable.reason
    if reason is UnavailableReason.UNKNOWN:
        raise HTTPException(status_code=404)
    slug = unavailable.show.slug if unavailable.show else ""
    texts = texts_for(request)
    if reason in _CATEGORY_REFUSALS:
        status, text = _CATEGORY_REFUSALS[reason], N_("%(reason)s Kies een andere prijscategorie.")
    else:
        status, text = 409, N_("%(reason)s Kies een andere voorstelling.")
    return error_page(
        request,
        status,
        texts.gettext(text) % {"reason": texts.gettext(reason.description)},
        back=(f"/voorstellingen/{slug}", N_("Terug naar de voorstelling")) if slug else None,
    )


async def remove_from_cart(request: Request, form: FormData) -> Response:
    performance_id = parse_uuid(form.get("performance_id"))
    if performance_id is None:
        raise BadInput("Onbekende voorstelling.", field="performance_id")
    category_id = _category_field(form.get("category_id"))
    lines = cart_lines(request)
    remaining = remove_line(lines, performance_id, category_id)
    forget_seats(request.session, performance_id, category_id)
    if len(remaining) != len(lines):
        write_cart(request.session, remaining)
        flash(request, N_("De voorstelling is uit je winkelwagen gehaald."), "ok")
    return RedirectResponse("/winkelwagen", status_code=303)
