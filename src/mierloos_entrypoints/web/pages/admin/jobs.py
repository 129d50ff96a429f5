"""The jobs dashboard: counts over the whole jobs table, a filtered list, details, retries.

Job payloads may name customers (e-mail addresses): they appear on these staff-only pages and
nowhere else, never in logs. Values under secret-sounding keys are hidden even from staff.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from mierloos_core.model.jobs import JobStatus, JobType
from mierloos_core.model.timeutil import local
from mierloos_core.ports import JobSearch
from mierloos_entrypoints.web.inputs import BadInput, parse_uuid
from mierloos_entrypoints.web.rendering import flash, render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.security import csrf_protected
from mierloos_entrypoints.web.services import services

JOBS = "/beheer/taken"
PER_PAGE = 50

STATUS_LABELS: Mapping[str, str] = {
    JobStatus.PENDING: "Wachtend",
    JobStatus.PROCESSING: "Bezig",
    JobStatus.COMPLETED: "Voltooid",
    JobStatus.FAILED: "Mislukt",
}
TYPE_LABELS: Mapping[str, str] = {
    JobType.PDF_GENERATION: "Kaarten maken (pdf)",
    JobType.EMAIL: "E-mail",
    JobType.IMAGE_PROCESSING: "Afbeelding verwerken",
    JobType.PAYMENT_CREATION: "Betaling aanmaken",
    JobType.PAYMENT_WEBHOOK: "Betaalbericht verwerken",
    JobType.ORPHANED_ORDER_CLEANUP: "Verlopen bestellingen opruimen",
    JobType.REFUND_FOLLOW_UP: "Terugbetalingen opvolgen",
    JobType.JOBS_PURGE: "Oude voltooide taken opruimen",
    JobType.REFUND: "Terugbetalen",
    JobType.PAYMENT_CANCEL: "Betaling intrekken",
    JobType.WAITLIST_OFFER: "Wachtlijst: plaatsen aanbieden",
    JobType.WAITLIST_PURGE: "Wachtlijsten van voorbije voorstellingen wissen",
}

_PAGE = re.compile(r"[1-9][0-9]{0,5}")
_SECRET_KEY = re.compile(r"nonce|token|secret|password|wachtwoord", re.IGNORECASE)
HIDDEN = "(verborgen)"


def page_param(request: Request) -> int:
    """The `pagina` query parameter: a whole number from 1, or 1 when absent."""
    raw = request.query_params.get("pagina", "")
    if not raw:
        return 1
    if not _PAGE.fullmatch(raw):
        raise BadInput("Kies een geldig paginanummer.", field="pagina")
    return int(raw)


def moment(value: datetime | None) -> str:
    """A moment as a clock in Mierlo shows it, to the second."""
    return local(value).strftime("%d-%m-%Y %H:%M:%S") if value is not None else "—"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days} d {hours} uur"
    if hours:
        return f"{hours} uur {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def redacted(value: Any) -> Any:
    """The payload with values under secret-sounding keys replaced, at any depth."""
    if isinstance(value, Mapping):
        return {
            key: HIDDEN if _SECRET_KEY.search(str(key)) else redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


def pretty_json(value: Any) -> str:
    return json.dumps(redacted(value), indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _choice(request: Request, name: str, allowed: set[str], message: str) -> str | None:
    value = request.query_params.get(name, "")
    if not value:
        return None
    if value not in allowed:
        raise BadInput(message, field=name)
    return value


def _link(status: str | None, job_type: str | None, page: int) -> str:
    params = {
        key: value
        for key, value in (("status", status), ("type", job_type), ("pagina", page))
        if value and value != 1
    }
    return JOBS + (f"?{urlencode(params)}" if params else "")


# What both job pages' templates use to show a job.
_HELPERS: dict[str, Any] = {
    "moment": moment,
    "duration": duration,
    "status_labels": STATUS_LABELS,
    "type_labels": TYPE_LABELS,
}


async def jobs_dashboard(request: Request) -> Response:
    web = services(request)
    summary = await run_in_threadpool(web.jobs.summary)
    known_types = {str(t) for t in JobType} | set(summary.by_type)
    status = _choice(
        request, "status", {str(s) for s in JobStatus}, "Deze status bestaat niet voor taken."
    )
    job_type = _choice(request, "type", known_types, "Dit soort taak bestaat niet.")
    page = page_param(request)
    search = JobSearch(status=status, job_type=job_type, page=page, per_page=PER_PAGE)
    found = await run_in_threadpool(web.jobs.page, search)
    return render(
        request,
        "admin/jobs.html",
        {
            **_HELPERS,
            "summary": summary,
            "found": found,
            "status": status,
            "job_type": job_type,
            "types": sorted(known_types),
            "default_attempts": web.settings.worker.max_attempts,
            "link": lambda page: _link(status, job_type, page),
        },
    )


def _job_id(request: Request) -> uuid.UUID:
    job_id: uuid.UUID = request.path_params["job_id"]  # the route's uuid converter
    return job_id


def _order_id(data: Mapping[str, Any]) -> uuid.UUID | None:
    return parse_uuid(data.get("order_id"))


async def job_detail(request: Request) -> Response:
    web = services(request)
    details = await run_in_threadpool(web.jobs.get, _job_id(request))
    if details is None:
        raise HTTPException(status_code=404)
    job = details.job
    return render(
        request,
        "admin/jobs_detail.html",
        {
            **_HELPERS,
            "job": job,
            "errors": details.errors,
            "payload": pretty_json(job.data),
            "result": pretty_json(job.result) if job.result is not None else None,
            "order_id": _order_id(job.data),
            "default_attempts": web.settings.worker.max_attempts,
        },
    )


async def retry_job(request: Request, form: FormData) -> Response:
    """Put a failed job back in the queue; anything else is left exactly as it is."""
    job_id = _job_id(request)
    web = services(request)
    if await run_in_threadpool(web.jobs.retry, job_id):
        flash(
            request, "De taak staat weer in de wachtrij en wordt zo snel mogelijk uitgevoerd.", "ok"
        )
    else:
        details = await run_in_threadpool(web.jobs.get, job_id)
        if details is None:
            raise HTTPException(status_code=404)
        label = STATUS_LABELS.get(details.job.status, str(details.job.status)).lower()
        flash(
            request,
            f"Deze taak is niet mislukt (status: {label}); er is niets veranderd.",
            "warning",
        )
    return RedirectResponse(f"/beheer/taken/{job_id}", status_code=303)


ROUTES: list[BaseRoute] = [
    staff_page(JOBS, jobs_dashboard, "admin_jobs"),
    staff_page("/beheer/taken/{job_id:uuid}", job_detail, "admin_job"),
    staff_post("/beheer/taken/{job_id:uuid}/opnieuw", csrf_protected(retry_job), "admin_job_retry"),
]
