"""Reserved seating in the JSON API: a performance's seat map, and the seats a checkout chose.

The map lists every seat of the performance's plan version with its place (x, y in seat
widths), its state (free, held, sold, blocked), zone, price category and price. A checkout
names chosen seats per performance in `seats`; its lines of a reserved performance that no
chosen seat covers get the best available seats (side by side in one row).
Listed in the OpenAPI document with the rest of the API (`api.OPERATIONS`).
"""

from __future__ import annotations

from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mierloos_core.model.seating import SeatState
from mierloos_core.services.seating import Seating, SeatMap
from mierloos_entrypoints.web.api_models import ApiModel, Money, Uuid
from mierloos_entrypoints.web.openapi import Operation
from mierloos_entrypoints.web.services import services


class SeatMapParameters(ApiModel):
    model_config = ConfigDict(strict=False, extra="ignore")

    performance_id: Uuid


class MapSeat(ApiModel):
    id: Uuid
    section: str
    row: str
    number: int
    x: float = Field(description="Across, in seat widths from the section's middle line.")
    y: float = Field(description="Back from the stage, in seat widths.")
    state: SeatState
    zone: str
    category_id: Uuid
    category_name: str
    price: Money
    wheelchair: bool
    companion: bool
    restricted_view: bool


class SeatMapAnswer(ApiModel):
    performance_id: Uuid
    plan_id: Uuid
    plan_version: int
    hall: str
    free_seats: int
    seats: list[MapSeat]


def map_answer(seat_map: SeatMap) -> SeatMapAnswer:
    return SeatMapAnswer(
        performance_id=seat_map.performance_id,
        plan_id=seat_map.plan_id,
        plan_version=seat_map.plan_version,
        hall=seat_map.hall_name,
        free_seats=seat_map.free,
        seats=[
            MapSeat(
                id=s.seat.id,
                section=s.seat.section,
                row=s.seat.row,
                number=s.seat.number,
                x=s.seat.x,
                y=s.seat.y,
                state=s.state,
                zone=s.seat.zone,
                category_id=s.category_id,
                category_name=s.category_name,
                price=Money.of(s.price),
                wheelchair=s.seat.wheelchair,
                companion=s.seat.companion,
                restricted_view=s.seat.restricted_view,
            )
            for s in seat_map.seats
        ],
    )


async def seat_map(request: Request, parameters: SeatMapParameters) -> SeatMapAnswer:
    web = services(request)
    seating = Seating(web.uow, web.clock)
    found = await run_in_threadpool(
        lambda: seating.seat_map(parameters.performance_id, public=True)
    )
    return map_answer(found)


OPERATIONS = [
    Operation(
        method="GET",
        path="/api/performances/{performance_id}/seats",
        operation_id="performanceSeats",
        summary="The seat map of a performance with reserved seating: every seat, its place,"
        " state, zone, price category and price.",
        description="404 for an unknown performance or one with free seating (no plan).",
        handler=seat_map,
        parameters=SeatMapParameters,
        answer=SeatMapAnswer,
        answer_text="The seats, by section, row and place in the row.",
        errors=(400, 404, 503),
    ),
]
