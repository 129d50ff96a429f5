"""The payment provider's side of the site: its webhook, and the fake provider's checkout page.

Webhook: the provider POSTs only ``id``. We check its shape and that it is one of our payments,
queue a `payment_webhook` job
in one short transaction and answer 200 with an empty body; the job asks the provider for the
payment (the only trusted source). Nothing is processed inline. A malformed call gets 400
without detail; when the database is too busy we answer 503 so the provider tries again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import ssl
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mierloos_adapters.fake_payments import FakePaymentProvider
from mierloos_core import errors
from mierloos_core.model.money import Money
from mierloos_core.model.payments import PaymentStatus
from mierloos_entrypoints.observability import WEBHOOKS
from mierloos_entrypoints.web.inputs import BadInput
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.services import services

log = logging.getLogger(__name__)

# Mollie payment ids are `tr_` and a short alphanumeric code; ours (fake, memory) look alike.
_PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9_-]{1,64}")
_MAX_WEBHOOK_BODY = 1024
_FORM = "application/x-www-form-urlencoded"
_WEBHOOK_TIMEOUT = 10.0


def webhook_payment_id(content_type: str, body: bytes) -> str | None:
    """The `id` of a well-formed webhook call, or None."""
    if content_type.split(";")[0].strip().lower() != _FORM or len(body) > _MAX_WEBHOOK_BODY:
        return None
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=True, max_num_fields=5)
    except (UnicodeDecodeError, ValueError):
        return None
    ids = fields.get("id", [])
    if len(ids) != 1 or not _PAYMENT_ID.fullmatch(ids[0]):
        return None
    return ids[0]


async def payment_webhook(request: Request) -> Response:
    body = await request.body()
    payment_id = webhook_payment_id(request.headers.get("content-type", ""), body)
    if payment_id is None:
        WEBHOOKS.labels("malformed").inc()
        return Response(status_code=400)
    try:
        queued = await run_in_threadpool(services(request).payments.receive_webhook, payment_id)
    except errors.Busy:
        WEBHOOKS.labels("busy").inc()
        return Response(status_code=503, headers={"Retry-After": "5"})
    # An unknown id gets the same 200 (nothing to retry), but no job.
    WEBHOOKS.labels("queued" if queued else "unknown").inc()
    return Response(status_code=200)


# --- the fake provider's checkout page -------------------------------------------------------

_ACTIONS = {
    "paid": PaymentStatus.PAID,
    "failed": PaymentStatus.FAILED,
    "canceled": PaymentStatus.CANCELED,
}


def _fake_provider(request: Request) -> FakePaymentProvider:
    gateway = services(request).payment_gateway
    if not isinstance(gateway, FakePaymentProvider):
        raise HTTPException(status_code=404)
    return gateway


async def fake_payment_page(request: Request) -> Response:
    provider = _fake_provider(request)
    payment_id = request.path_params["payment_id"]
    try:
        record = await run_in_threadpool(provider.record, payment_id)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    return render(
        request,
        "pages/fake_payment.html",
        {
            "payment_id": payment_id,
            "amount": Money(int(record["amount_cents"])),
            "description": str(record["description"]),
            "status": str(record["status"]),
            "return_url": _return_url(request, str(record["redirect_url"])),
        },
    )


async def fake_payment_action(request: Request, form: FormData) -> Response:
    """Pay, fail or cancel; then, like Mollie, call the webhook and send the visitor back."""
    provider = _fake_provider(request)
    payment_id = request.path_params["payment_id"]
    action = form.get("action")
    status = _ACTIONS.get(action) if isinstance(action, str) else None
    if status is None:
        raise BadInput("Kies betalen, mislukt of annuleren.", field="action")
    try:
        record = await run_in_threadpool(provider.complete, payment_id, status)
    except errors.NotFound:
        raise HTTPException(status_code=404) from None
    notify = BackgroundTask(
        call_webhook,
        str(record["webhook_url"]),
        payment_id,
        request.app.state.webhook_transport,
    )
    return RedirectResponse(
        _return_url(request, str(record["redirect_url"])), status_code=303, background=notify
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every webhook call: making one loads the CA certificates, which
    cost more than the call itself (a third of the event loop's time in an onsale)."""
    return ssl.create_default_context()


async def call_webhook(
    url: str, payment_id: str, transport: httpx.AsyncBaseTransport | None = None
) -> None:
    """POST ``id=<payment id>`` to the webhook, as the provider would; failures are only logged.

    Over `transport` when given (tests route it into the app), else over the network."""
    try:
        if transport is None:
            status = await _post_form(url, {"id": payment_id})
        else:
            async with httpx.AsyncClient(transport=transport, timeout=_WEBHOOK_TIMEOUT) as client:
                status = (await client.post(url, data={"id": payment_id})).status_code
    except (httpx.HTTPError, OSError, TimeoutError, ValueError, IndexError) as error:
        log.warning("fake provider: webhook %s failed: %s", url, type(error).__name__)
        return
    if status != 200:
        log.warning("fake provider: webhook %s answered %s", url, status)


async def _post_form(url: str, fields: dict[str, str]) -> int:
    """POST a form on a connection of its own and return the answer's status code.

    What a provider's call costs the site is the webhook request, not the call: this one is a
    few lines of asyncio, where an httpx client spent more of the event loop than the webhook
    request itself (a tenth of a web process in the onsale benchmark)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    body = urlencode(fields).encode()
    head = (
        f"POST {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
        f"Host: {parts.netloc.rpartition('@')[2]}\r\n"
        f"Content-Type: {_FORM}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    port = parts.port or (443 if https else 80)
    async with asyncio.timeout(_WEBHOOK_TIMEOUT):
        tls = _tls_context() if https else None
        reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=tls)
        try:
            writer.write(head.encode("latin-1") + body)
            answer = await reader.read()  # to the end: the server closes after its answer
        finally:
            writer.close()
    return int(answer.split(b" ", 2)[1])


def _return_url(request: Request, url: str) -> str:
    """The payment's redirect URL, if it points into this site; the home page otherwise."""
    base = services(request).settings.base_url
    return url if url.startswith(base + "/") else "/"
