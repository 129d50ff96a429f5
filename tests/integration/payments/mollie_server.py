"""A local HTTP server that speaks Mollie's v2 Payments API, as far as mierloos uses it.

Endpoints (Bearer auth with one of `api_keys`):

- ``POST /v2/payments``: JSON body (what mollie-api-python sends) or a form body with bracketed
  keys (``amount[value]=12.50``); honours ``Idempotency-Key``: the same key answers the first
  response again, with ``Idempotent-Replayed: true``;
- ``GET /v2/payments/{id}``, and ``GET /v2/payments`` (the newest first, ``limit``);
- ``POST /v2/payments/{id}/refunds`` (``amount``, ``description``; honours ``Idempotency-Key``)
  and ``GET /v2/payments/{id}/refunds/{refund_id}``: refunds of a paid payment, up to what is
  left of it; new refunds are ``pending``.

Answers use Mollie's JSON shapes: the payment resource, and ``{status, title, detail, field?}``
errors for 401, 404 and 422.

Test knobs, as Python attributes (or the ``/_control/...`` endpoints for other processes):

- ``fail_next_creates`` / ``fail_status``: the next N creates answer 503 (or ``fail_status``);
- ``error_status``: every API request answers this status (500, 503, 429, ...) until cleared,
  as Mollie's JSON or, with ``error_as_html``, as a proxy's HTML page;
- ``delay_seconds``: wait this long before handling an API request (to outlast the client's
  timeout); the request is then handled as usual, like a slow Mollie would;
- ``refuse_creates``: creates answer 422; ``refuse_refunds``: refund creates answer 422;
- ``set_status(payment_id, status)``: the provider changes a payment's status;
- ``set_refund_status(refund_id, status)``: the same for a refund.

Run it in a thread with ``running(server)``, or standalone: ``python mollie_server.py 8089``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import string
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import attrs
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

DEFAULT_API_KEY = "test_mierloosLocalMollie0123456789abc"
HAL_JSON = "application/hal+json"
STATUSES = ("open", "pending", "authorized", "paid", "canceled", "expired", "failed")
REFUND_STATUSES = ("queued", "pending", "processing", "refunded", "failed", "canceled")
PAYMENT_LIFETIME = timedelta(minutes=15)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized Request",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_AMOUNT_VALUE = re.compile(r"\d+\.\d{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ID_ALPHABET = string.ascii_letters + string.digits
_STATUS_TIMESTAMPS = {
    "paid": "paidAt",
    "authorized": "authorizedAt",
    "canceled": "canceledAt",
    "expired": "expiredAt",
    "failed": "failedAt",
}


@attrs.frozen
class ReceivedRequest:
    """One API request as the server saw it (control requests are not recorded)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


class _Refusal(Exception):
    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _error(status: int, detail: str, field: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "status": status,
        "title": _TITLES.get(status, "Error"),
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body["_links"] = {
        "documentation": {
            "href": "https://docs.mollie.com/overview/handling-errors",
            "type": "text/html",
        }
    }
    return JSONResponse(body, status_code=status, media_type=HAL_JSON)


def parse_form(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``amount[value]=12.50`` style pairs as nested dicts."""
    result: dict[str, Any] = {}
    for key, value in items:
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        target = result
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                nested = target[part] = {}
            target = nested
        target[parts[-1]] = value
    return result


def _check_url(body: Mapping[str, Any], field: str, *, required: bool) -> None:
    value = body.get(field)
    if value is None:
        if required:
            raise _Refusal(f"The {field} is required.", field)
        return
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        raise _Refusal(f"The {field} is not a valid URL.", field)


def _validate_create(body: Any) -> None:
    """Mollie's checks for a one-off payment, as far as mierloos can get them wrong."""
    if not isinstance(body, Mapping):
        raise _Refusal("The request body is not an object.", "body")
    amount = body.get("amount")
    if not isinstance(amount, Mapping):
        raise _Refusal("The amount is required.", "amount")
    currency = amount.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise _Refusal("The amount currency is invalid.", "amount.currency")
    value = amount.get("value")
    if not isinstance(value, str) or not _AMOUNT_VALUE.fullmatch(value):
        raise _Refusal(
            "The amount contains an invalid value: use a string with two decimals.",
            "amount.value",
        )
    if Decimal(value) < Decimal("0.01"):
        raise _Refusal("The amount is lower than the minimum.", "amount.value")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _Refusal("The description is required.", "description")
    if len(description) > 255:
        raise _Refusal("The description is too long.", "description")
    _check_url(body, "redirectUrl", required=True)
    _check_url(body, "webhookUrl", required=False)
    if len(json.dumps(body.get("metadata"))) > 1024:
        raise _Refusal("The metadata is too large.", "metadata")


class MollieServer:
    """The server's state and its Starlette app. Knobs are plain attributes; see module doc."""

    def __init__(self, api_keys: Iterable[str] = (DEFAULT_API_KEY,)) -> None:
        self.api_keys = set(api_keys)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._generation = 0
        self.base_url = ""
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.replies: dict[str, dict[str, Any]] = {}
        self.received: list[ReceivedRequest] = []
        self.fail_next_creates = 0
        self.fail_status = 503
        self.error_status: int | None = None
        self.error_as_html = False
        self.delay_seconds = 0.0
        self.refuse_creates = False
        self.refuse_refunds = False
        self.app = Starlette(
            routes=[
                Route("/v2/payments", self._create, methods=["POST"]),
                Route("/v2/payments", self._list, methods=["GET"]),
                Route("/v2/payments/{payment_id}", self._get, methods=["GET"]),
                Route("/v2/payments/{payment_id}", self._cancel, methods=["DELETE"]),
                Route("/v2/payments/{payment_id}/refunds", self._create_refund, methods=["POST"]),
                Route(
                    "/v2/payments/{payment_id}/refunds/{refund_id}",
                    self._get_refund,
                    methods=["GET"],
                ),
                Route("/_control/reset", self._control_reset, methods=["POST"]),
                Route("/_control/faults", self._control_faults, methods=["POST"]),
                Route(
                    "/_control/payments/{payment_id}/status",
                    self._control_status,
                    methods=["POST"],
                ),
                Route("/_control/requests", self._control_requests, methods=["GET"]),
            ]
        )

    # -- knobs ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget payments, requests and faults; requests still in flight change nothing."""
        with self._lock:
            self._generation += 1
            self.payments = {}
            self.refunds = {}
            self.replies = {}
            self.received = []
            self.fail_next_creates = 0
            self.fail_status = 503
            self.error_status = None
            self.error_as_html = False
            self.delay_seconds = 0.0
            self.refuse_creates = False
            self.refuse_refunds = False

    def set_status(self, payment_id: str, status: str) -> None:
        """The provider moves a payment to `status`, as Mollie does when the customer acts."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            payment = self.payments[payment_id]
            payment["status"] = status
            payment["isCancelable"] = status == "open"
            if status in _STATUS_TIMESTAMPS:
                payment[_STATUS_TIMESTAMPS[status]] = _timestamp(datetime.now(UTC))
            if status not in ("open", "pending", "authorized"):
                payment.pop("expiresAt", None)
            if status != "open":
                payment["_links"].pop("checkout", None)

    def set_refund_status(self, refund_id: str, status: str) -> None:
        """The provider moves a refund on (queued -> pending -> processing -> refunded/failed)."""
        if status not in REFUND_STATUSES:
            raise ValueError(f"unknown refund status {status!r}")
        with self._lock:
            self.refunds[refund_id]["status"] = status

    def creates(self) -> list[ReceivedRequest]:
        """The payment create requests received so far, oldest first."""
        with self._lock:
            return [r for r in self.received if r.method == "POST" and r.path == "/v2/payments"]

    def refund_creates(self) -> list[ReceivedRequest]:
        """The refund create requests received so far, oldest first."""
        with self._lock:
            return [r for r in self.received if r.method == "POST" and r.path.endswith("/refunds")]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no API request is being handled (e.g. one still sleeping in a delay)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # -- API ------------------------------------------------------------------------------

    def _refusal(self, request: Request, generation: int) -> Response | None:
        """The answer that stops a request before its endpoint: a restart, no auth, a fault."""
        if generation != self._generation:
            return self._injected_error(503)
        if not self._authorized(request):
            return _error(401, "Missing authentication, or failed to authenticate")
        if self.error_status is not None:
            return self._injected_error(self.error_status)
        return None

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token in self.api_keys

    async def _body(self, request: Request) -> Any:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = await request.form()
            return parse_form((k, str(v)) for k, v in form.multi_items())
        raw = await request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def _enter(self, request: Request, body: Any) -> int:
        """Record the request, honour the delay, and return the generation it belongs to."""
        with self._lock:
            self._in_flight += 1
            generation = self._generation
            self.received.append(
                ReceivedRequest(
                    method=request.method,
                    path=request.url.path,
                    headers=dict(request.headers),
                    body=body,
                )
            )
            delay = self.delay_seconds
        if delay > 0:
            await asyncio.sleep(delay)
        return generation

    def _leave(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def _injected_error(self, status: int) -> Response:
        if self.error_as_html:
            page = f"<html><body><h1>{status} {_TITLES.get(status, 'Error')}</h1></body></html>"
            return HTMLResponse(page, status_code=status)
        return _error(status, "The service is temporarily unavailable, try again later.")

    async def _create(self, request: Request) -> Response:
        body = await self._body(request)
        generation = await self._enter(request, body)
        try:
            return self._handle_create(request, body, generation)
        finally:
            self._leave()

    def _handle_create(self, request: Request, body: Any, generation: int) -> Response:
        with self._lock:
            if generation != self._generation:
                return self._injected_error(503)
            if not self._authorized(request):
                return _error(401, "Missing authentication, or failed to authenticate")
            if self.error_status is not None:
                return self._injected_error(self.error_status)
            if self.fail_next_creates > 0:
                self.fail_next_creates -= 1
                return self._injected_error(self.fail_status)
            key = request.headers.get("idempotency-key")
            if key and key in self.replies:
                return JSONResponse(
                    self.replies[key],
                    status_code=201,
                    media_type=HAL_JSON,
                    headers={"Idempotent-Replayed": "true"},
                )
            if self.refuse_creates:
                return _error(422, "The payment was refused by the test server.", "amount")
            try:
                _validate_create(body)
            except _Refusal as refusal:
                return _error(422, refusal.detail, refusal.field)
            payment = self._new_payment(request, body)
            self.payments[payment["id"]] = payment
            reply = json.loads(json.dumps(payment))
            if key:
                self.replies[key] = reply
            return JSONResponse(reply, status_code=201, media_type=HAL_JSON)

    def _new_payment(self, request: Request, body: Mapping[str, Any]) -> dict[str, Any]:
        payment_id = "tr_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
        token = "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
        base = str(request.base_url).rstrip("/")
        now = datetime.now(UTC)
        token_used = request.headers["authorization"].partition(" ")[2]
        return {
            "resource": "payment",
            "id": payment_id,
            "mode": "live" if token_used.startswith("live_") else "test",
            "createdAt": _timestamp(now),
            "amount": {
                "value": body["amount"]["value"],
                "currency": body["amount"]["currency"],
            },
            "description": body["description"],
            "method": body.get("method"),
            "metadata": body.get("metadata"),
            "status": "open",
            "isCancelable": True,
            "expiresAt": _timestamp(now + PAYMENT_LIFETIME),
            "profileId": "pfl_mierlooslc",
            "sequenceType": "oneoff",
            "redirectUrl": body["redirectUrl"],
            "webhookUrl": body.get("webhookUrl"),
            "_links": {
                "self": {"href": f"{base}/v2/payments/{payment_id}", "type": HAL_JSON},
                "checkout": {
                    "href": f"{base}/checkout/select-method/{token}",
                    "type": "text/html",
                },
                "documentation": {
                    "href": "https://docs.mollie.com/reference/v2/payments-api/create-payment",
                    "type": "text/html",
                },
            },
        }

    async def _list(self, request: Request) -> Response:
        generation = await self._enter(request, None)
        try:
            with self._lock:
                refusal = self._refusal(request, generation)
                if refusal is not None:
                    return refusal
                try:
                    limit = min(max(int(request.query_params.get("limit", "50")), 1), 250)
                except ValueError:
                    return _error(400, "Invalid limit", "limit")
                newest = list(reversed(self.payments.values()))[:limit]
                base = str(request.base_url).rstrip("/")
                return JSONResponse(
                    {
                        "count": len(newest),
                        "_embedded": {"payments": newest},
                        "_links": {
                            "self": {"href": f"{base}/v2/payments", "type": HAL_JSON},
                            "previous": None,
                            "next": None,
                        },
                    },
                    media_type=HAL_JSON,
                )
        finally:
            self._leave()

    def _payment_or_error(self, request: Request, generation: int) -> dict[str, Any] | Response:
        """The payment of the path, or the error Mollie (or an injected fault) answers. Locked."""
        refusal = self._refusal(request, generation)
        if refusal is not None:
            return refusal
        payment_id = request.path_params["payment_id"]
        payment = self.payments.get(payment_id)
        if payment is None:
            return _error(404, f"No payment exists with token {payment_id}.")
        return payment

    async def _get(self, request: Request) -> Response:
        generation = await self._enter(request, None)
        try:
            with self._lock:
                found = self._payment_or_error(request, generation)
                if isinstance(found, Response):
                    return found
                return JSONResponse(found, media_type=HAL_JSON)
        finally:
            self._leave()

    def charge_back(self, payment_id: str, value: str) -> None:
        """The buyer's bank takes `value` (e.g. "10.00") of a paid payment back."""
        with self._lock:
            payment = self.payments[payment_id]
            payment["amountChargedBack"] = {"value": value, "currency": "EUR"}

    async def _cancel(self, request: Request) -> Response:
        """DELETE: Mollie cancels a payment only while `isCancelable`, else 422."""
        generation = await self._enter(request, None)
        try:
            with self._lock:
                found = self._payment_or_error(request, generation)
                if isinstance(found, Response):
                    return found
                if not found.get("isCancelable"):
                    return _error(422, "The payment cannot be canceled.")
            self.set_status(found["id"], "canceled")
            with self._lock:
                return JSONResponse(found, media_type=HAL_JSON)
        finally:
            self._leave()

    async def _create_refund(self, request: Request) -> Response:
        body = await self._body(request)
        generation = await self._enter(request, body)
        try:
            with self._lock:
                refusal = self._refusal(request, generation)
                if refusal is not None:
                    return refusal
                key = request.headers.get("idempotency-key")
                if key and key in self.replies:
                    return JSONResponse(
                        self.replies[key],
                        status_code=201,
                        media_type=HAL_JSON,
                        headers={"Idempotent-Replayed": "true"},
                    )
                payment_id = request.path_params["payment_id"]
                payment = self.payments.get(payment_id)
                if payment is None:
                    return _error(404, f"No payment exists with token {payment_id}.")
                if self.refuse_refunds:
                    return _error(422, "The refund was refused by the test server.", "amount")
                try:
                    self._validate_refund(payment, body)
                except _Refusal as refusal:
                    return _error(422, refusal.detail, refusal.field)
                refund = self._new_refund(request, payment, body)
                self.refunds[refund["id"]] = refund
                reply = json.loads(json.dumps(refund))
                if key:
                    self.replies[key] = reply
                return JSONResponse(reply, status_code=201, media_type=HAL_JSON)
        finally:
            self._leave()

    def _validate_refund(self, payment: Mapping[str, Any], body: Any) -> None:
        if payment["status"] != "paid":
            raise _Refusal("The payment cannot be refunded: it is not paid.", "payment")
        if not isinstance(body, Mapping) or not isinstance(body.get("amount"), Mapping):
            raise _Refusal("The amount is required.", "amount")
        amount = body["amount"]
        if amount.get("currency") != payment["amount"]["currency"]:
            raise _Refusal("The amount currency does not match the payment.", "amount.currency")
        value = amount.get("value")
        if not isinstance(value, str) or not _AMOUNT_VALUE.fullmatch(value):
            raise _Refusal("The amount contains an invalid value.", "amount.value")
        refunded = sum(
            Decimal(r["amount"]["value"])
            for r in self.refunds.values()
            if r["paymentId"] == payment["id"] and r["status"] not in ("failed", "canceled")
        )
        remaining = Decimal(payment["amount"]["value"]) - refunded
        if not Decimal("0.01") <= Decimal(value) <= remaining:
            raise _Refusal(
                f"The amount is higher than the amount that can be refunded ({remaining}).",
                "amount.value",
            )
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 255:
            raise _Refusal("The description is invalid.", "description")

    def _new_refund(
        self, request: Request, payment: Mapping[str, Any], body: Mapping[str, Any]
    ) -> dict[str, Any]:
        refund_id = "re_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
        base = str(request.base_url).rstrip("/")
        payment_url = f"{base}/v2/payments/{payment['id']}"
        return {
            "resource": "refund",
            "id": refund_id,
            "amount": {"value": body["amount"]["value"], "currency": body["amount"]["currency"]},
            "status": "pending",
            "createdAt": _timestamp(datetime.now(UTC)),
            "description": body.get("description", ""),
            "metadata": body.get("metadata"),
            "paymentId": payment["id"],
            "_links": {
                "self": {"href": f"{payment_url}/refunds/{refund_id}", "type": HAL_JSON},
                "payment": {"href": payment_url, "type": HAL_JSON},
                "documentation": {
                    "href": "https://docs.mollie.com/reference/v2/refunds-api/create-payment-refund",
                    "type": "text/html",
                },
            },
        }

    async def _get_refund(self, request: Request) -> Response:
        generation = await self._enter(request, None)
        try:
            with self._lock:
                refusal = self._refusal(request, generation)
                if refusal is not None:
                    return refusal
                refund = self.refunds.get(request.path_params["refund_id"])
                if refund is None or refund["paymentId"] != request.path_params["payment_id"]:
                    return _error(404, "No refund exists with token.")
                return JSONResponse(refund, media_type=HAL_JSON)
        finally:
            self._leave()

    # -- control endpoints, for a server run in another process ---------------------------

    async def _control_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"ok": True})

    async def _control_faults(self, request: Request) -> Response:
        faults = await request.json()
        with self._lock:
            for name in (
                "fail_next_creates",
                "fail_status",
                "error_status",
                "error_as_html",
                "delay_seconds",
                "refuse_creates",
                "refuse_refunds",
            ):
                if name in faults:
                    setattr(self, name, faults[name])
        return JSONResponse({"ok": True})

    async def _control_status(self, request: Request) -> Response:
        status = (await request.json()).get("status")
        try:
            self.set_status(request.path_params["payment_id"], status)
        except KeyError:
            return JSONResponse({"error": "unknown payment"}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})

    async def _control_requests(self, request: Request) -> Response:
        with self._lock:
            rows = [
                {"method": r.method, "path": r.path, "body": r.body, "headers": dict(r.headers)}
                for r in self.received
            ]
        return JSONResponse(rows)


@contextlib.contextmanager
def running(server: MollieServer, host: str = "127.0.0.1") -> Iterator[MollieServer]:
    """Serve `server` with uvicorn on a free port in a background thread; sets `base_url`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        server.app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(
        target=uv.run, kwargs={"sockets": [sock]}, name="mollie-test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the Mollie test server did not start")
        time.sleep(0.01)
    server.base_url = f"http://{host}:{port}"
    try:
        yield server
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


if __name__ == "__main__":
    standalone = MollieServer()
    uvicorn.run(standalone.app, host="127.0.0.1", port=int(sys.argv[1]) if sys.argv[1:] else 8089)
