"""The check-in API's requests and answers (see `checkin_api`), and the one conversion of a
scan's outcome to its answer that the door page shares."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

from mierloos_core.model.admissions import (
    MAX_CODE_LENGTH,
    MAX_DOOR_LENGTH,
    CategoryCount,
    ScanResult,
)
from mierloos_core.model.timeutil import local
from mierloos_core.services.door import PerformanceLabel, ScanOutcome
from mierloos_core.services.door_offline import MAX_UPLOAD_SCANS, DoorList, UploadLine
from mierloos_entrypoints.web.api_models import ApiModel, Moment, Text, Uuid


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("tijd zonder tijdzone")
    return value


Code = Annotated[Text, Field(max_length=MAX_CODE_LENGTH)]
DoorName = Annotated[Text, Field(min_length=1, max_length=MAX_DOOR_LENGTH)]
#: A moment with its offset, as ISO 8601 text.
AwareMoment = Annotated[datetime, Field(strict=False), AfterValidator(_aware)]


class PerformanceParameters(ApiModel):
    model_config = ConfigDict(strict=False, extra="ignore")

    performance_id: Uuid


class ScanInput(ApiModel):
    code: Code = Field(description="The QR code's text (the ticket's secret), as scanned.")
    door: DoorName


class UndoInput(ApiModel):
    door: DoorName


class OfflineScanInput(ApiModel):
    code: Code = Field(description="The ticket's secret, or its SHA-256 from the door list.")
    scanned_at: AwareMoment
    door: DoorName


class OfflineUploadInput(ApiModel):
    scans: Annotated[list[OfflineScanInput], Field(max_length=MAX_UPLOAD_SCANS)]


class PerformanceInfo(ApiModel):
    id: Uuid
    show_title: str
    starts_at: Moment
    hall: str | None


class TicketInfo(ApiModel):
    holder_name: str
    category_name: str
    seat: str | None = Field(default=None, description="Reserved seating: section, row, seat.")


class AdmissionInfo(ApiModel):
    at: Moment
    door: str
    by: str


class CheckInAnswer(ApiModel):
    result: ScanResult
    admitted: bool
    label: str = Field(description="Dutch, for the door's screen.")
    message: str = Field(description="Dutch: the reason, with who and when where it helps.")
    scanned_at: Moment
    ticket: TicketInfo | None
    admission: AdmissionInfo | None = Field(
        description="The admission made now, or the one before (already_admitted)."
    )
    other_performance: PerformanceInfo | None
    seat_already_admitted: AdmissionInfo | None = Field(
        default=None,
        description="Reserved seating: someone else was let in on this ticket's seat before"
        " (and is still in); the ticket is admitted, the door should look at the seat.",
    )


class UndoAnswer(ApiModel):
    undone: bool
    message: str


class CategoryCountAnswer(ApiModel):
    category_name: str
    admitted: int
    sold: int


class CountsAnswer(ApiModel):
    admitted: int
    sold: int
    categories: list[CategoryCountAnswer]


class DoorListTicket(ApiModel):
    secret_sha256: str
    holder_name: str
    category_name: str
    valid: bool
    admitted_at: Moment | None
    seat: str | None = Field(default=None, description="Reserved seating: section, row, seat.")


class DoorListAnswer(ApiModel):
    performance: PerformanceInfo
    made_at: Moment
    tickets: list[DoorListTicket]
    signature: str = Field(
        description="HMAC-SHA256 (hex) of the other fields as compact JSON with sorted keys."
    )


class OfflineLine(ApiModel):
    code: str
    result: ScanResult
    door: str
    scanned_at: Moment
    admission: AdmissionInfo | None


class OfflineUploadAnswer(ApiModel):
    admitted: int
    conflicts: list[OfflineLine]
    refused: list[OfflineLine]


# --- conversions -------------------------------------------------------------------------------


def performance_info(label: PerformanceLabel) -> PerformanceInfo:
    return PerformanceInfo(
        id=label.id, show_title=label.show_title, starts_at=label.starts_at, hall=label.hall
    )


def _when(moment: datetime) -> str:
    return local(moment).strftime("%H:%M")


def scan_message(outcome: ScanOutcome) -> str:
    result, ticket, admission = outcome.result, outcome.ticket, outcome.admission
    if result is ScanResult.ADMITTED and ticket is not None:
        welcome = f"{ticket.category_name} · {ticket.holder_name}"
        if outcome.seat is not None:
            welcome += f" · {outcome.seat.ref.describe()}"
        if (taken := outcome.seat_taken) is not None:
            welcome += (
                f". Let op: op deze stoel is al iemand binnen sinds {_when(taken.at)}"
                f" via {taken.door} ({taken.by})"
            )
        return welcome
    if result is ScanResult.ALREADY_ADMITTED and admission is not None:
        return f"Al binnen sinds {_when(admission.at)} via {admission.door} ({admission.by})"
    if result is ScanResult.OTHER_PERFORMANCE and outcome.other_performance is not None:
        other = outcome.other_performance
        starts = local(other.starts_at)
        return f"Deze kaart is voor {other.show_title}, {starts:%d-%m-%Y} om {starts:%H:%M}"
    return result.label


def check_in_answer(outcome: ScanOutcome) -> CheckInAnswer:
    ticket, admission = outcome.ticket, outcome.admission
    return CheckInAnswer(
        result=outcome.result,
        admitted=outcome.result.admits,
        label=outcome.result.label,
        message=scan_message(outcome),
        scanned_at=outcome.scanned_at,
        ticket=TicketInfo(
            holder_name=ticket.holder_name,
            category_name=ticket.category_name,
            seat=outcome.seat.ref.describe() if outcome.seat else None,
        )
        if ticket is not None and outcome.result is not ScanResult.OTHER_PERFORMANCE
        else None,
        admission=AdmissionInfo.from_record(admission) if admission is not None else None,
        other_performance=performance_info(outcome.other_performance)
        if outcome.other_performance is not None
        else None,
        seat_already_admitted=AdmissionInfo.from_record(outcome.seat_taken)
        if outcome.seat_taken is not None
        else None,
    )


def counts_answer(counts: list[CategoryCount]) -> CountsAnswer:
    return CountsAnswer(
        admitted=sum(c.admitted for c in counts),
        sold=sum(c.sold for c in counts),
        categories=[
            CategoryCountAnswer(category_name=c.category_name, admitted=c.admitted, sold=c.sold)
            for c in counts
        ],
    )


def door_list_key(secret_key: str) -> bytes:
    """The door lists' signing key, derived from the site's secret key (never the key itself)."""
    return hmac.new(secret_key.encode(), b"mierloos door list", hashlib.sha256).digest()


def sign(payload: dict[str, Any], key: bytes) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def door_list_answer(door_list: DoorList, key: bytes) -> DoorListAnswer:
    unsigned = {
        "performance": performance_info(door_list.performance),
        "made_at": door_list.made_at,
        "tickets": [DoorListTicket.from_record(entry) for entry in door_list.entries],
    }
    draft = DoorListAnswer(**unsigned, signature="")  # type: ignore[arg-type]
    payload = draft.model_dump(mode="json", exclude={"signature"})
    return draft.model_copy(update={"signature": sign(payload, key)})


def offline_line(line: UploadLine) -> OfflineLine:
    admission = line.admission
    return OfflineLine.from_record(
        line,
        admission=AdmissionInfo.from_record(admission)
        if admission is not None and line.result is ScanResult.ALREADY_ADMITTED
        else None,
    )
