"""The door on show night, under /beheer/deur: pick a performance, then scan tickets.

The door page answers scans as JSON to its own script (`static/door.js`): typed or scanned
codes (a handheld scanner types the code and Enter), and camera frames the browser could not
decode itself, which the server reads with zxing-cpp. Posts carry the session's CSRF token as
form fields like every other staff form. The door list (JSON signed, or CSV) is for checking in
without a network; it holds hashes of the secrets, never the secrets.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from mierloos_adapters.qr_codes import QrFrameReader
from mierloos_core import errors
from mierloos_core.model.admissions import MAX_CODE_LENGTH, MAX_DOOR_LENGTH
from mierloos_core.model.timeutil import local
from mierloos_core.services.door import Entrance
from mierloos_core.services.door_offline import DoorList
from mierloos_entrypoints.web import checkin_models as answers
from mierloos_entrypoints.web.auth import current_user
from mierloos_entrypoints.web.inputs import BadInput, text
from mierloos_entrypoints.web.pages.admin.forms import staff_form
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.routing import staff_page, staff_post
from mierloos_entrypoints.web.security import MAX_FRAME_BYTES, csrf_protected
from mierloos_entrypoints.web.services import services

DOOR = "/beheer/deur/{performance_id:uuid}"
# The door page uses the camera; every other page keeps it off (see security_headers).
_CAMERA_ALLOWED = {"Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()"}
_FRAMES = QrFrameReader()


async def choose(request: Request) -> Response:
    performances = await run_in_threadpool(services(request).door.performances)
    return render(request, "admin/door_choose.html", {"performances": performances})


async def door_page(request: Request) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    try:
        label = await run_in_threadpool(services(request).door.performance, performance_id)
    except errors.UnknownPerformance:
        raise HTTPException(status_code=404) from None
    return render(
        request, "admin/door.html", {"performance": label, "local": local}, headers=_CAMERA_ALLOWED
    )


async def _entrance(request: Request, form: FormData) -> Entrance:
    staff = await current_user(request)
    door = text(form, "door", max_length=MAX_DOOR_LENGTH) or "Deur"
    return Entrance(
        performance_id=request.path_params["performance_id"],
        door=door,
        staff=staff.email if staff is not None else "",
    )


def _json_refusal(message: str, status_code: int) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status_code)


async def _check_in(request: Request, form: FormData, code: str) -> Response:
    try:
        entrance = await _entrance(request, form)
        outcome = await run_in_threadpool(services(request).door.check_in, entrance, code)
    except BadInput as bad:
        return _json_refusal(bad.message, 422)
    except errors.MierloosError as refused:
        return _json_refusal(refused.message, 404 if isinstance(refused, errors.NotFound) else 422)
    return JSONResponse(answers.check_in_answer(outcome).model_dump(mode="json"))


async def scan(request: Request, form: FormData) -> Response:
    code = form.get("code", "")
    # Absurd lengths are answered as an unknown ticket without reading further.
    code = code[: MAX_CODE_LENGTH + 1] if isinstance(code, str) else ""
    return await _check_in(request, form, code)


async def frame(request: Request, form: FormData) -> Response:
    """A camera frame (JPEG or PNG): its QR code is scanned like a typed code."""
    upload = form.get("frame")
    if not isinstance(upload, UploadFile):
        return _json_refusal("Stuur een camerabeeld mee.", 422)
    data = await upload.read(MAX_FRAME_BYTES + 1)
    if len(data) > MAX_FRAME_BYTES:
        return _json_refusal("Dit camerabeeld is te groot.", 413)
    codes = await run_in_threadpool(_FRAMES.read, data)
    if not codes:
        return JSONResponse({"found": False})
    return await _check_in(request, form, codes[0])


async def undo(request: Request, form: FormData) -> Response:
    try:
        entrance = await _entrance(request, form)
    except (BadInput, errors.MierloosError) as bad:
        return _json_refusal(bad.message, 422)
    undone = await run_in_threadpool(services(request).door.undo_last, entrance)
    return JSONResponse(
        {
            "undone": undone is not None,
            "message": "Laatste toegang teruggedraaid." if undone else "Niets om terug te draaien.",
        }
    )


async def counts(request: Request) -> Response:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    try:
        found = await run_in_threadpool(services(request).door.counts, performance_id)
    except errors.UnknownPerformance as unknown:
        return _json_refusal(unknown.message, 404)
    return JSONResponse(answers.counts_answer(found).model_dump(mode="json"))


def _door_list_key(request: Request) -> bytes:
    return answers.door_list_key(services(request).settings.secret_key)


async def _door_list(request: Request) -> DoorList:
    performance_id: uuid.UUID = request.path_params["performance_id"]
    return await run_in_threadpool(services(request).offline_door.door_list, performance_id)


async def door_list_json(request: Request) -> Response:
    web = services(request)
    made = await run_in_threadpool(
        web.offline_door.door_list, request.path_params["performance_id"]
    )
    answer = answers.door_list_answer(made, _door_list_key(request))
    return JSONResponse(
        answer.model_dump(mode="json"),
        headers={"Content-Disposition": 'attachment; filename="deurlijst.json"'},
    )


def _cell(value: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula: not a name's."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def door_list_csv(request: Request) -> Response:
    web = services(request)
    made = await run_in_threadpool(
        web.offline_door.door_list, request.path_params["performance_id"]
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["secret_sha256", "naam", "categorie", "geldig", "binnen_sinds", "stoel"])
    for entry in made.entries:
        writer.writerow(
            [
                entry.secret_sha256,
                _cell(entry.holder_name),
                _cell(entry.category_name),
                "ja" if entry.valid else "nee",
                local(entry.admitted_at).isoformat() if entry.admitted_at else "",
                _cell(entry.seat or ""),
            ]
        )
    body = out.getvalue().encode()
    signature = hmac.new(_door_list_key(request), body, hashlib.sha256).hexdigest()
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="deurlijst.csv"',
            "X-Door-List-Signature": f"sha256={signature}",
        },
    )


ROUTES: list[BaseRoute] = [
    staff_page("/beheer/deur", choose, "door_choose"),
    staff_page(DOOR, door_page, "door_page"),
    staff_post(DOOR + "/scan", csrf_protected(scan), "door_scan"),
    staff_post(DOOR + "/beeld", staff_form(frame, files=1), "door_frame"),
    staff_post(DOOR + "/terugdraaien", csrf_protected(undo), "door_undo"),
    staff_page(DOOR + "/tellingen", counts, "door_counts"),
    staff_page(DOOR + "/deurlijst.json", door_list_json, "door_list_json"),
    staff_page(DOOR + "/deurlijst.csv", door_list_csv, "door_list_csv"),
]
