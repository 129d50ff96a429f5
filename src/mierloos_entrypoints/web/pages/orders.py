"""The order page, reached only through the order's secret link: "pay now" and the tickets."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_core.model.orders import OrderStatus
from mierloos_core.services.tickets import TicketsDownload
from mierloos_entrypoints.web.calendar_files import CalendarEntry, calendar_response
from mierloos_entrypoints.web.inputs import is_secret
from mierloos_entrypoints.web.language import N_, texts_for
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.services import services

PRIVATE = {"X-Robots-Tag": "noindex, nofollow"}
DOWNLOAD_HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


def _secret(request: Request) -> str:
    secret = request.path_params["secret"]
    if not is_secret(secret):
        raise HTTPException(status_code=404)
    return str(secret)


async def order_page(request: Request) -> Response:
    secret = _secret(request)
    web = services(request)
    view = await run_in_threadpool(web.order_views.current, secret)
    if view is None:
        raise HTTPException(status_code=404)
    return render(request, "pages/order.html", {"order": view, "secret": secret}, headers=PRIVATE)


async def order_ics(request: Request) -> Response:
    """The order's performances as calendar entries; reached, like the order, by its secret."""
    secret = _secret(request)
    web = services(request)
    view = await run_in_threadpool(web.order_views.find, secret)
    # A cancelled, expired or refunded order holds no seats: nothing to put in a calendar.
    if view is None or view.status not in (OrderStatus.PENDING, OrderStatus.PAID):
        raise HTTPException(status_code=404)
    texts = texts_for(request)
    order_url = web.settings.base_url + str(request.app.url_path_for("order", secret=secret))
    entries = [
        CalendarEntry(
            uid=f"order-{view.order_id}-{line.performance_id}@mierloos",
            title=line.show_title,
            starts_at=line.starts_at,
            duration_minutes=line.duration_minutes,
            hall=line.hall,
            url=order_url,
            description=texts.ngettext(
                "%(count)d kaart, bestelling %(number)s",
                "%(count)d kaarten, bestelling %(number)s",
                line.quantity,
            )
            % {"count": line.quantity, "number": view.number},
        )
        for line in view.lines
        if line.starts_at is not None
    ]
    headers = {**PRIVATE, "Cache-Control": "private, no-store"}
    response = calendar_response(entries, f"bestelling-{view.number}.ics", web.clock.now())
    response.headers.update(headers)
    return response


async def pay_order(request: Request, form: FormData) -> Response:
    """Open a new payment for a pending order (or reuse the open one) and go there."""
    secret = _secret(request)
    web = services(request)
    order_path = f"/bestelling/{secret}"
    view = await run_in_threadpool(web.order_views.current, secret)
    if view is None:
        raise HTTPException(status_code=404)
    if not view.is_pending:
        return RedirectResponse(order_path, status_code=303)
    opening = await run_in_threadpool(web.ordering.pay, view.order_id)
    if opening.kind == "deferred":
        flash(
            request,
            N_(
                "De betaalpagina is even niet bereikbaar. Probeer het over een paar minuten "
                "opnieuw; we sturen je de betaallink ook per e-mail."
            ),
            "warning",
        )
    elif opening.kind == "refused":
        flash(
            request,
            N_(
                "De betaaldienst weigerde deze betaling; je bestelling is geannuleerd en er is "
                "niets afgeschreven."
            ),
            "error",
        )
    return RedirectResponse(opening.checkout_url or order_path, status_code=303)


def tickets_response(download: TicketsDownload) -> Response:
    """Send the visitor to the presigned URL, or hand over the file as an attachment."""
    if download.url is not None:
        return RedirectResponse(download.url, status_code=303, headers=DOWNLOAD_HEADERS)
    disposition = f'attachment; filename="{download.filename}"'
    return Response(
        download.data,
        media_type=download.content_type,
        headers={**DOWNLOAD_HEADERS, "Content-Disposition": disposition},
    )


async def tickets_download(request: Request) -> Response:
    """The order's PDF for whoever holds its link; one 404 for every reason there is none."""
    secret = _secret(request)
    download = await run_in_threadpool(services(request).tickets.download, secret)
    return tickets_response(download)
