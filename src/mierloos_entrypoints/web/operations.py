"""Endpoints for operators, not visitors: `/health` for probes and `/metrics` for Prometheus.

`/metrics` holds the checkout and webhook counters and the jobs table's counts (see
`mierloos_entrypoints.metrics`); who may read them is decided in
`mierloos_entrypoints.metrics_access`, the rule the worker's /metrics follows too.
"""

from __future__ import annotations

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mierloos_entrypoints.metrics import CONTENT_TYPE, exposition
from mierloos_entrypoints.metrics_access import metrics_refusal
from mierloos_entrypoints.web.services import services


def _metrics_allowed(request: Request) -> Response | None:
    """None when the client may read the metrics, else the answer it gets."""
    refusal = metrics_refusal(
        services(request).settings.metrics_token,
        request.client.host if request.client else None,
        request.headers.get("authorization", ""),
    )
    if refusal is None:
        return None
    return Response(refusal.body, status_code=refusal.status, headers=refusal.headers)


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
