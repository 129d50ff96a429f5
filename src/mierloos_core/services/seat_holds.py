"""Numbered seats for an order of a reserved performance: chosen ones, or the best available.

Called by `order_lifecycle.hold` after the counts were taken, so the performance rows (and the
price categories) are locked already: the seat states read here are the newest, and every
other taker of this performance's seats waits. The seats are then taken with one conditional
change of exactly those rows (`SeatingRepository.take`); a shortfall raises and the caller's
unit of work rolls back, so nothing stays held. Performances with free seating are left alone.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.orders import Order, OrderStatus, Ticket
from mierloos_core.model.seating import PerformanceSeat, SeatPlan, SeatState, best_available
from mierloos_core.model.seating.requests import check_chosen
from mierloos_core.ports import UnitOfWork
from mierloos_core.ports.seating import SeatTickets


@attrs.frozen(kw_only=True)
class SeatRequest:
    """What the buyer asked for: `chosen` seat ids per performance (the rest of a reserved
    performance's tickets get the best available), and the rules to apply."""

    chosen: Mapping[uuid.UUID, tuple[uuid.UUID, ...]] = attrs.field(factory=dict)
    maximum: int = 10
    companion_rule: bool = True
    # No row has the seats side by side: refuse (the web shop, the counter), or take the best
    # single seats (a waiting-list offer: nobody is there to choose).
    split_when_needed: bool = False


def take_seats(
    uow: UnitOfWork, order: Order, request: SeatRequest, plans: Mapping[uuid.UUID, uuid.UUID]
) -> None:
    """Give each ticket of a reserved performance of the (just held) order its seat.

    `plans` are the seat plans of the order's reserved performances, as taking their counted
    seats read them under the rows' lock (so free seating costs no further statement)."""
    ticket_performances = {ticket.performance_id for ticket in order.tickets}
    for performance_id in sorted(ticket_performances | set(request.chosen)):
        if performance_id in ticket_performances:
            plan_id = plans.get(performance_id)
        else:  # chosen seats without a ticket line: read it, under no lock of ours
            plan_id = uow.seating.plan_of(performance_id)
        chosen = request.chosen.get(performance_id, ())
        if plan_id is None:
            if chosen:  # free seating has no numbered seats to choose
                raise errors.SeatsUnavailable({"not_in_plan": [str(s) for s in sorted(chosen)]})
            continue
        plan = errors.required(uow.seating.get_plan(plan_id), errors.NotFound())
        tickets = [t for t in order.tickets if t.performance_id == performance_id]
        states = (
            {s.seat_id: s for s in uow.seating.states(performance_id, chosen)} if chosen else {}
        )
        if chosen:
            check_chosen(
                plan.by_id,
                {seat_id: seat.state for seat_id, seat in states.items()},
                chosen,
                maximum=request.maximum,
                companion_rule=request.companion_rule,
            )
        assignment = _assign(uow, plan, states, tuple(sorted(set(chosen))), tickets, request)
        state = SeatState.SOLD if order.status is OrderStatus.PAID else SeatState.HELD
        if uow.seating.take(performance_id, assignment, order.id, state) != len(assignment):
            raise _taken_meanwhile(uow, plan, performance_id, assignment)


def _assign(
    uow: UnitOfWork,
    plan: SeatPlan,
    states: Mapping[uuid.UUID, PerformanceSeat],
    chosen: Sequence[uuid.UUID],
    tickets: Sequence[Ticket],
    request: SeatRequest,
) -> dict[uuid.UUID, uuid.UUID]:
    """Seat id -> ticket id: the chosen seats to tickets of their category, then the best
    available seats of each category to the tickets left."""
    left: dict[uuid.UUID, list[Ticket]] = {}
    for ticket in tickets:
        left.setdefault(ticket.category_id, []).append(ticket)
    assignment: dict[uuid.UUID, uuid.UUID] = {}
    for seat_id in chosen:
        of_category = left.get(states[seat_id].category_id)
        if not of_category:  # the cart does not hold a ticket of this seat's category
            name = plan.by_id[seat_id].ref.describe()
            raise errors.SeatsUnavailable({"not_for_sale": [name]})
        assignment[seat_id] = of_category.pop(0).id
    for category_id in sorted(left):
        rest = left[category_id]
        if not rest:
            continue
        # The free seats of a large plan are the heaviest read here: only when needed.
        candidates = uow.seating.free_seats(tickets[0].performance_id, category_id)
        candidates.difference_update(assignment)
        for seat, ticket in zip(_best(plan, candidates, len(rest), request), rest, strict=True):
            assignment[seat] = ticket.id
    return assignment


def _best(
    plan: SeatPlan, free: set[uuid.UUID], count: int, request: SeatRequest
) -> list[uuid.UUID]:
    window = best_available(plan.seats, free, count)
    if window is not None:
        return [seat.id for seat in window]
    if not request.split_when_needed:
        raise errors.NoAdjacentSeats(count)
    picked: list[uuid.UUID] = []
    for _ in range(count):
        single = best_available(plan.seats, free - set(picked), 1)
        if single is None:
            raise errors.NotEnoughSeats(requested=count)
        picked.append(single[0].id)
    return picked


def _taken_meanwhile(
    uow: UnitOfWork,
    plan: SeatPlan,
    performance_id: uuid.UUID,
    wanted: SeatTickets,
) -> errors.SeatsUnavailable:
    now = {seat.seat_id: seat.state for seat in uow.seating.states(performance_id, wanted)}
    gone = [
        plan.by_id[seat_id].ref.describe()
        for seat_id in sorted(wanted)
        if now.get(seat_id) is not SeatState.FREE
    ]
    everything = [plan.by_id[seat_id].ref.describe() for seat_id in sorted(wanted)]
    return errors.SeatsUnavailable({"taken": gone or everything})


def release_seats(
    uow: UnitOfWork, order_id: uuid.UUID, ticket_ids: Sequence[uuid.UUID] | None = None
) -> int:
    """Free what the order holds (only the seats of `ticket_ids` when given); once."""
    return uow.seating.release(order_id, ticket_ids)


def chosen_seat_lines(
    uow: UnitOfWork, chosen: Mapping[uuid.UUID, Sequence[uuid.UUID]], maximum: int
) -> list[CartLine]:
    """A cart line per (performance, category) of the chosen seats, read before any lock: the
    seats' categories never change, their states are checked again when they are taken."""
    lines: list[CartLine] = []
    for performance_id in sorted(chosen):
        wanted = set(chosen[performance_id])
        if len(wanted) > maximum:
            raise errors.TooManySeats(maximum)
        states = {seat.seat_id: seat for seat in uow.seating.states(performance_id)}
        unknown = sorted(str(seat_id) for seat_id in wanted if seat_id not in states)
        if unknown or not wanted:
            raise errors.SeatsUnavailable({"not_in_plan": unknown or ["(geen stoelen gekozen)"]})
        per_category = Counter(states[seat_id].category_id for seat_id in wanted)
        lines.extend(
            CartLine(performance_id=performance_id, category_id=category_id, quantity=count)
            for category_id, count in sorted(per_category.items())
        )
    return lines
