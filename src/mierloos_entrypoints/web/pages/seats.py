"""Choosing numbered seats of a performance with reserved seating: the map page, the chosen
seats into the cart, and "best available" (a number of seats and a zone).

The seats go into the cart as the visitor's choice, checked here against the seats as they
are now (in the plan, not blocked, not taken, a category visitors may buy, the companion
rule, at most the order maximum), every refused seat named in one answer (409, or 422 for
too many) and nothing changed. Holding them is the checkout's work: it takes exactly these
seats with one conditional update, so a seat taken in between is refused there, by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mierloos_core import errors
from mierloos_core.model.seating import SeatState, best_available
from mierloos_core.model.seating.requests import check_chosen
from mierloos_entrypoints.web.cart_session import write_cart
from mierloos_entrypoints.web.errors import error_page
from mierloos_entrypoints.web.inputs import BadInput, parse_quantity, parse_uuid
from mierloos_entrypoints.web.language import request_language, texts_for
from mierloos_entrypoints.web.pages.cart import cart_lines
from mierloos_entrypoints.web.pages.catalog import performance_listing
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.seat_cart import choose_seats, seats_of
from mierloos_entrypoints.web.seat_map import attribute_words, legend_items, render_seat_map
from mierloos_entrypoints.web.seat_reading import PerformanceSeating, performance_seating
from mierloos_entrypoints.web.seat_refusals import seat_refusal
from mierloos_entrypoints.web.security import Endpoint, FormHandler, csrf_protected
from mierloos_entrypoints.web.services import services

SEAT_PAGE = "/voorstellingen/{slug}/{performance_id}/stoelen"
MAX_SEAT_FIELDS = 120  # a form with more chosen seats than this is not a visitor's


def seat_form(handler: FormHandler) -> Endpoint:
    """`csrf_protected`, with room for a field per chosen seat (the limit is checked after)."""
    checked = csrf_protected(handler)

    async def endpoint(request: Request) -> Response:
        await request.form(max_fields=MAX_SEAT_FIELDS)
        return await checked(request)

    endpoint.__name__ = handler.__name__
    endpoint.csrf_protected = True  # type: ignore[attr-defined]
    return endpoint


async def _seating(request: Request, performance_id: uuid.UUID) -> PerformanceSeating:
    web = services(request)
    found = await run_in_threadpool(
        performance_seating, web.uow(), performance_id, request_language(request)
    )
    if found is None:
        raise HTTPException(status_code=404)
    return found


async def seat_page(request: Request) -> Response:
    listing = await performance_listing(request)
    web, performance_id = services(request), listing.performances[0].id
    seating = await _seating(request, performance_id)
    texts = texts_for(request)
    performance = listing.performances[0]
    when = texts.when(performance.starts_at)
    chosen = [str(seat) for seat in seats_of(request.session, performance_id)]
    title = texts.gettext("Zaalplattegrond, %(when)s") % {"when": when}
    context = {
        "show": listing.show,
        "performance": performance,
        "when": when,
        "seat_map": seating.seat_map,
        "seat_map_svg": render_seat_map(seating.seat_map, texts, title=title, chosen=chosen),
        "seat_map_legend": legend_items(seating.seat_map, texts),
        "seat_attribute_words": attribute_words,
        "max_seats": web.checkout_policy.max_tickets_per_line,
        "chosen": chosen,
        "sold_out": not seating.seat_map.free_seats(),
    }
    return render(request, "pages/seats.html", context)


def _performance_field(form: FormData) -> uuid.UUID:
    performance_id = parse_uuid(form.get("performance_id"))
    if performance_id is None:
        raise BadInput("Onbekende voorstelling.", field="performance_id")
    return performance_id


def _seat_ids(form: FormData) -> list[uuid.UUID] | list[str]:
    """The posted seat ids; a value that is no id is returned as typed, to be named."""
    values = [value for value in form.getlist("seat") if isinstance(value, str)]
    parsed = [parse_uuid(value) for value in values]
    if all(seat_id is not None for seat_id in parsed):
        return [seat_id for seat_id in parsed if seat_id is not None]
    return [value[:40] for value, seat_id in zip(values, parsed, strict=True) if seat_id is None]


def _refusal(request: Request, error: errors.MierloosError) -> Response:
    """The page that names every refused seat, in the visitor's language; nothing changed."""
    message, status = seat_refusal(request, error)
    return error_page(request, status, message)


def _checked(
    request: Request, seating: PerformanceSeating, chosen: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """seat id -> category id of the chosen seats; raises naming every seat that may not be
    chosen (a free seat of a category visitors may not buy online is named as such)."""
    maximum = services(request).checkout_policy.max_tickets_per_line
    offered = {seat.id for seat in seating.seat_map.seats if seat.state is SeatState.FREE}
    states = {seat.seat_id: seat.state for seat in seating.seats}
    hidden = [
        seating.plan.by_id[seat_id].ref.describe()
        for seat_id in sorted(set(chosen))
        if states.get(seat_id) is SeatState.FREE
        and str(seat_id) not in offered
        and not seating.plan.by_id[seat_id].blocked
    ]
    try:
        unique = check_chosen(
            seating.plan.by_id, states, chosen, maximum=maximum, companion_rule=True
        )
    except errors.SeatsUnavailable as refused:
        problems = {k: v for k, v in refused.details.items() if isinstance(v, list)}
        raise errors.SeatsUnavailable(
            problems | ({"not_for_sale": hidden} if hidden else {})
        ) from None
    if hidden:
        raise errors.SeatsUnavailable({"not_for_sale": hidden})
    category = {seat.seat_id: seat.category_id for seat in seating.seats}
    return {seat_id: category[seat_id] for seat_id in unique}


async def add_seats(request: Request, form: FormData) -> Response:
    """The seats ticked on the map (or in the list) become the performance's tickets."""
    performance_id = _performance_field(form)
    seating = await _seating(request, performance_id)
    chosen = _seat_ids(form)
    if not chosen:
        raise BadInput(texts_for(request).gettext("Kies minstens één stoel."), field="seat")
    try:
        if not all(isinstance(seat, uuid.UUID) for seat in chosen):
            raise errors.SeatsUnavailable({"not_in_plan": [str(seat) for seat in chosen]})
        seats = _checked(request, seating, [s for s in chosen if isinstance(s, uuid.UUID)])
    except errors.MierloosError as refused:
        return _refusal(request, refused)
    return _into_cart(request, performance_id, seats)


def _into_cart(
    request: Request, performance_id: uuid.UUID, seats: dict[uuid.UUID, uuid.UUID]
) -> Response:
    web = services(request)
    lines = choose_seats(
        request.session, cart_lines(request), performance_id, seats, web.clock.now()
    )
    if len(lines) > web.checkout_policy.max_lines:
        text = texts_for(request).gettext(
            "Je winkelwagen is vol: hoogstens %(count)d voorstellingen per bestelling."
        )
        return error_page(request, 409, text % {"count": web.checkout_policy.max_lines})
    write_cart(request.session, lines)
    text = texts_for(request).ngettext(
        "%(count)d stoel in je winkelwagen.", "%(count)d stoelen in je winkelwagen.", len(seats)
    )
    flash(request, text % {"count": len(seats)}, "ok")
    return RedirectResponse("/winkelwagen", status_code=303)


async def add_best_seats(request: Request, form: FormData) -> Response:
    """Best available: the picker's adjacent seats of the zone (any zone) go into the cart."""
    performance_id = _performance_field(form)
    seating = await _seating(request, performance_id)
    count = parse_quantity(
        form.get("quantity"), services(request).checkout_policy.max_tickets_per_line
    )
    zone = form.get("zone") or ""
    zones = {zone.key for zone in seating.seat_map.zones}
    if zone and zone not in zones:
        raise BadInput(texts_for(request).gettext("Onbekende zone."), field="zone")
    wanted = {zone} if zone else zones
    free = {
        uuid.UUID(seat.id)
        for seat in seating.seat_map.seats
        if seat.state is SeatState.FREE and seat.zone in wanted
    }
    window = best_available(seating.plan.seats, free, count)
    if window is None:
        return _refusal(request, errors.NoAdjacentSeats(count))
    category = {seat.seat_id: seat.category_id for seat in seating.seats}
    return _into_cart(request, performance_id, {seat.id: category[seat.id] for seat in window})


ROUTES: list[BaseRoute] = [
    Route(SEAT_PAGE, seat_page, name="seats"),
    Route("/winkelwagen/stoelen", seat_form(add_seats), methods=["POST"], name="cart_seats"),
    Route(
        "/winkelwagen/beste-plaatsen",
        seat_form(add_best_seats),
        methods=["POST"],
        name="cart_best_seats",
    ),
]
