"""Admissions (columns of `tickets`), the scan log and the scanner apps' device tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, insert, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, enum_value
from mierloos_core.model import admissions
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.model.records import copied

SCAN_ROWS = RowMap(admissions.Scan, t.door_scans, result=enum_value(admissions.ScanResult))
DEVICE_ROWS = RowMap(admissions.DeviceToken, t.device_tokens)

_tk, _or = t.tickets, t.orders
_DOOR_TICKET = select(
    _tk.c.id,
    _tk.c.order_id,
    _tk.c.performance_id,
    _tk.c.category_name,
    _tk.c.status,
    _tk.c.secret,
    _tk.c.admitted_at,
    _tk.c.admitted_door,
    _tk.c.admitted_by,
    _or.c.name.label("holder_name"),
    _or.c.status.label("order_status"),
    _or.c.paid_at,
).join(_or, _or.c.id == _tk.c.order_id)
_INSERT_SCAN = insert(t.door_scans)
# The door's busy path, built once (see orders.py on why).
_BY_SECRET = _DOOR_TICKET.where(_tk.c.secret == bindparam("secret"))
_ADMIT = (
    update(_tk)
    .where(
        _tk.c.id == bindparam("ticket_id"),
        _tk.c.status == TicketStatus.VALID.value,
        _tk.c.admitted_at.is_(None),
    )
    .values(
        admitted_at=bindparam("at"), admitted_door=bindparam("door"), admitted_by=bindparam("by")
    )
)
_EVER_PAID = (TicketStatus.VALID.value, TicketStatus.REFUNDED.value)
_ds = t.door_scans
_SEAT_ADMISSION = (
    select(_tk.c.admitted_at, _tk.c.admitted_door, _tk.c.admitted_by)
    .join(_ds, _ds.c.ticket_id == _tk.c.id)
    .where(
        _ds.c.performance_id == bindparam("performance"),
        _ds.c.seat_id == bindparam("seat"),
        _ds.c.result == admissions.ScanResult.ADMITTED.value,
        _tk.c.id != bindparam("other"),
        _tk.c.admitted_at.is_not(None),
    )
    .limit(1)
)


def _admission(row: Row[Any] | None) -> admissions.Admission | None:
    """The admission in a ticket row's `admitted_*` columns; None when it was not let in."""
    if row is None or row.admitted_at is None:
        return None
    return admissions.Admission(
        at=row.admitted_at, door=row.admitted_door or "", by=row.admitted_by or ""
    )


def _door_ticket(row: Row[Any]) -> admissions.DoorTicket:
    return copied(
        admissions.DoorTicket,
        row,
        status=TicketStatus(row.status),
        order_paid=row.paid_at is not None or row.order_status == OrderStatus.PAID.value,
        admission=_admission(row),
    )


class SqlAdmissions(SqlRepository):
    def ticket_by_secret(self, secret: str) -> admissions.DoorTicket | None:
        row = self.db.execute(_BY_SECRET, {"secret": secret}).first()
        return _door_ticket(row) if row else None

    def tickets_for(self, performance_id: uuid.UUID) -> list[admissions.DoorTicket]:
        query = _DOOR_TICKET.where(
            _tk.c.performance_id == performance_id, _tk.c.status.in_(_EVER_PAID)
        )
        return [_door_ticket(row) for row in self.db.execute(query)]

    def admit(self, ticket_id: uuid.UUID, admission: admissions.Admission) -> bool:
        values = {"at": admission.at, "door": admission.door, "by": admission.by}
        done = self.db.execute(_ADMIT, {"ticket_id": ticket_id, **values})
        return done.rowcount == 1

    def unadmit(self, ticket_id: uuid.UUID, admitted_at: datetime) -> bool:
        done = self.db.execute(
            update(_tk)
            .where(_tk.c.id == ticket_id, _tk.c.admitted_at == admitted_at)
            .values(admitted_at=None, admitted_door=None, admitted_by=None)
        )
        return done.rowcount == 1

    def record(self, scan: admissions.Scan) -> None:
        self.db.execute(_INSERT_SCAN, SCAN_ROWS.values(scan))

    def seat_admission(
        self, performance_id: uuid.UUID, seat_id: uuid.UUID, other_than: uuid.UUID
    ) -> admissions.Admission | None:
        row = self.db.execute(
            _SEAT_ADMISSION, {"performance": performance_id, "seat": seat_id, "other": other_than}
        ).first()
        return _admission(row)

    def last_scan(
        self, performance_id: uuid.UUID, door: str, staff: str, results: frozenset[str]
    ) -> admissions.Scan | None:
        scans = t.door_scans.c
        query = (
            select(t.door_scans)
            .where(
                and_(
                    scans.performance_id == performance_id,
                    scans.door == door,
                    scans.staff == staff,
                    scans.result.in_(sorted(results)),
                )
            )
            .order_by(scans.scanned_at.desc())
            .limit(1)
        )
        return self._first(SCAN_ROWS, query)

    def scans(self, performance_id: uuid.UUID, *, limit: int) -> list[admissions.Scan]:
        scans = t.door_scans.c
        query = (
            select(t.door_scans)
            .where(scans.performance_id == performance_id)
            .order_by(scans.scanned_at.desc())
            .limit(limit)
        )
        return self._all(SCAN_ROWS, query)

    def counts(self, performance_id: uuid.UUID) -> list[admissions.CategoryCount]:
        query = (
            select(_tk.c.category_name, func.count(_tk.c.admitted_at), func.count())
            .where(_tk.c.performance_id == performance_id, _tk.c.status == TicketStatus.VALID.value)
            .group_by(_tk.c.category_name)
            .order_by(_tk.c.category_name)
        )
        return [
            admissions.CategoryCount(category_name=name, admitted=int(admitted), sold=int(sold))
            for name, admitted, sold in self.db.execute(query)
        ]


class SqlDeviceTokens(SqlRepository):
    def add(self, token: admissions.DeviceToken) -> None:
        self._insert(DEVICE_ROWS, token)

    def get_by_hash(self, token_hash: str) -> admissions.DeviceToken | None:
        return self._find(DEVICE_ROWS, t.device_tokens.c.token_hash == token_hash)

    def list(self) -> list[admissions.DeviceToken]:
        return self._find_all(DEVICE_ROWS, order_by=[t.device_tokens.c.created_at.desc()])

    def revoke(self, token_id: uuid.UUID, at: datetime) -> bool:
        tokens = t.device_tokens.c
        done = self.db.execute(
            update(t.device_tokens)
            .where(tokens.id == token_id, tokens.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return done.rowcount == 1
