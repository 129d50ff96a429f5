"""The hall's map as SVG: every seat at its place, labelled, its state told by shape as well."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mierloos_adapters.i18n import texts
from mierloos_core.model.money import Money
from mierloos_entrypoints.web.seat_map import (
    SeatMap,
    SeatState,
    SeatView,
    ZoneView,
    legend_items,
    render_seat_map,
)

SVG = "{http://www.w3.org/2000/svg}"


def _hall() -> SeatMap:
    seats = []
    states = [SeatState.FREE, SeatState.HELD, SeatState.SOLD, SeatState.BLOCKED]
    for row in range(3):
        for number in range(1, 7):
            seats.append(
                SeatView(
                    id=f"s-{row}-{number}",
                    row=str(row + 1),
                    number=str(number),
                    x=number * 50.0,
                    y=100.0 + row * 60,
                    zone="front" if row == 0 else "back",
                    state=states[number % 4] if row == 2 else SeatState.FREE,
                    wheelchair=(row, number) == (0, 1),
                    companion=(row, number) == (0, 2),
                    restricted_view=(row, number) == (1, 6),
                )
            )
    zones = (
        ZoneView(key="front", name="Voorin", price=Money(3250), colour_index=0),
        ZoneView(key="back", name="Regulier", price=Money(2500), colour_index=1),
    )
    return SeatMap(seats=tuple(seats), zones=zones)


def _parse(seat_map: SeatMap, language: str = "nl", chosen: tuple[str, ...] = ()) -> ET.Element:
    markup = render_seat_map(seat_map, texts(language), title="Zaal", chosen=chosen)
    return ET.fromstring(str(markup))


def _seat(svg: ET.Element, seat_id: str) -> ET.Element:
    found = [g for g in svg.iter(f"{SVG}g") if g.get("data-seat") == seat_id]
    assert len(found) == 1
    return found[0]


def _label(svg: ET.Element, seat_id: str) -> str:
    """A seat's label: its title (the script makes it the checkbox's aria-label)."""
    title = _seat(svg, seat_id).find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def test_every_seat_is_drawn_at_its_place_inside_the_view_box() -> None:
    hall = _hall()
    svg = _parse(hall)
    left, top, width, height = (float(v) for v in svg.get("viewBox", "").split())
    drawn = [g for g in svg.iter(f"{SVG}g") if g.get("data-seat")]
    assert {g.get("data-seat") for g in drawn} == {seat.id for seat in hall.seats}
    for g in drawn:
        x, y = float(g.get("data-x", "nan")), float(g.get("data-y", "nan"))
        assert left < x - 20
        assert x + 20 < left + width
        assert top < y - 20
        assert y + 20 < top + height
    stage = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "stage")
    stage_y = float(stage.find(f"{SVG}rect").get("y"))  # type: ignore[union-attr]
    assert stage_y < min(seat.y for seat in hall.seats)


def test_a_seat_is_labelled_with_row_number_zone_price_and_state() -> None:
    svg = _parse(_hall())
    assert _label(svg, "s-1-3") == "Rij 2, stoel 3, Regulier € 25,00, vrij"
    assert _label(svg, "s-2-2") == "Rij 3, stoel 2, Regulier € 25,00, bezet"
    assert _label(svg, "s-0-1") == ("Rij 1, stoel 1, Voorin € 32,50, rolstoelplaats, vrij")
    english = _parse(_hall(), "en")
    assert _label(english, "s-2-1") == ("Row 3, seat 1, Regulier €25.00, reserved")
    assert _label(english, "s-0-2") == ("Row 1, seat 2, Voorin €32.50, companion seat, free")


def test_states_differ_in_shape_or_pattern_not_only_in_colour() -> None:
    svg = _parse(_hall())

    def look(seat_id: str) -> tuple[str, str, str]:
        g = _seat(svg, seat_id)
        shape = g.find("*[@class='seat-shape']")
        mark = g.find("*[@class='seat-mark']")  # a <use> of the state's mark
        assert shape is not None
        drawn = mark.get("href", "") if mark is not None else ""
        return (shape.tag, shape.get("fill", "")[:4], drawn)

    free, held, sold, blocked = look("s-2-4"), look("s-2-1"), look("s-2-2"), look("s-2-3")
    assert held[1] == "url("  # hatched
    assert sold[2] == "#seat-sold"
    assert free[2] == ""
    assert blocked[0].endswith("rect")
    assert free[0].endswith("circle")
    assert len({free, held, sold, blocked}) == 4


def test_chosen_seats_and_the_legend() -> None:
    hall = _hall()
    svg = _parse(hall, chosen=("s-0-3", "s-2-2"))
    assert "is-chosen" in _seat(svg, "s-0-3").get("class", "")
    assert "is-chosen" not in _seat(svg, "s-2-2").get("class", "")  # sold: not choosable
    assert legend_items(hall, texts("nl")) == [
        ("zone-0", "Voorin € 32,50"),
        ("zone-1", "Regulier € 25,00"),
    ]


def test_names_from_the_plan_are_escaped() -> None:
    seat = SeatView(id='"><script>', row="<b>", number="1", x=0, y=0, zone="z")
    markup = str(render_seat_map(SeatMap(seats=(seat,), zones=()), texts("nl"), title="<x>"))
    assert "<script>" not in markup
    assert "<b>" not in markup
    ET.fromstring(markup)
