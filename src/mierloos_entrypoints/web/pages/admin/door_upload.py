"""Scans made offline, uploaded by staff from the door page: a JSON file shaped like the
check-in API's body (``{"scans": [{"code", "scanned_at", "door"}]}``) or a CSV file with the
columns ``code,scanned_at,door``. The answer page lists what was admitted, the conflicts
(first scan wins) with who let the ticket in and when, and the refusals.
"""

from __future__ import annotations

import csv
import io
import uuid

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mierloos_core import errors
from mierloos_core.services.door_offline import OfflineScan, UploadReport
from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.checkin_models import OfflineUploadInput
from mierloos_entrypoints.web.pages.admin.forms import staff_form
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.routing import staff_post
from mierloos_entrypoints.web.security import MAX_OFFLINE_SCANS_BYTES
from mierloos_entrypoints.web.services import services


class UnreadableUpload(errors.ValidationError):
    code = "unreadable_upload"
    message = (
        "Dit bestand is niet te lezen: stuur JSON zoals de check-in-API het neemt, of CSV met "
        "de kolommen code, scanned_at en door (tijden met tijdzone)."
    )


def _rows(data: bytes) -> dict[str, object]:
    """The upload as the API's body: JSON as it is, CSV turned into it."""
    text = data.decode("utf-8-sig")
    if text.lstrip().startswith("{"):
        return {"json": text}
    rows = list(csv.DictReader(io.StringIO(text)))
    return {"scans": [{k: row.get(k) for k in ("code", "scanned_at", "door")} for row in rows]}


def parse_upload(data: bytes) -> list[OfflineScan]:
    try:
        rows = _rows(data)
        if "json" in rows:
            body = OfflineUploadInput.model_validate_json(str(rows["json"]))
        else:
            body = OfflineUploadInput.model_validate(rows, strict=False)
    except (UnicodeDecodeError, csv.Error, ValidationError):
        raise UnreadableUpload() from None
    return [OfflineScan(code=s.code, scanned_at=s.scanned_at, door=s.door) for s in body.scans]


async def upload(request: Request, form: FormData) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    web = services(request)
    label = await run_in_threadpool(web.door.performance, performance_id)
    context: dict[str, object] = {"performance": label}
    file = form.get("scans")
    try:
        if not isinstance(file, UploadFile):
            raise UnreadableUpload("Kies een bestand met scans.")
        scans = parse_upload(await file.read(MAX_OFFLINE_SCANS_BYTES + 1))
        staff = await current_user(request)
        staff_name = staff.email if staff is not None else ""
        report: UploadReport = await run_in_threadpool(
            web.offline_door.upload, performance_id, scans, staff_name
        )
    except errors.ValidationError as refused:
        context["error"] = refused.message
        return render(request, "admin/door_upload.html", context, status_code=422)
    context["report"] = report
    return render(request, "admin/door_upload.html", context)


ROUTES: list[BaseRoute] = [
    staff_post(
        "/beheer/deur/{performance_id:uuid}/offline", staff_form(upload, files=1), "door_upload"
    ),
]
