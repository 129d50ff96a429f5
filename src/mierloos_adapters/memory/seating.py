"""The seating port in memory: plans and seat states in the store, under its lock."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence

import attrs

from mierloos_adapters.memory.store import MemoryStore
from mierloos_core.model.seating import Hall, PerformanceSeat, Seat, SeatPlan, SeatState
from mierloos_core.ports.seating import SeatTickets


class MemorySeating:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add_hall(self, hall: Hall) -> None:
        self._store.halls[hall.id] = hall

    def get_hall(self, hall_id: uuid.UUID) -> Hall | None:
        return self._store.halls.get(hall_id)

    def halls(self) -> list[Hall]:
        return list(self._store.halls.values())

    def add_plan(self, plan: SeatPlan) -> None:
        if plan.hall_id not in self._store.halls:
            raise ValueError("the plan's hall is not stored")
        if any(p.version == plan.version for p in self.plans_of_hall(plan.hall_id)):
            raise ValueError("the hall has this plan version already")
        self._store.seat_plans[plan.id] = plan

    def get_plan(self, plan_id: uuid.UUID) -> SeatPlan | None:
        return self._store.seat_plans.get(plan_id)

    def plans_of_hall(self, hall_id: uuid.UUID) -> list[SeatPlan]:
        plans = [p for p in self._store.seat_plans.values() if p.hall_id == hall_id]
        return sorted(plans, key=lambda p: p.version)

    def put_on_sale(
        self, performance_id: uuid.UUID, plan_id: uuid.UUID, seats: Sequence[PerformanceSeat]
    ) -> None:
        if performance_id in self._store.performance_plans:
            raise ValueError("the performance sells reserved seats already")
        self._store.performance_plans[performance_id] = plan_id
        table = self._store.performance_seats.setdefault(performance_id, {})
        for seat in seats:
            table[seat.seat_id] = attrs.evolve(seat)

    def plan_of(self, performance_id: uuid.UUID) -> uuid.UUID | None:
        return self._store.performance_plans.get(performance_id)

    def states(
        self, performance_id: uuid.UUID, seat_ids: Collection[uuid.UUID] | None = None
    ) -> list[PerformanceSeat]:
        table = self._store.performance_seats.get(performance_id, {})
        wanted = sorted(table) if seat_ids is None else sorted(set(seat_ids) & set(table))
        return [attrs.evolve(table[seat_id]) for seat_id in wanted]

    def free_seats(self, performance_id: uuid.UUID, category_id: uuid.UUID) -> set[uuid.UUID]:
        table = self._store.performance_seats.get(performance_id, {})
        return {
            seat_id
            for seat_id, seat in table.items()
            if seat.state is SeatState.FREE and seat.category_id == category_id
        }

    def take(
        self, performance_id: uuid.UUID, tickets: SeatTickets, order_id: uuid.UUID, state: SeatState
    ) -> int:
        table = self._store.performance_seats.get(performance_id, {})
        taken = 0
        for seat_id in sorted(tickets):
            seat = table.get(seat_id)
            if seat is not None and seat.state is SeatState.FREE:
                seat.state, seat.order_id, seat.ticket_id = state, order_id, tickets[seat_id]
                taken += 1
        return taken

    def sell(self, order_id: uuid.UUID) -> int:
        return self._change(order_id, None, (SeatState.HELD,), SeatState.SOLD)

    def release(self, order_id: uuid.UUID, ticket_ids: Collection[uuid.UUID] | None = None) -> int:
        return self._change(order_id, ticket_ids, (SeatState.HELD, SeatState.SOLD), SeatState.FREE)

    def seats_of_order(self, order_id: uuid.UUID) -> dict[uuid.UUID, Seat]:
        return self._ticket_seats(lambda _, seat: seat.order_id == order_id)

    def seats_of_performance(self, performance_id: uuid.UUID) -> dict[uuid.UUID, Seat]:
        return self._ticket_seats(lambda performance, _: performance == performance_id)

    def _ticket_seats(
        self, wanted: Callable[[uuid.UUID, PerformanceSeat], bool]
    ) -> dict[uuid.UUID, Seat]:
        found: dict[uuid.UUID, Seat] = {}
        for performance_id, table in self._store.performance_seats.items():
            plan = self._store.seat_plans[self._store.performance_plans[performance_id]]
            for seat in table.values():
                if seat.ticket_id is not None and wanted(performance_id, seat):
                    found[seat.ticket_id] = plan.by_id[seat.seat_id]
        return found

    def _change(
        self,
        order_id: uuid.UUID,
        ticket_ids: Collection[uuid.UUID] | None,
        sources: tuple[SeatState, ...],
        target: SeatState,
    ) -> int:
        changed = 0
        for table in self._store.performance_seats.values():
            for seat in table.values():
                if seat.order_id != order_id or seat.state not in sources:
                    continue
                if ticket_ids is not None and seat.ticket_id not in ticket_ids:
                    continue
                seat.state = target
                if target is SeatState.FREE:
                    seat.order_id = seat.ticket_id = None
                changed += 1
        return changed
