""" "Mijn account": the logged-in visitor's own orders, and their tickets without the order link."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mierloos_entrypoints.web.auth import current_user, login_redirect
from mierloos_entrypoints.web.inputs import parse_uuid
from mierloos_entrypoints.web.pages.orders import PRIVATE, tickets_response
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.services import services

# More than a visitor of a small theatre places in years; older ones stay on their links.
SHOWN_ORDERS = 50


async def account_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    web = services(request)
    orders = await run_in_threadpool(web.order_views.account_orders, user.id, SHOWN_ORDERS)
    return render(
        request, "pages/account/overview.html", {"user": user, "orders": orders}, headers=PRIVATE
    )


async def account_tickets_download(request: Request) -> Response:
    """The owner's PDF; someone else's order answers exactly like an unknown one (404)."""
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    order_id = parse_uuid(request.path_params["order_id"])
    if order_id is None:
        raise HTTPException(status_code=404)
    download = await run_in_threadpool(
        services(request).tickets.download_for_user, order_id, user.id
    )
    return tickets_response(download)
