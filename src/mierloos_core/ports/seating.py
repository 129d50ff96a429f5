"""The seating port: halls, plan versions, and each reserved performance's seat states.

Concurrency rules every adapter keeps:
- `take` is ONE conditional change of exactly the asked seat rows (those still free), and
  answers how many it changed; fewer than asked means the caller must roll back the unit of
  work (nothing may stay held). Callers take the performance row lock first (the seat
  inventory's counter update), so takers of one performance's seats queue there and never
  deadlock on seat rows; seat ids are passed in sorted order.
- `release` gives back what an order holds (all, or some tickets' seats) and changes each
  seat at most once: a second release of the same order finds nothing held.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from mierloos_core.model.seating import Hall, PerformanceSeat, Seat, SeatPlan, SeatState

# Which ticket each seat goes to: seat id -> ticket id.
SeatTickets = Mapping[uuid.UUID, uuid.UUID]


class SeatingRepository(Protocol):
    def add_hall(self, hall: Hall) -> None: ...
    def get_hall(self, hall_id: uuid.UUID) -> Hall | None: ...
    def add_plan(self, plan: SeatPlan) -> None: ...
    def get_plan(self, plan_id: uuid.UUID) -> SeatPlan | None:
        """A plan version never changes, so an adapter may keep it once read."""
        ...

    def halls(self) -> list[Hall]:
        """Every hall, in no particular order."""
        ...

    def plans_of_hall(self, hall_id: uuid.UUID) -> list[SeatPlan]:
        """Every version of the hall's plan, oldest first."""
        ...

    def put_on_sale(
        self, performance_id: uuid.UUID, plan_id: uuid.UUID, seats: Sequence[PerformanceSeat]
    ) -> None:
        """The performance sells `seats` of plan version `plan_id` from now on (reserved)."""
        ...

    def plan_of(self, performance_id: uuid.UUID) -> uuid.UUID | None:
        """The plan version a reserved performance sells; None for free seating."""
        ...

    def states(
        self, performance_id: uuid.UUID, seat_ids: Collection[uuid.UUID] | None = None
    ) -> list[PerformanceSeat]:
        """The performance's seats (only `seat_ids` when given) as stored now, by seat id."""
        ...

    def free_seats(self, performance_id: uuid.UUID, category_id: uuid.UUID) -> set[uuid.UUID]:
        """The free seats of the performance in the price category (the best available
        picker's input: far lighter than `states` on a large plan)."""
        ...

    def take(
        self, performance_id: uuid.UUID, tickets: SeatTickets, order_id: uuid.UUID, state: SeatState
    ) -> int:
        """Give each free seat of `tickets` (seat id -> ticket id) to the order in `state`
        (held or sold); returns how many seats changed."""
        ...

    def sell(self, order_id: uuid.UUID) -> int:
        """The order is paid: its held seats are sold. Returns how many changed."""
        ...

    def release(self, order_id: uuid.UUID, ticket_ids: Collection[uuid.UUID] | None = None) -> int:
        """Free the order's seats (only those of `ticket_ids` when given); how many changed."""
        ...

    def seats_of_order(self, order_id: uuid.UUID) -> dict[uuid.UUID, Seat]:
        """The seat of each of the order's tickets that holds one, by ticket id."""
        ...

    def seats_of_performance(self, performance_id: uuid.UUID) -> dict[uuid.UUID, Seat]:
        """The seat of each of the performance's tickets that holds one, by ticket id."""
        ...
