"""Reserved seating: halls, versioned seat plans, per-performance seat states, best available.

`plan` (a hall, a plan version of sections, rows and numbered seats with positions and
attributes; zones are the price bands of seats), `generator` (rows x seats, gaps, straight or
curved: a plan from a few numbers), `states` (free, held, sold, blocked for one performance),
`picker` (n adjacent seats in one row, nearest the centre and the front third, without
stranding a single seat), `requests` (the rules a buyer's chosen seats must meet).
All pure: positions and ids are computed, never drawn from a clock or a random source.
"""

from mierloos_core.model.seating.generator import SectionSpec, generate_plan
from mierloos_core.model.seating.picker import best_available
from mierloos_core.model.seating.plan import Hall, Seat, SeatPlan, SeatRef
from mierloos_core.model.seating.states import PerformanceSeat, SeatingMode, SeatState

__all__ = [
    "Hall",
    "PerformanceSeat",
    "Seat",
    "SeatPlan",
    "SeatRef",
    "SeatState",
    "SeatingMode",
    "SectionSpec",
    "best_available",
    "generate_plan",
]
