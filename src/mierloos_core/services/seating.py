"""Staff's seat plans, putting a performance on reserved seating, and the seat map to read.

A performance goes on reserved seating before it sold anything: its capacity becomes the
plan's sellable seats (blocked ones do not count), each seat gets the price category of its
zone, and from then on a sale takes a count and a numbered seat in one transaction (see
`seat_holds`), so `available_seats` always equals its free seats (plus what its waiting list
holds for offers).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import attrs

from mierloos_core import errors
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.seating import (
    Hall,
    PerformanceSeat,
    Seat,
    SeatPlan,
    SeatState,
    SectionSpec,
    generate_plan,
)
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.order_lifecycle import get_performance


@attrs.frozen(kw_only=True)
class MapSeat:
    """One seat as the map shows it: where, what, which state, and what it costs."""

    seat: Seat
    state: SeatState
    category_id: uuid.UUID
    category_name: str
    price: Money


@attrs.frozen(kw_only=True)
class SeatMap:
    performance_id: uuid.UUID
    plan_id: uuid.UUID
    plan_version: int
    hall_name: str
    seats: tuple[MapSeat, ...]

    @property
    def free(self) -> int:
        return sum(1 for seat in self.seats if seat.state is SeatState.FREE)


@attrs.define(eq=False)
class Seating(Service):
    def add_hall(self, name: str) -> Hall:
        """A new hall; its name is its own (a name in use, in any case, is refused)."""
        hall = Hall(name=" ".join(name.split()))
        with self.uow() as uow:
            if any(other.name.casefold() == hall.name.casefold() for other in uow.seating.halls()):
                message = f"Er is al een zaal die {hall.name} heet; kies een andere naam."
                raise errors.ValidationError(message, fields={"naam": message})
            uow.seating.add_hall(hall)
            uow.commit()
        return hall

    def generate(self, hall_id: uuid.UUID, name: str, sections: Sequence[SectionSpec]) -> SeatPlan:
        """A new version of the hall's plan from the generator (version 1 for a new hall)."""
        with self.uow() as uow:
            errors.required(uow.seating.get_hall(hall_id), errors.NotFound(hall_id=str(hall_id)))
            versions = [plan.version for plan in uow.seating.plans_of_hall(hall_id)]
            plan = generate_plan(
                plan_id=new_id(),
                hall_id=hall_id,
                name=name,
                sections=sections,
                created_at=self.clock.now(),
                version=max(versions, default=0) + 1,
            )
            uow.seating.add_plan(plan)
            uow.commit()
        return plan

    def adjust(
        self, plan_id: uuid.UUID, changes: Mapping[uuid.UUID, Mapping[str, object]]
    ) -> SeatPlan:
        """The next version of a plan with some seats' zone or attributes changed."""
        with self.uow() as uow:
            plan = self._plan(uow, plan_id)
            latest = max(p.version for p in uow.seating.plans_of_hall(plan.hall_id))
            adjusted = attrs.evolve(plan, version=latest).adjusted(changes, at=self.clock.now())
            uow.seating.add_plan(adjusted)
            uow.commit()
        return adjusted

    def put_on_sale(
        self, performance_id: uuid.UUID, plan_id: uuid.UUID, zones: Mapping[str, uuid.UUID]
    ) -> SeatMap:
        """Sell the performance by numbered seats of plan version `plan_id`, each zone in the
        price category `zones` names. Only before it sold anything."""
        with self.uow() as uow:
            performance = get_performance(uow, performance_id, lock=True)
            if uow.seating.plan_of(performance_id) is not None:
                raise errors.InvalidTransition("Deze voorstelling heeft al een zaalplan.")
            if performance.seats_taken or not performance.editable:
                raise errors.InvalidTransition(
                    "Alleen een voorstelling die nog niets verkocht kan een zaalplan krijgen."
                )
            plan = self._plan(uow, plan_id)
            categories = {c.id for c in uow.price_categories.for_performance(performance_id)}
            missing = sorted(set(plan.zones) - set(zones))
            foreign = sorted(z for z, c in zones.items() if c not in categories)
            if missing or foreign:
                raise errors.ValidationError(
                    "Kies voor elke zone een prijscategorie van deze voorstelling.",
                    zones=missing + foreign,
                )
            seats = [_performance_seat(performance_id, seat, zones) for seat in plan.seats]
            if not uow.performances.change_capacity(performance_id, len(plan.sellable_seats)):
                raise errors.InvalidTransition()
            uow.seating.put_on_sale(performance_id, plan.id, seats)
            uow.commit()
        return self.seat_map(performance_id)

    def seat_map(self, performance_id: uuid.UUID, *, public: bool = False) -> SeatMap:
        """Every seat of a reserved performance with its state, category and price (`public`:
        only of a published performance, as visitors see it)."""
        with self.uow() as uow:
            performance = get_performance(uow, performance_id)
            if public and performance.status is not PerformanceStatus.PUBLISHED:
                raise errors.UnknownPerformance(performance_id=str(performance_id))
            plan_id = uow.seating.plan_of(performance_id)
            if plan_id is None:
                raise errors.NotFound("Deze voorstelling heeft vrije plaatsen, geen zaalplan.")
            plan = self._plan(uow, plan_id)
            hall = uow.seating.get_hall(plan.hall_id)
            categories = {c.id: c for c in uow.price_categories.for_performance(performance_id)}
            states = uow.seating.states(performance_id)
        seats = plan.by_id
        return SeatMap(
            performance_id=performance_id,
            plan_id=plan.id,
            plan_version=plan.version,
            hall_name=hall.name if hall else plan.name,
            seats=tuple(
                MapSeat(
                    seat=seats[s.seat_id],
                    state=s.state,
                    category_id=s.category_id,
                    category_name=categories[s.category_id].name_nl,
                    price=categories[s.category_id].price,
                )
                for s in sorted(states, key=lambda s: _place(seats[s.seat_id]))
            ),
        )

    def _plan(self, uow: UnitOfWork, plan_id: uuid.UUID) -> SeatPlan:
        missing = errors.NotFound("Dit zaalplan bestaat niet.", plan_id=str(plan_id))
        return errors.required(uow.seating.get_plan(plan_id), missing)


def _place(seat: Seat) -> tuple[str, int, int]:
    return (seat.section, seat.row_index, seat.column)


def _performance_seat(
    performance_id: uuid.UUID, seat: Seat, zones: Mapping[str, uuid.UUID]
) -> PerformanceSeat:
    return PerformanceSeat(
        performance_id=performance_id,
        seat_id=seat.id,
        category_id=zones[seat.zone],
        state=SeatState.BLOCKED if seat.blocked else SeatState.FREE,
    )
