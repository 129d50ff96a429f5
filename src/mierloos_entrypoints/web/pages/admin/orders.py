"""Staff's order pages: search, the detail page, resend tickets, mark handled."""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.model.jobs import JobType
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.staff_orders import MAX_QUERY_LENGTH
from mierloos_entrypoints.web.inputs import BadInput, text
from mierloos_entrypoints.web.pages.admin.jobs import moment, page_param
from mierloos_entrypoints.web.rendering import ORDER_STATUS_LABELS, flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.security import csrf_protected
from mierloos_entrypoints.web.services import services

PAYMENT_STATUS_LABELS = {
    PaymentStatus.OPEN: "Open",
    PaymentStatus.PENDING: "In behandeling",
    PaymentStatus.AUTHORIZED: "Geautoriseerd",
    PaymentStatus.PAID: "Betaald",
    PaymentStatus.FAILED: "Mislukt",
    PaymentStatus.CANCELED: "Geannuleerd",
    PaymentStatus.EXPIRED: "Verlopen",
}
TICKET_STATUS_LABELS = {
    TicketStatus.RESERVED: "gereserveerd",
    TicketStatus.VALID: "geldig",
    TicketStatus.CANCELLED: "geannuleerd",
    TicketStatus.REFUNDED: "terugbetaald",
}
# Orders on which the refund form (posting to the refunds module's route) is offered.
REFUNDABLE = {"paid"}
REFUND_STATUS_LABELS = {
    "requested": "vastgelegd, nog niet bij de betaalprovider",
    "queued": "in de wachtrij bij de betaalprovider",
    "pending": "wordt verwerkt",
    "processing": "wordt verwerkt",
    "refunded": "terugbetaald",
    "failed": "mislukt",
    "canceled": "geannuleerd",
}


def _filters(request: Request) -> tuple[str, OrderStatus | None, bool]:
    query = request.query_params
    search = query.get("q", "").strip()
    if len(search) > MAX_QUERY_LENGTH or "\x00" in search:
        raise BadInput(f"Zoek op hoogstens {MAX_QUERY_LENGTH} tekens.", field="q")
    raw_status = query.get("status", "")
    try:
        status = OrderStatus(raw_status) if raw_status else None
    except ValueError:
        raise BadInput("Deze status bestaat niet voor bestellingen.", field="status") from None
    return search, status, query.get("aandacht") == "1"


def _link(search: str, status: OrderStatus | None, attention: bool, page: int) -> str:
    params: dict[str, Any] = {}
    if search:
        params["q"] = search
    if status is not None:
        params["status"] = status.value
    if attention:
        params["aandacht"] = "1"
    if page > 1:
        params["pagina"] = page
    return "/beheer/bestellingen" + (f"?{urlencode(params)}" if params else "")


async def orders_search(request: Request) -> Response:
    search, status, attention = _filters(request)
    page = page_param(request)
    web = services(request)
    found = await run_in_threadpool(
        lambda: web.staff_orders.search(search, status=status, needs_attention=attention, page=page)
    )
    return render(
        request,
        "admin/orders.html",
        {
            "found": found,
            "search": search,
            "status": status.value if status else "",
            "attention": attention,
            "statuses": ORDER_STATUS_LABELS,
            "moment": moment,
            "link": lambda number: _link(search, status, attention, number),
        },
    )


def _order_id(request: Request) -> uuid.UUID:
    order_id: uuid.UUID = request.path_params["order_id"]  # the route's uuid converter
    return order_id


def detail_path(order_id: uuid.UUID) -> str:
    return f"/beheer/bestellingen/{order_id}"


async def order_detail(request: Request) -> Response:
    web = services(request)
    order_id = _order_id(request)
    detail = await run_in_threadpool(web.staff_orders.detail, order_id)
    # Looking at the order follows its unfinished refunds (and resends any the provider missed).
    refunds = await run_in_threadpool(web.refunds.refresh, order_id)
    return render(
        request,
        "admin/orders_detail.html",
        {
            "detail": detail,
            "order": detail.order,
            "moment": moment,
            "payment_labels": PAYMENT_STATUS_LABELS,
            "ticket_labels": TICKET_STATUS_LABELS,
            "refunds": refunds,
            "refund_labels": REFUND_STATUS_LABELS,
            "refundable": detail.order.status.value in REFUNDABLE and refunds.refundable.cents > 0,
            # The valid tickets, each with its line: the refund form can refund chosen ones.
            "ticket_rows": [
                (line, ticket)
                for line in detail.lines
                for ticket in line.tickets
                if ticket.status is TicketStatus.VALID
            ],
            # A fresh key per rendered form: a double click sends the same key and resends once.
            "request_key": secrets.token_urlsafe(16),
        },
    )


async def resend_tickets(request: Request, form: FormData) -> Response:
    order_id = _order_id(request)
    request_key = text(form, "request_key", max_length=64, required=True)
    web = services(request)
    try:
        outcome = await run_in_threadpool(
            lambda: web.staff_orders.resend_tickets(order_id, request_key=request_key)
        )
    except errors.InvalidTransition as error:
        flash(request, error.message, "error")
        return RedirectResponse(detail_path(order_id), status_code=303)
    # The flash travels in the (signed, not encrypted) session cookie: no e-mail address in it.
    if outcome.job_type is JobType.PDF_GENERATION:
        message = "De kaarten worden opnieuw gemaakt en daarna naar de klant gemaild."
    else:
        message = "De kaarten worden opnieuw naar de klant gemaild."
    flash(request, message, "ok")
    return RedirectResponse(detail_path(order_id), status_code=303)


async def mark_handled(request: Request, form: FormData) -> Response:
    order_id = _order_id(request)
    web = services(request)
    if await run_in_threadpool(web.staff_orders.mark_handled, order_id):
        flash(request, "De bestelling is als afgehandeld gemarkeerd.", "ok")
    else:
        flash(request, "Deze bestelling vroeg al geen aandacht meer; er is niets veranderd.")
    return RedirectResponse(detail_path(order_id), status_code=303)


ORDER = "/beheer/bestellingen/{order_id:uuid}"

ROUTES: list[BaseRoute] = [
    staff_page("/beheer/bestellingen", orders_search, "admin_orders"),
    staff_page(ORDER, order_detail, "admin_order"),
    staff_post(ORDER + "/kaarten-versturen", csrf_protected(resend_tickets), "admin_order_resend"),
    staff_post(ORDER + "/afgehandeld", csrf_protected(mark_handled), "admin_order_handled"),
]
