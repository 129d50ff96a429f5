"""The door's repositories: admissions with the scan log, and the scanner apps' device tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from mierloos_core.model.admissions import Admission, CategoryCount, DeviceToken, DoorTicket, Scan


class AdmissionRepository(Protocol):
    def ticket_by_secret(self, secret: str) -> DoorTicket | None:
        """The ticket whose QR code holds `secret` (found by an index)."""
        ...

    def tickets_for(self, performance_id: uuid.UUID) -> list[DoorTicket]:
        """Every ticket of the performance that was ever paid for (valid or refunded)."""
        ...

    def admit(self, ticket_id: uuid.UUID, admission: Admission) -> bool:
        """Let the ticket in: one conditional update on a valid ticket not admitted yet.

        False (and nothing changed) when it is admitted already or no longer valid: of two
        doors scanning it at once, exactly one gets True.
        """
        ...

    def unadmit(self, ticket_id: uuid.UUID, admitted_at: datetime) -> bool:
        """Take back the admission made at `admitted_at`; False when it is not that one."""
        ...

    def record(self, scan: Scan) -> None: ...
    def seat_admission(
        self, performance_id: uuid.UUID, seat_id: uuid.UUID, other_than: uuid.UUID
    ) -> Admission | None:
        """The admission of another ticket, still in, that was let in on this seat (a seat
        sold again after its ticket was refunded, say)."""
        ...

    def last_scan(
        self, performance_id: uuid.UUID, door: str, staff: str, results: frozenset[str]
    ) -> Scan | None:
        """The newest scan with one of `results` by this door and staff member."""
        ...

    def scans(self, performance_id: uuid.UUID, *, limit: int) -> list[Scan]:
        """The newest scans of the performance first."""
        ...

    def counts(self, performance_id: uuid.UUID) -> list[CategoryCount]:
        """Valid tickets per category name: admitted of sold, by name."""
        ...


class DeviceTokenRepository(Protocol):
    def add(self, token: DeviceToken) -> None: ...
    def get_by_hash(self, token_hash: str) -> DeviceToken | None: ...
    def list(self) -> list[DeviceToken]:
        """Newest first."""
        ...

    def revoke(self, token_id: uuid.UUID, at: datetime) -> bool:
        """False when there is no such token or it was revoked before."""
        ...
