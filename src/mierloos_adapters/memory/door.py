"""Admissions, the scan log and device tokens in a `MemoryStore`."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

import attrs

from mierloos_adapters.memory.store import MemoryStore, TableRepository, detached_copy
from mierloos_core.model.admissions import (
    Admission,
    CategoryCount,
    DeviceToken,
    DoorTicket,
    Scan,
    ScanResult,
)
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketStatus
from mierloos_core.model.records import copied

_EVER_PAID = (TicketStatus.VALID, TicketStatus.REFUNDED)


class MemoryAdmissions:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _door_ticket(self, order: Order, ticket: Ticket) -> DoorTicket:
        return copied(
            DoorTicket,
            ticket,
            order_id=order.id,
            holder_name=order.name,
            order_paid=order.paid_at is not None or order.status is OrderStatus.PAID,
            admission=self._store.admissions.get(ticket.id),
        )

    def _find(self, ticket_id: uuid.UUID) -> Ticket | None:
        for order in self._store.orders.values():
            for ticket in order.tickets:
                if ticket.id == ticket_id:
                    return ticket
        return None

    def ticket_by_secret(self, secret: str) -> DoorTicket | None:
        for order in self._store.orders.values():
            for ticket in order.tickets:
                if ticket.secret == secret:
                    return self._door_ticket(order, ticket)
        return None

    def tickets_for(self, performance_id: uuid.UUID) -> list[DoorTicket]:
        return [
            self._door_ticket(order, ticket)
            for order in self._store.orders.values()
            for ticket in order.tickets
            if ticket.performance_id == performance_id and ticket.status in _EVER_PAID
        ]

    def admit(self, ticket_id: uuid.UUID, admission: Admission) -> bool:
        ticket = self._find(ticket_id)
        if ticket is None or ticket.status is not TicketStatus.VALID:
            return False
        if ticket_id in self._store.admissions:
            return False
        self._store.admissions[ticket_id] = admission
        return True

    def unadmit(self, ticket_id: uuid.UUID, admitted_at: datetime) -> bool:
        admission = self._store.admissions.get(ticket_id)
        if admission is None or admission.at != admitted_at:
            return False
        del self._store.admissions[ticket_id]
        return True

    def record(self, scan: Scan) -> None:
        self._store.door_scans.append(scan)

    def last_scan(
        self, performance_id: uuid.UUID, door: str, staff: str, results: frozenset[str]
    ) -> Scan | None:
        found = [
            scan
            for scan in self._store.door_scans
            if scan.performance_id == performance_id
            and scan.door == door
            and scan.staff == staff
            and scan.result.value in results
        ]
        return max(found, key=lambda scan: scan.scanned_at, default=None)

    def seat_admission(
        self, performance_id: uuid.UUID, seat_id: uuid.UUID, other_than: uuid.UUID
    ) -> Admission | None:
        for scan in reversed(self._store.door_scans):
            if (
                scan.performance_id == performance_id
                and scan.seat_id == seat_id
                and scan.result is ScanResult.ADMITTED
                and scan.ticket_id not in (None, other_than)
                and (admission := self._store.admissions.get(scan.ticket_id)) is not None
            ):
                return admission
        return None

    def scans(self, performance_id: uuid.UUID, *, limit: int) -> list[Scan]:
        found = [scan for scan in self._store.door_scans if scan.performance_id == performance_id]
        return sorted(found, key=lambda scan: scan.scanned_at, reverse=True)[:limit]

    def counts(self, performance_id: uuid.UUID) -> list[CategoryCount]:
        sold: Counter[str] = Counter()
        admitted: Counter[str] = Counter()
        for order in self._store.orders.values():
            for ticket in order.tickets:
                if ticket.performance_id == performance_id and ticket.status is TicketStatus.VALID:
                    sold[ticket.category_name] += 1
                    admitted[ticket.category_name] += ticket.id in self._store.admissions
        return [
            CategoryCount(category_name=name, admitted=admitted[name], sold=sold[name])
            for name in sorted(sold)
        ]


class MemoryDeviceTokens(TableRepository[DeviceToken]):
    _table = "device_tokens"

    def get_by_hash(self, token_hash: str) -> DeviceToken | None:
        return self._find(lambda token: token.token_hash == token_hash)

    def list(self) -> list[DeviceToken]:
        return sorted(super().list(), key=lambda token: token.created_at, reverse=True)

    def revoke(self, token_id: uuid.UUID, at: datetime) -> bool:
        token = self._rows.get(token_id)
        if token is None or token.revoked_at is not None:
            return False
        self._rows[token_id] = detached_copy(attrs.evolve(token, revoked_at=at))
        return True
