"""The counter's seat map: for a performance with reserved seating the sale form shows the
same map and list of free seats as the shop (every category, staff-only ones too), and the
seats ticked there are sold; tickets asked for by number get the best available seats."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request

from mierloos_adapters.i18n import texts
from mierloos_entrypoints.web.inputs import BadInput, parse_uuid
from mierloos_entrypoints.web.seat_map import attribute_words, legend_items, render_seat_map
from mierloos_entrypoints.web.seat_reading import performance_seating
from mierloos_entrypoints.web.services import services

MAX_SEATS = 200  # more ticked seats than this is not a counter sale


async def counter_seat_map(request: Request, performance_id: uuid.UUID) -> dict[str, Any]:
    """The template values of the performance's map, or nothing for free seating."""
    seating = await run_in_threadpool(
        performance_seating, services(request).uow(), performance_id, "nl", staff=True
    )
    if seating is None:
        return {}
    dutch = texts("nl")
    return {
        "seat_map": seating.seat_map,
        "seat_map_svg": render_seat_map(seating.seat_map, dutch, title="Zaalplan"),
        "seat_map_legend": legend_items(seating.seat_map, dutch),
        "seat_attribute_words": attribute_words,
    }


def chosen_seat_ids(form: FormData) -> tuple[uuid.UUID, ...]:
    """The ticked seats; a value that is no seat id is refused by name."""
    values = [value for value in form.getlist("seat") if isinstance(value, str)][:MAX_SEATS]
    parsed = [parse_uuid(value) for value in values]
    wrong = [value[:40] for value, seat_id in zip(values, parsed, strict=True) if seat_id is None]
    if wrong:
        raise BadInput(f"Deze stoelen bestaan niet: {', '.join(wrong)}.", field="seat")
    return tuple(seat_id for seat_id in parsed if seat_id is not None)
