"""Staff refund a paid order, whole or in part; the order's detail page holds the form.

Form fields: `amount` (euros, `12,50` or `12.50`; empty = all that is left to refund),
`ticket` (any number: the ids of the tickets to refund, for their price less their share of
the discount; they become invalid once the provider accepts it), `reason` (at most 200
characters) and `request_key` (fresh per rendered page: a double click
sends the same key and refunds once). Once the provider has accepted refunds for all that was
paid, the tickets become invalid and their seats free; until then refunds are money only.
"""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.model.money import Money
from mierloos_core.model.payments import Refund, RefundStatus
from mierloos_core.services.refunds import MAX_REASON_LENGTH
from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.inputs import BadInput, parse_cents, parse_uuid, text
from mierloos_entrypoints.web.pages.admin.forms import staff_form
from mierloos_entrypoints.web.pages.admin.orders import detail_path
from mierloos_entrypoints.web.rendering import flash
from mierloos_entrypoints.web.routing import staff_post
from mierloos_entrypoints.web.services import services

MAX_AMOUNT_LENGTH = 20
# A field per ticket chosen: more than a small form's; the body limit bounds it all.
MAX_FIELDS = 1000


def done_message(refund: Refund) -> str:
    if refund.status is RefundStatus.REQUESTED:  # asked before and not sent yet
        return f"De terugbetaling van {refund.amount} is vastgelegd en wordt nog verstuurd."
    if refund.ticket_ids and not refund.whole:
        count = len(refund.ticket_ids)
        return (
            f"{refund.amount} wordt terugbetaald voor {count} "
            f"{'kaart' if count == 1 else 'kaarten'}. Zodra de betaalprovider het aanvaardt, "
            "zijn die kaarten ongeldig en hun plaatsen weer vrij."
        )
    if refund.whole:
        return (
            f"{refund.amount} wordt terugbetaald. De kaarten zijn ongeldig gemaakt en de "
            "plaatsen zijn weer vrij."
        )
    return f"{refund.amount} wordt terugbetaald (gedeeltelijk). De kaarten blijven geldig."


def _tickets(form: FormData) -> list[uuid.UUID]:
    """The tickets chosen to refund (none: an amount, or all that is left)."""
    chosen = []
    for value in form.getlist("ticket"):
        ticket_id = parse_uuid(value)
        if ticket_id is None:
            raise BadInput("Deze kaart hoort niet bij de bestelling. Laad de pagina opnieuw.")
        chosen.append(ticket_id)
    return chosen


def _amount(form: FormData) -> Money | None:
    raw = text(form, "amount", max_length=MAX_AMOUNT_LENGTH)
    return Money(parse_cents(raw, field="amount")) if raw else None


async def refund_order(request: Request, form: FormData) -> Response:
    order_id: uuid.UUID = request.path_params["order_id"]  # the route's uuid converter
    back = RedirectResponse(detail_path(order_id), status_code=303)
    try:
        amount = _amount(form)
        tickets = _tickets(form)
        reason = text(form, "reason", max_length=MAX_REASON_LENGTH)
        request_key = text(form, "request_key", max_length=64, required=True)
    except BadInput as bad:
        flash(request, bad.message, "error")
        return back
    staff = await current_user(request)
    requested_by = staff.email if staff is not None else ""
    refunds = services(request).refunds

    def refund() -> Refund:
        return refunds.refund(
            order_id,
            amount=amount,
            reason=reason,
            requested_by=requested_by,
            request_key=request_key,
            tickets=tickets,
        )

    try:
        done = await run_in_threadpool(refund)
    except errors.OrderNotFound:
        raise HTTPException(status_code=404) from None
    except errors.RefundDelayed as delayed:
        flash(request, delayed.message, "warning")
    except errors.MierloosError as refused:
        flash(request, refused.message, "error")
    else:
        if not done.status.counts:  # the same form sent again after the provider refused
            flash(request, errors.RefundRefused.message, "error")
        elif done.status is RefundStatus.REQUESTED:
            flash(request, done_message(done), "warning")
        else:
            flash(request, done_message(done), "ok")
    return back


ROUTES: list[BaseRoute] = [
    staff_post(
        "/beheer/bestellingen/{order_id:uuid}/terugbetalen",
        staff_form(refund_order, fields=MAX_FIELDS),
        "admin_refund",
    ),
]
