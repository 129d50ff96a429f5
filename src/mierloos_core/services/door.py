"""Check-in at the door: scan a ticket, undo the last admission, count who is in.

Every scan is one unit of work: look the ticket up by its secret (an index), decide by the
rules in `model.admissions`, admit with one conditional update (`admit` answers False when
another door got there first: the ticket is then reported as already admitted), and record
the scan, whatever its result.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import attrs

from mierloos_core import errors
from mierloos_core.model.admissions import (
    MAX_DOOR_LENGTH,
    MAX_STAFF_LENGTH,
    Admission,
    CategoryCount,
    DoorTicket,
    Scan,
    ScanResult,
    refusal,
    ticket_code,
)
from mierloos_core.model.catalog import Performance
from mierloos_core.model.records import copied
from mierloos_core.model.seating import Seat
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service

_TICK = timedelta(microseconds=1)
_UNDOABLE = frozenset({ScanResult.ADMITTED.value, ScanResult.UNDONE.value})


class InvalidDoor(errors.ValidationError):
    code = "invalid_door"
    message = f"Geef de deur een naam van 1 tot {MAX_DOOR_LENGTH} tekens."


def _door_name(door: str) -> str:
    return door.strip()


@attrs.frozen(kw_only=True)
class Entrance:
    """Where and by whom a scan is made."""

    performance_id: uuid.UUID
    door: str = attrs.field(converter=_door_name)
    staff: str

    def __attrs_post_init__(self) -> None:
        if not 0 < len(self.door) <= MAX_DOOR_LENGTH or len(self.staff) > MAX_STAFF_LENGTH:
            raise InvalidDoor()


@attrs.frozen(kw_only=True)
class PerformanceLabel:
    id: uuid.UUID
    show_title: str
    starts_at: datetime
    hall: str | None


@attrs.frozen(kw_only=True)
class ScanOutcome:
    result: ScanResult
    scanned_at: datetime
    ticket: DoorTicket | None = None
    # The admission that was there before (already admitted), or the one just made.
    admission: Admission | None = None
    # The ticket's own performance, when it is for another one.
    other_performance: PerformanceLabel | None = None
    # Reserved seating: the ticket's seat, and someone else let in on it before (still in).
    seat: Seat | None = None
    seat_taken: Admission | None = None


def performance_label(uow: UnitOfWork, performance: Performance) -> PerformanceLabel:
    show = uow.shows.get(performance.show_id)
    return PerformanceLabel(
        id=performance.id,
        show_title=show.title if show else "",
        starts_at=performance.starts_at,
        hall=performance.hall,
    )


def require_performance(uow: UnitOfWork, performance_id: uuid.UUID) -> Performance:
    performance = uow.performances.get(performance_id)
    if performance is None:
        raise errors.UnknownPerformance(performance_id=str(performance_id))
    return performance


def admit_ticket(
    uow: UnitOfWork, ticket: DoorTicket | None, entrance: Entrance, at: datetime
) -> ScanOutcome:
    """Decide and, when it may, admit: the step a scan and an offline upload share."""
    refused = refusal(ticket, entrance.performance_id)
    seat = uow.seating.seats_of_order(ticket.order_id).get(ticket.id) if ticket else None
    if refused is None and ticket is not None:
        admission = Admission(at=at, door=entrance.door, by=entrance.staff)
        if uow.admissions.admit(ticket.id, admission):
            taken = (
                uow.admissions.seat_admission(entrance.performance_id, seat.id, ticket.id)
                if seat is not None
                else None
            )
            return ScanOutcome(
                result=ScanResult.ADMITTED,
                scanned_at=at,
                ticket=ticket,
                admission=admission,
                seat=seat,
                seat_taken=taken,
            )
        # Another door admitted it between the read and the update: read who did.
        ticket = uow.admissions.ticket_by_secret(ticket.secret)
        refused = refusal(ticket, entrance.performance_id) or ScanResult.ALREADY_ADMITTED
    other = None
    if refused is ScanResult.OTHER_PERFORMANCE and ticket is not None:
        own = uow.performances.get(ticket.performance_id)
        other = performance_label(uow, own) if own else None
    return ScanOutcome(
        result=refused or ScanResult.UNKNOWN,
        scanned_at=at,
        ticket=ticket,
        admission=ticket.admission if ticket else None,
        other_performance=other,
        seat=seat,
    )


def scan_ticket(uow: UnitOfWork, entrance: Entrance, text: str, now: datetime) -> ScanOutcome:
    """One scan in the caller's unit of work: decide, admit when it may, log it.

    The performance is read only when the scan does not admit: an admission proves it exists
    (the ticket is for it), and the door's busy path saves the round trip.
    """
    code = ticket_code(text)
    ticket = uow.admissions.ticket_by_secret(code) if code else None
    outcome = admit_ticket(uow, ticket, entrance, now)
    if not outcome.result.admits:
        require_performance(uow, entrance.performance_id)
    uow.admissions.record(
        Scan(
            performance_id=entrance.performance_id,
            ticket_id=ticket.id if ticket else None,
            result=outcome.result,
            door=entrance.door,
            staff=entrance.staff,
            scanned_at=now,
            seat_id=outcome.seat.id if outcome.seat else None,
        )
    )
    return outcome


@attrs.define(eq=False)
class Door(Service):
    """The door's use cases, for the door page and the check-in API."""

    def check_in(self, entrance: Entrance, text: str) -> ScanOutcome:
        """Scan `text` (the QR code's content, as scanned or typed) at `entrance`."""
        with self.uow() as uow:
            outcome = scan_ticket(uow, entrance, text, self.clock.now())
            uow.commit()
        return outcome

    def undo_last(self, entrance: Entrance) -> ScanOutcome | None:
        """Take back the last admission this door and staff member made; None when there is
        none left to take back (nothing admitted, or it was taken back already)."""
        with self.uow() as uow:
            last = uow.admissions.last_scan(
                entrance.performance_id, entrance.door, entrance.staff, _UNDOABLE
            )
            if last is None or last.result is not ScanResult.ADMITTED or last.ticket_id is None:
                return None
            if not uow.admissions.unadmit(last.ticket_id, last.scanned_at):
                return None
            # After the admission it takes back, even on a clock that stands still.
            now = max(self.clock.now(), last.scanned_at + _TICK)
            uow.admissions.record(
                copied(
                    Scan,
                    entrance,
                    ticket_id=last.ticket_id,
                    result=ScanResult.UNDONE,
                    scanned_at=now,
                )
            )
            uow.commit()
        return ScanOutcome(result=ScanResult.UNDONE, scanned_at=now)

    def counts(self, performance_id: uuid.UUID) -> list[CategoryCount]:
        with self.uow() as uow:
            require_performance(uow, performance_id)
            return uow.admissions.counts(performance_id)

    def performances(self, since: timedelta = timedelta(hours=12)) -> list[PerformanceLabel]:
        """Published performances that start from `since` ago on, soonest first: the door's
        choice (tonight's has begun by the time the last visitors arrive)."""
        with self.uow() as uow:
            found = uow.performances.upcoming(self.clock.now() - since)
            return [performance_label(uow, performance) for performance in found]

    def performance(self, performance_id: uuid.UUID) -> PerformanceLabel:
        with self.uow() as uow:
            return performance_label(uow, require_performance(uow, performance_id))

    def recent_scans(self, performance_id: uuid.UUID, limit: int = 20) -> list[Scan]:
        with self.uow() as uow:
            return uow.admissions.scans(performance_id, limit=limit)
