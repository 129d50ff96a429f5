"""The door without a network: a signed list of a performance's tickets to take along, and
the upload of the scans made with it once the network is back.

The list carries the SHA-256 of each secret, never the secret: a lost phone or laptop does
not hand out tickets. The upload applies scans in the order they were made; the first scan of
a ticket wins, and every later one (or one that met an admission made online) is listed as a
conflict with who let the ticket in and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import attrs

from mierloos_core import errors
from mierloos_core.model.admissions import (
    Admission,
    DoorTicket,
    Scan,
    ScanResult,
    is_secret_hash,
    secret_hash,
    ticket_code,
)
from mierloos_core.model.orders import TicketStatus
from mierloos_core.model.seating import Seat
from mierloos_core.model.timeutil import require_aware
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.door import (
    Entrance,
    PerformanceLabel,
    admit_ticket,
    performance_label,
    require_performance,
)

MAX_UPLOAD_SCANS = 5000


class TooManyScans(errors.ValidationError):
    code = "too_many_scans"
    message = f"Stuur hoogstens {MAX_UPLOAD_SCANS} scans tegelijk."


@attrs.frozen(kw_only=True)
class DoorListEntry:
    ticket_id: uuid.UUID
    secret_sha256: str
    holder_name: str
    category_name: str
    valid: bool  # False: refunded since
    admitted_at: datetime | None
    seat: str | None = None  # reserved seating: section, row and seat


@attrs.frozen(kw_only=True)
class DoorList:
    performance: PerformanceLabel
    made_at: datetime
    entries: tuple[DoorListEntry, ...]


@attrs.frozen(kw_only=True)
class OfflineScan:
    """A scan made offline: `code` is the ticket's secret or its SHA-256 (hex)."""

    code: str
    scanned_at: datetime = attrs.field(validator=require_aware)
    door: str


@attrs.frozen(kw_only=True)
class UploadLine:
    code: str
    result: ScanResult
    scanned_at: datetime
    door: str
    ticket_id: uuid.UUID | None = None
    # For a conflict: the admission that stands.
    admission: Admission | None = None


@attrs.frozen(kw_only=True)
class UploadReport:
    admitted: tuple[UploadLine, ...]
    conflicts: tuple[UploadLine, ...]  # already admitted: who and when in `admission`
    refused: tuple[UploadLine, ...]  # unknown, another performance, refunded, ...


def _entry(ticket: DoorTicket, seat: Seat | None) -> DoorListEntry:
    return DoorListEntry(
        ticket_id=ticket.id,
        secret_sha256=secret_hash(ticket.secret),
        holder_name=ticket.holder_name,
        category_name=ticket.category_name,
        valid=ticket.status is TicketStatus.VALID,
        admitted_at=ticket.admission.at if ticket.admission else None,
        seat=seat.ref.describe() if seat else None,
    )


@attrs.define(eq=False)
class OfflineDoor(Service):
    def door_list(self, performance_id: uuid.UUID) -> DoorList:
        with self.uow() as uow:
            label = performance_label(uow, require_performance(uow, performance_id))
            tickets = uow.admissions.tickets_for(performance_id)
            seats = uow.seating.seats_of_performance(performance_id)
        entries = sorted(
            (_entry(t, seats.get(t.id)) for t in tickets), key=lambda e: e.secret_sha256
        )
        return DoorList(performance=label, made_at=self.clock.now(), entries=tuple(entries))

    def upload(
        self, performance_id: uuid.UUID, scans: Sequence[OfflineScan], staff: str
    ) -> UploadReport:
        """Apply offline scans in the order they were made, in one unit of work."""
        if len(scans) > MAX_UPLOAD_SCANS:
            raise TooManyScans()
        entrances = {
            s.door: Entrance(performance_id=performance_id, door=s.door, staff=staff) for s in scans
        }
        admitted: list[UploadLine] = []
        conflicts: list[UploadLine] = []
        refused: list[UploadLine] = []
        with self.uow() as uow:
            require_performance(uow, performance_id)
            by_hash = {secret_hash(t.secret): t for t in uow.admissions.tickets_for(performance_id)}
            for scan in sorted(scans, key=lambda s: s.scanned_at):
                ticket = self._ticket(uow, by_hash, scan.code)
                outcome = admit_ticket(uow, ticket, entrances[scan.door], scan.scanned_at)
                line = UploadLine(
                    code=scan.code,
                    result=outcome.result,
                    scanned_at=scan.scanned_at,
                    door=entrances[scan.door].door,
                    ticket_id=ticket.id if ticket else None,
                    admission=outcome.admission,
                )
                if ticket is not None and outcome.result is ScanResult.ADMITTED:
                    by_hash[secret_hash(ticket.secret)] = attrs.evolve(
                        ticket, admission=outcome.admission
                    )
                {
                    ScanResult.ADMITTED: admitted,
                    ScanResult.ALREADY_ADMITTED: conflicts,
                }.get(outcome.result, refused).append(line)
                uow.admissions.record(
                    Scan(
                        performance_id=performance_id,
                        ticket_id=line.ticket_id,
                        result=outcome.result,
                        door=line.door,
                        staff=staff,
                        scanned_at=scan.scanned_at,
                        offline=True,
                        seat_id=outcome.seat.id if outcome.seat else None,
                    )
                )
            uow.commit()
        return UploadReport(
            admitted=tuple(admitted), conflicts=tuple(conflicts), refused=tuple(refused)
        )

    @staticmethod
    def _ticket(uow: UnitOfWork, by_hash: dict[str, DoorTicket], code: str) -> DoorTicket | None:
        text = code.strip().lower() if len(code) < 100 else ""
        if is_secret_hash(text):
            return by_hash.get(text)
        secret = ticket_code(code)
        if secret is None:
            return None
        # A secret of another performance is still found, to say which one.
        return by_hash.get(secret_hash(secret)) or uow.admissions.ticket_by_secret(secret)
