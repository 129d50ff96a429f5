"""The seating port on SQL: plan versions as rows of seats, seat states per performance.

`take` is one UPDATE of exactly the asked rows (`state = 'free'` in its WHERE), the ticket of
each seat set by a CASE on the seat id; its row count tells the caller whether it got them
all. Plan versions never change, so they are kept per process once read.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, case, insert, select, update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, Stored
from mierloos_core.model.seating import (
    Hall,
    PerformanceSeat,
    Seat,
    SeatingMode,
    SeatPlan,
    SeatState,
)
from mierloos_core.ports.seating import SeatTickets

_PLANS: dict[uuid.UUID, SeatPlan] = {}
_PLANS_LOCK = threading.Lock()
_TAKEN = (SeatState.HELD.value, SeatState.SOLD.value)


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


# A seat of a plan version: the row's label and the column stored under longer names, the
# place as exact decimals.
SEAT_ROWS = RowMap(
    Seat,
    t.seats,
    row=Stored(column="row_label"),
    column=Stored(column="column_index"),
    x=Stored(load=float, dump=_decimal),
    y=Stored(load=float, dump=_decimal),
)


class SqlSeating(SqlRepository):
    def add_hall(self, hall: Hall) -> None:
        self.db.execute(insert(t.halls).values(id=hall.id, name=hall.name))

    def get_hall(self, hall_id: uuid.UUID) -> Hall | None:
        row = self.db.execute(select(t.halls).where(t.halls.c.id == hall_id)).first()
        return None if row is None else Hall(id=row.id, name=row.name)

    def halls(self) -> list[Hall]:
        rows = self.db.execute(select(t.halls)).all()
        return [Hall(id=row.id, name=row.name) for row in rows]

    def add_plan(self, plan: SeatPlan) -> None:
        self.db.execute(
            insert(t.seat_plans).values(
                id=plan.id,
                hall_id=plan.hall_id,
                version=plan.version,
                name=plan.name,
                created_at=plan.created_at,
            )
        )
        self.db.execute(
            insert(t.seats), [{**SEAT_ROWS.values(seat), "plan_id": plan.id} for seat in plan.seats]
        )

    def get_plan(self, plan_id: uuid.UUID) -> SeatPlan | None:
        with _PLANS_LOCK:
            known = _PLANS.get(plan_id)
        if known is not None:
            return known
        row = self.db.execute(select(t.seat_plans).where(t.seat_plans.c.id == plan_id)).first()
        if row is None:
            return None
        seat_rows = self.db.execute(select(t.seats).where(t.seats.c.plan_id == plan_id))
        plan = SeatPlan(
            id=row.id,
            hall_id=row.hall_id,
            version=row.version,
            name=row.name,
            created_at=row.created_at,
            seats=[SEAT_ROWS.load(seat) for seat in seat_rows],
        )
        with _PLANS_LOCK:
            _PLANS[plan_id] = plan
        return plan

    def plans_of_hall(self, hall_id: uuid.UUID) -> list[SeatPlan]:
        ids = self.db.execute(
            select(t.seat_plans.c.id)
            .where(t.seat_plans.c.hall_id == hall_id)
            .order_by(t.seat_plans.c.version)
        ).scalars()
        return [plan for plan_id in ids if (plan := self.get_plan(plan_id)) is not None]

    def put_on_sale(
        self, performance_id: uuid.UUID, plan_id: uuid.UUID, seats: Sequence[PerformanceSeat]
    ) -> None:
        changed = self.db.execute(
            update(t.performances)
            .where(
                t.performances.c.id == performance_id,
                t.performances.c.seating_mode == SeatingMode.FREE.value,
            )
            .values(seating_mode=SeatingMode.RESERVED.value, seat_plan_id=plan_id)
        )
        if changed.rowcount != 1:
            raise ValueError("the performance sells reserved seats already, or is gone")
        self.db.execute(
            insert(t.performance_seats),
            [
                {
                    "performance_id": performance_id,
                    "seat_id": seat.seat_id,
                    "category_id": seat.category_id,
                    "state": seat.state.value,
                    "order_id": seat.order_id,
                    "ticket_id": seat.ticket_id,
                }
                for seat in seats
            ],
        )

    def plan_of(self, performance_id: uuid.UUID) -> uuid.UUID | None:
        query = select(t.performances.c.seat_plan_id).where(t.performances.c.id == performance_id)
        plan_id: uuid.UUID | None = self.db.execute(query).scalar()
        return plan_id

    def states(
        self, performance_id: uuid.UUID, seat_ids: Collection[uuid.UUID] | None = None
    ) -> list[PerformanceSeat]:
        ps = t.performance_seats.c
        query = select(ps.seat_id, ps.category_id, ps.state, ps.order_id, ps.ticket_id).where(
            ps.performance_id == performance_id
        )
        if seat_ids is not None:
            query = query.where(ps.seat_id.in_(sorted(set(seat_ids))))
        rows = self.db.execute(query.order_by(ps.seat_id))
        return [
            PerformanceSeat(
                performance_id=performance_id,
                seat_id=row.seat_id,
                category_id=row.category_id,
                state=SeatState(row.state),
                order_id=row.order_id,
                ticket_id=row.ticket_id,
            )
            for row in rows
        ]

    def free_seats(self, performance_id: uuid.UUID, category_id: uuid.UUID) -> set[uuid.UUID]:
        ps = t.performance_seats.c
        rows = self.db.execute(
            select(ps.seat_id).where(
                ps.performance_id == performance_id,
                ps.category_id == category_id,
                ps.state == SeatState.FREE.value,
            )
        )
        return set(rows.scalars().all())

    def take(
        self, performance_id: uuid.UUID, tickets: SeatTickets, order_id: uuid.UUID, state: SeatState
    ) -> int:
        if not tickets:
            return 0
        ps = t.performance_seats.c
        seat_ids = sorted(tickets)
        result = self.db.execute(
            update(t.performance_seats)
            .where(
                ps.performance_id == performance_id,
                ps.seat_id.in_(seat_ids),
                ps.state == SeatState.FREE.value,
            )
            .values(
                state=state.value,
                order_id=order_id,
                ticket_id=case(
                    {seat_id: tickets[seat_id] for seat_id in seat_ids}, value=ps.seat_id
                ),
            )
        )
        return int(result.rowcount)

    def sell(self, order_id: uuid.UUID) -> int:
        ps = t.performance_seats.c
        result = self.db.execute(
            update(t.performance_seats)
            .where(ps.order_id == order_id, ps.state == SeatState.HELD.value)
            .values(state=SeatState.SOLD.value)
        )
        return int(result.rowcount)

    def release(self, order_id: uuid.UUID, ticket_ids: Collection[uuid.UUID] | None = None) -> int:
        ps = t.performance_seats.c
        query = update(t.performance_seats).where(ps.order_id == order_id, ps.state.in_(_TAKEN))
        if ticket_ids is not None:
            query = query.where(ps.ticket_id.in_(sorted(ticket_ids)))
        result = self.db.execute(
            query.values(state=SeatState.FREE.value, order_id=None, ticket_id=None)
        )
        return int(result.rowcount)

    def seats_of_order(self, order_id: uuid.UUID) -> dict[uuid.UUID, Seat]:
        return self._ticket_seats(t.performance_seats.c.order_id == order_id)

    def seats_of_performance(self, performance_id: uuid.UUID) -> dict[uuid.UUID, Seat]:
        return self._ticket_seats(t.performance_seats.c.performance_id == performance_id)

    def _ticket_seats(self, where: ColumnElement[bool]) -> dict[uuid.UUID, Seat]:
        ps = t.performance_seats.c
        rows = self.db.execute(
            select(ps.ticket_id, t.seats)
            .join(t.seats, t.seats.c.id == ps.seat_id)
            .where(where, ps.ticket_id.is_not(None))
        )
        return {row.ticket_id: SEAT_ROWS.load(row) for row in rows}
