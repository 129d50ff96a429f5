"""Endpoints for operators, not visitors: `/health` for probes and `/metrics` for Prometheus.

`/metrics` holds the checkout and webhook counters and the jobs table's counts (see
`mierloos_entrypoints.metrics`). With METRICS_TOKEN set it answers any client that sends
``Authorization: Bearer <token>``; without it only clients on the loopback address (a
Prometheus or a proxy on the same machine), since a scrape reveals sales and job volumes.
"""

from __future__ import annotations

import hmac
import ipaddress

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mierloos_entrypoints.metrics import CONTENT_TYPE, exposition
from mierloos_entrypoints.web.services import services


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _metrics_allowed(request: Request) -> Response | None:
    """None when the client may read the metrics, else the answer it gets."""
    token = services(request).settings.metrics_token
    if token is None:
        if _is_loopback(request.client.host if request.client else None):
            return None
        return Response("metrics are served to loopback clients only\n", status_code=403)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    return Response(
        "a bearer token is required\n",
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


async def metrics(request: Request) -> Response:
    refused = _metrics_allowed(request)
    if refused is not None:
        return refused
    payload = await run_in_threadpool(exposition, services(request).jobs)
    return Response(payload, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _database_answers(request: Request) -> bool:
    try:
        with request.app.state.container.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def health(request: Request) -> Response:
    reachable = await run_in_threadpool(_database_answers, request)
    return JSONResponse(
        {"status": "ok" if reachable else "unavailable", "database": {"reachable": reachable}},
        status_code=200 if reachable else 503,
        headers={"Cache-Control": "no-store"},
    )
