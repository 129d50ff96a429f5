"""A hall's seats as server-rendered SVG: the map a visitor (or the counter) chooses seats on.

The map reads a `SeatMap`: the seats at their plan positions, each with its zone (a price
category with a colour, a name and a price), its state and its attributes. It draws:

- each seat at its position, filled with its zone's colour when free; the state is also told
  by shape and pattern, never by colour alone: a free seat is a plain disc, a held one is
  hatched, a sold one carries a cross, a blocked one is a grey square with a bar;
- wheelchair places as squares with a wheelchair sign, companion seats with a letter, seats
  with a restricted view with a dashed ring;
- row labels on both sides of each row and the stage as a bar along the front;
- a `viewBox` in plan units, so the drawing scales to the width it gets (a 390 px phone as
  well as a desktop) and the browser's pinch-zoom enlarges it.

Each seat is a `<g class="seat" data-seat="ID">` with a `<title>` and an `aria-label` such as
"Rij 5, stoel 12, Regulier € 25,00, vrij". Without JavaScript the drawing is a picture and the
form's list of rows and free seats (checkboxes) is how one chooses; `static/seat_map.js` turns
the seats into checkboxes one reaches with the arrow keys, tied to that same list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs
from markupsafe import Markup, escape

from mierloos_adapters.i18n import Texts
from mierloos_core.model.money import Money
from mierloos_core.model.seating import SeatState
from mierloos_entrypoints.web.language import N_

ZONE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
STAGE = N_("Podium")
MAX_SEATS = 5000  # more is not a hall: refuse to draw rather than send megabytes


STATE_WORDS = {
    SeatState.FREE: N_("vrij"),
    SeatState.HELD: N_("gereserveerd"),
    SeatState.SOLD: N_("bezet"),
    SeatState.BLOCKED: N_("niet beschikbaar"),
}


@attrs.frozen(kw_only=True)
class ZoneView:
    """A zone as the visitor sees it: a price category's name and price, and its colour."""

    key: str
    name: str
    price: Money | None = None
    colour_index: int = 0

    @property
    def colour(self) -> str:
        return ZONE_COLOURS[self.colour_index % len(ZONE_COLOURS)]


@attrs.frozen(kw_only=True)
class SeatView:
    id: str
    row: str
    number: str
    x: float
    y: float
    zone: str
    state: SeatState = SeatState.FREE
    section: str = ""
    wheelchair: bool = False
    companion: bool = False
    restricted_view: bool = False


@attrs.frozen(kw_only=True)
class RowView:
    section: str
    row: str
    seats: tuple[SeatView, ...]


@attrs.frozen(kw_only=True)
class SeatMap:
    seats: tuple[SeatView, ...]
    zones: tuple[ZoneView, ...]

    def zone(self, key: str) -> ZoneView | None:
        return next((zone for zone in self.zones if zone.key == key), None)

    @property
    def has_sections(self) -> bool:
        return len({seat.section for seat in self.seats}) > 1

    def rows(self) -> list[RowView]:
        """The rows front to back (by their mean y), each's seats left to right."""
        grouped: dict[tuple[str, str], list[SeatView]] = {}
        for seat in self.seats:
            grouped.setdefault((seat.section, seat.row), []).append(seat)
        rows = [
            RowView(section=key[0], row=key[1], seats=tuple(sorted(seats, key=lambda s: s.x)))
            for key, seats in grouped.items()
        ]
        return sorted(rows, key=lambda r: (sum(s.y for s in r.seats) / len(r.seats), r.section))

    def free_seats(self) -> list[SeatView]:
        return [seat for seat in self.seats if seat.state is SeatState.FREE]


def seat_label(seat: SeatView, seat_map: SeatMap, texts: Texts, *, with_state: bool = True) -> str:
    """ "Rij 5, stoel 12, Regulier € 25,00, vrij" (the section first when the hall has more)."""
    parts = [texts.gettext("Rij %(row)s, stoel %(seat)s") % {"row": seat.row, "seat": seat.number}]
    if seat_map.has_sections and seat.section:
        parts.insert(0, seat.section)
    zone = seat_map.zone(seat.zone)
    if zone is not None:
        parts.append(f"{zone.name} {texts.money(zone.price)}" if zone.price else zone.name)
    parts.extend(texts.gettext(word) for word in attribute_words(seat))
    if with_state:
        parts.append(texts.gettext(STATE_WORDS[seat.state]))
    return ", ".join(parts)


def attribute_words(seat: SeatView) -> list[str]:
    words = []
    if seat.wheelchair:
        words.append(N_("rolstoelplaats"))
    if seat.companion:
        words.append(N_("plaats voor begeleider"))
    if seat.restricted_view:
        words.append(N_("beperkt zicht"))
    return words


@attrs.frozen
class _Frame:
    """The drawing's geometry: the seat spacing, its radius and the viewBox around it all."""

    spacing: float
    left: float
    top: float
    width: float
    height: float

    @property
    def radius(self) -> float:
        return self.spacing * 0.42

    @property
    def view_box(self) -> str:
        return f"{_n(self.left)} {_n(self.top)} {_n(self.width)} {_n(self.height)}"


def _frame(seat_map: SeatMap) -> _Frame:
    spacing = _seat_spacing(seat_map.rows())
    xs = [seat.x for seat in seat_map.seats]
    ys = [seat.y for seat in seat_map.seats]
    margin = spacing * 1.6  # room for the row labels
    stage = spacing * 2.6  # room for the stage in front of the first row
    left, top = min(xs) - margin, min(ys) - stage
    return _Frame(spacing, left, top, max(xs) + margin - left, max(ys) + spacing - top)


def _seat_spacing(rows: Iterable[RowView]) -> float:
    """The smallest distance between neighbours in a row: the unit the drawing is sized in."""
    gaps = [
        math.dist((a.x, a.y), (b.x, b.y))
        for row in rows
        for a, b in zip(row.seats, row.seats[1:], strict=False)
    ]
    positive = [gap for gap in gaps if gap > 0]
    return min(positive) if positive else 1.0


def _n(value: float) -> str:
    """A coordinate in few characters: ``12.5``, ``3``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_seat_map(
    seat_map: SeatMap, texts: Texts, *, title: str, chosen: Sequence[str] = ()
) -> Markup:
    """The SVG of the hall; `chosen` are seats this visitor has already chosen (drawn so)."""
    if not seat_map.seats or len(seat_map.seats) > MAX_SEATS:
        return Markup("")
    frame = _frame(seat_map)
    picked = set(chosen)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="seat-map" viewBox="{frame.view_box}" '
        'role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMin meet" '
        f'data-empty="{len(seat_map.free_seats()) == 0}">',
        _defs(frame),
        _stage(frame, texts),
        *(_row_labels(row, frame) for row in seat_map.rows()),
        f'<g class="seats" stroke="#1d1a24" stroke-width="{_n(frame.radius * 0.16)}">',
        *(_seat(seat, seat_map, frame, texts, seat.id in picked) for seat in seat_map.seats),
        "</g></svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 (every text and attribute above is escaped)


def _defs(frame: _Frame) -> str:
    """The hatch of held seats, and the marks drawn over a seat (placed with `<use>`)."""
    r = frame.radius
    step = _n(r * 0.55)
    line = f'stroke-width="{_n(r * 0.28)}" stroke-linecap="round" fill="none"'
    a, b = _n(r * 0.5), _n(r * 0.55)
    return (
        "<defs>"
        f'<pattern id="seat-held" patternUnits="userSpaceOnUse" width="{step}" height="{step}" '
        'patternTransform="rotate(45)">'
        f'<rect width="{step}" height="{step}" fill="#ffffff" stroke="none"/>'
        f'<line x1="0" y1="0" x2="0" y2="{step}" stroke="#5c5666" '
        f'stroke-width="{_n(r * 0.22)}"/></pattern>'
        f'<path id="seat-sold" d="M-{a} -{a}L{a} {a}M{a} -{a}L-{a} {a}" stroke="#ffffff" {line}/>'
        f'<path id="seat-bar" d="M-{b} 0L{b} 0" stroke="#1d1a24" {line}/>'
        "</defs>"
    )


def _stage(frame: _Frame, texts: Texts) -> str:
    height = frame.spacing * 1.2
    x = frame.left + frame.spacing
    width = frame.width - 2 * frame.spacing
    y = frame.top + frame.spacing * 0.3
    return (
        f'<g class="stage"><rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" '
        f'height="{_n(height)}" rx="{_n(frame.radius * 0.5)}" fill="#1d1a24"/>'
        f'<text x="{_n(x + width / 2)}" y="{_n(y + height * 0.68)}" text-anchor="middle" '
        f'font-size="{_n(frame.spacing * 0.7)}" fill="#ffffff">'
        f"{escape(texts.gettext(STAGE))}</text></g>"
    )


def _row_labels(row: RowView, frame: _Frame) -> str:
    first, last = row.seats[0], row.seats[-1]
    size = _n(frame.spacing * 0.55)
    offset = frame.spacing * 0.95
    label = escape(row.row)
    return (
        f'<g class="row-label" aria-hidden="true" font-size="{size}" fill="#5c5666">'
        f'<text x="{_n(first.x - offset)}" y="{_n(first.y)}" text-anchor="middle" '
        f'dominant-baseline="central">{label}</text>'
        f'<text x="{_n(last.x + offset)}" y="{_n(last.y)}" text-anchor="middle" '
        f'dominant-baseline="central">{label}</text></g>'
    )


def _seat(seat: SeatView, seat_map: SeatMap, frame: _Frame, texts: Texts, chosen: bool) -> str:
    """A seat: its label in `<title>` (the script makes it the checkbox's `aria-label`)."""
    zone = seat_map.zone(seat.zone)
    classes = ["seat", f"is-{seat.state.value}"]
    if chosen and seat.state is SeatState.FREE:
        classes.append("is-chosen")
    price = zone.price.cents if zone and zone.price else 0
    return (
        f'<g class="{" ".join(classes)}" data-seat="{escape(seat.id)}" '
        f'data-row="{escape(seat.section)}|{escape(seat.row)}" data-x="{_n(seat.x)}" '
        f'data-y="{_n(seat.y)}" data-price="{price}">'
        f"<title>{escape(seat_label(seat, seat_map, texts))}</title>"
        f"{_seat_shape(seat, zone, frame)}{_seat_marks(seat, frame, texts)}</g>"
    )


def _seat_shape(seat: SeatView, zone: ZoneView | None, frame: _Frame) -> str:
    r = frame.radius
    fill = {
        SeatState.FREE: zone.colour if zone else "#8c8496",
        SeatState.HELD: "url(#seat-held)",
        SeatState.SOLD: "#8c8496",
        SeatState.BLOCKED: "#d9d4cc",
    }[seat.state]
    dash = f' stroke-dasharray="{_n(r * 0.35)} {_n(r * 0.25)}"' if seat.restricted_view else ""
    common = f'class="seat-shape" fill="{fill}"{dash}'
    if seat.wheelchair or seat.state is SeatState.BLOCKED:
        return (
            f'<rect x="{_n(seat.x - r)}" y="{_n(seat.y - r)}" width="{_n(2 * r)}" '
            f'height="{_n(2 * r)}" rx="{_n(r * 0.25)}" {common}/>'
        )
    return f'<circle cx="{_n(seat.x)}" cy="{_n(seat.y)}" r="{_n(r)}" {common}/>'


def _seat_marks(seat: SeatView, frame: _Frame, texts: Texts) -> str:
    """What is drawn over the seat: the state's mark, else the seat's attribute sign. A chosen
    seat is drawn dark with a thick ring (site.css), so it differs in more than colour."""
    at = f'x="{_n(seat.x)}" y="{_n(seat.y)}"'
    if seat.state is SeatState.SOLD:
        return f'<use class="seat-mark" href="#seat-sold" {at}/>'
    if seat.state is SeatState.BLOCKED:
        return f'<use class="seat-mark" href="#seat-bar" {at}/>'
    letter = _attribute_letter(seat, texts)
    if not letter:
        return ""
    return (
        f'<text class="seat-sign" {at} text-anchor="middle" stroke="none" '
        f'dominant-baseline="central" font-size="{_n(frame.radius * 1.15)}" font-weight="700" '
        f'fill="#1d1a24">{escape(letter)}</text>'
    )


def _attribute_letter(seat: SeatView, texts: Texts) -> str:
    if seat.wheelchair:
        return "\u267f"  # the wheelchair sign
    if seat.companion:
        return texts.gettext("B")  # begeleider; "C" (companion) in English
    if seat.restricted_view:
        return "!"
    return ""


def legend_items(seat_map: SeatMap, texts: Texts) -> list[tuple[str, str]]:
    """The zones in the map with their price: (css colour class, "Regulier € 25,00")."""
    used = {seat.zone for seat in seat_map.seats}
    return [
        (
            f"zone-{zone.colour_index % len(ZONE_COLOURS)}",
            f"{zone.name} {texts.money(zone.price)}" if zone.price else zone.name,
        )
        for zone in seat_map.zones
        if zone.key in used
    ]
