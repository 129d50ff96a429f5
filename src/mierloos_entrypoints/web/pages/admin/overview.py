"""The staff landing page: what needs attention now."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mierloos_entrypoints.web.pages.admin.jobs import STATUS_LABELS
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.routing import staff_page
from mierloos_entrypoints.web.services import services


async def overview(request: Request) -> Response:
    web = services(request)
    summary = await run_in_threadpool(web.jobs.summary)
    return render(
        request, "admin/overview.html", {"summary": summary, "status_labels": STATUS_LABELS}
    )


ROUTES: list[BaseRoute] = [
    staff_page("/beheer", overview, "admin_overview"),
]
