"""The check-in API under /api/checkin, for scanner apps.

Every call carries a device token (``Authorization: Bearer mld_...``) that staff made on
/beheer/apparaten: 401 without a valid one (missing, unknown or revoked; failures from one
client are throttled), 403 when the token is for another performance. A token checks tickets
in and reads the door's counts and list; it reaches nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mierloos_core import errors
from mierloos_core.model.admissions import DeviceToken
from mierloos_core.services.door import Entrance, ScanOutcome
from mierloos_core.services.door_devices import DeviceNotAuthorised, device_staff
from mierloos_core.services.door_offline import OfflineScan
from mierloos_entrypoints.web import checkin_models as models
from mierloos_entrypoints.web.inputs import client_address, parse_uuid
from mierloos_entrypoints.web.openapi import BODY_ERRORS, Operation
from mierloos_entrypoints.web.services import services

# Failed token checks one client may make per minute before it waits (429).
AUTH_FAILURES_PER_MINUTE = 20
_PATH = "/api/checkin/performances/{performance_id}"
_AUTH_ERRORS = (401, 403, 404, 429)
T = TypeVar("T")


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header; None without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _guarded(request: Request, call: Callable[[uuid.UUID], T]) -> T:
    """`call` with the path's performance id, in a thread; a refused token counts against
    the client (guessed tokens are counted; a call without any token guesses nothing)."""
    performance_id = parse_uuid(str(request.path_params.get("performance_id", "")))
    try:
        return await run_in_threadpool(call, performance_id or uuid.UUID(int=0))
    except DeviceNotAuthorised:
        web = services(request)
        key = f"checkin-auth:{client_address(request)}"
        limit, window = AUTH_FAILURES_PER_MINUTE, timedelta(minutes=1)
        if bearer_token(request) and not web.limiter.allow(key, limit, window):
            raise errors.TooManyAttempts() from None
        raise


async def _authorise(request: Request) -> tuple[DeviceToken, uuid.UUID]:
    """The calling device and the performance of the path, or the refusal."""
    token = bearer_token(request)
    devices = services(request).devices
    device = await _guarded(request, lambda performance: devices.authorise(token, performance))
    performance_id = parse_uuid(str(request.path_params.get("performance_id", "")))
    if performance_id is None:
        raise errors.UnknownPerformance()
    return device, performance_id


async def scan(request: Request, body: models.ScanInput) -> models.CheckInAnswer:
    token = bearer_token(request)
    devices = services(request).devices

    def scan_in(performance_id: uuid.UUID) -> ScanOutcome:
        return devices.scan(token, performance_id, body.door, body.code)

    return models.check_in_answer(await _guarded(request, scan_in))


async def undo(request: Request, body: models.UndoInput) -> models.UndoAnswer:
    device, performance_id = await _authorise(request)
    entrance = Entrance(performance_id=performance_id, door=body.door, staff=device_staff(device))
    undone = await run_in_threadpool(services(request).door.undo_last, entrance)
    return models.UndoAnswer(
        undone=undone is not None,
        message="Toegang teruggedraaid." if undone else "Niets om terug te draaien.",
    )


async def counts(request: Request, parameters: models.PerformanceParameters) -> models.CountsAnswer:
    _, performance_id = await _authorise(request)
    found = await run_in_threadpool(services(request).door.counts, performance_id)
    return models.counts_answer(found)


async def door_list(
    request: Request, parameters: models.PerformanceParameters
) -> models.DoorListAnswer:
    _, performance_id = await _authorise(request)
    web = services(request)
    made = await run_in_threadpool(web.offline_door.door_list, performance_id)
    return models.door_list_answer(made, models.door_list_key(web.settings.secret_key))


async def offline_scans(
    request: Request, body: models.OfflineUploadInput
) -> models.OfflineUploadAnswer:
    device, performance_id = await _authorise(request)
    scans = [OfflineScan(code=s.code, scanned_at=s.scanned_at, door=s.door) for s in body.scans]
    report = await run_in_threadpool(
        services(request).offline_door.upload, performance_id, scans, device_staff(device)
    )
    return models.OfflineUploadAnswer(
        admitted=len(report.admitted),
        conflicts=[models.offline_line(line) for line in report.conflicts],
        refused=[models.offline_line(line) for line in report.refused],
    )


def _operation(
    method: str, action: str, operation_id: str, summary: str, **described: Any
) -> Operation:
    """A check-in endpoint: under the performance's path, for device tokens only, with the
    token refusals (and a body's) among its errors."""
    reads_body = described.get("body") is not None
    return Operation(
        method=method,
        path=f"{_PATH}/{action}",
        operation_id=operation_id,
        summary=summary,
        parameters=models.PerformanceParameters,
        errors=(*(BODY_ERRORS if reads_body else ()), *_AUTH_ERRORS, 503),
        device_token=True,
        **described,
    )


OPERATIONS = [
    _operation(
        "POST",
        "scans",
        "checkInScan",
        "Scan a ticket at a door: admitted once, or the reason why not.",
        description="Two doors scanning one ticket at once: one gets `admitted`, the other"
        " `already_admitted` with who let it in and when. Every scan is logged.",
        handler=scan,
        body=models.ScanInput,
        answer=models.CheckInAnswer,
        answer_text="The scan's result.",
    ),
    _operation(
        "POST",
        "undo",
        "checkInUndo",
        "Take back the last admission this device made at this door.",
        handler=undo,
        body=models.UndoInput,
        answer=models.UndoAnswer,
        answer_text="Whether an admission was taken back.",
    ),
    _operation(
        "GET",
        "counts",
        "checkInCounts",
        "Admitted of sold, in all and per price category.",
        handler=counts,
        answer=models.CountsAnswer,
        answer_text="The counts.",
    ),
    _operation(
        "GET",
        "door-list",
        "checkInDoorList",
        "The performance's paid tickets for checking in offline: SHA-256 of each"
        " secret (never the secret), holder's name, category; signed.",
        handler=door_list,
        answer=models.DoorListAnswer,
        answer_text="The signed door list.",
    ),
    _operation(
        "POST",
        "offline-scans",
        "checkInOfflineScans",
        "Upload scans made offline; applied in the order they were made.",
        description="The first scan of a ticket wins; later ones, and those that meet an"
        " admission made online, come back as conflicts with who let the ticket in and when.",
        handler=offline_scans,
        body=models.OfflineUploadInput,
        answer=models.OfflineUploadAnswer,
        answer_text="What was admitted, the conflicts and the refusals.",
    ),
]
