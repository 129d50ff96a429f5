"""The staff landing page: what needs attention now."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.pages.admin.jobs import JOBS, STATUS_LABELS
from mierloos_entrypoints.web.pages.admin.staff import ROLE_LABELS
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.routing import staff_page
from mierloos_entrypoints.web.services import services
from mierloos_entrypoints.web.staff_areas import may_open


async def overview(request: Request) -> Response:
    """Every staff role lands here; the job summary is for those who may open the jobs."""
    user = await current_user(request)
    summary = None
    if may_open(user, JOBS):
        summary = await run_in_threadpool(services(request).jobs.summary)
    context = {"summary": summary, "status_labels": STATUS_LABELS, "role_labels": ROLE_LABELS}
    return render(request, "admin/overview.html", context)


ROUTES: list[BaseRoute] = [
    staff_page("/beheer", overview, "admin_overview"),
]
