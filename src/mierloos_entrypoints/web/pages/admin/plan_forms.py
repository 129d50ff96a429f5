"""The seat plan generator's form: up to three sections of rows x seats, read into `SectionSpec`s.

Per section `n` (1-3) the fields are `sectie{n}_naam`, `_rijen`, `_stoelen` (one number for
every row, or one per row from the front: "12, 14, 16"), `_gangpad` (an aisle after these seat
numbers: "6" or "4, 10"), `_boog` (the front row's radius in seat widths; empty: straight rows),
`_labels` (`numbers` or `letters`) and `_zones` (bands from the front: "Voorin 3, Regulier 7").
A section whose name and rows are empty is left out. Every problem comes back next to its field.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from mierloos_core.model.seating import SeatPlan, SectionSpec, generate_plan
from mierloos_core.model.seating.generator import MAX_ROWS, MAX_SEATS_PER_ROW
from mierloos_core.model.seating.plan import MAX_LABEL
from mierloos_entrypoints.web.pages.admin.forms import FormReader

SECTIONS = 3
_NUMBERS = re.compile(r"\d{1,3}(\s*,\s*\d{1,3})*")
_BAND = re.compile(r"(.{1,40}?)\s+(\d{1,2})")
SECTION_DEFAULTS = {
    "sectie1_naam": "Zaal",
    "sectie1_rijen": "10",
    "sectie1_stoelen": "14",
    "sectie1_gangpad": "7",
    "sectie1_boog": "",
    "sectie1_labels": "numbers",
    "sectie1_zones": "Voorin 3, Regulier 7",
    "sectie2_labels": "letters",
    "sectie3_labels": "letters",
}


def _numbers(reader: FormReader, name: str, *, required: bool) -> tuple[int, ...] | None:
    value = reader.text(name, max_length=400)
    if name in reader.errors:
        return None
    if not value:
        if required:
            reader.errors[name] = "Dit veld is verplicht."
        return () if not required else None
    if not _NUMBERS.fullmatch(value):
        reader.errors[name] = "Vul hele getallen in, gescheiden door komma's."
        return None
    return tuple(int(part) for part in value.split(","))


def _bands(reader: FormReader, name: str) -> tuple[tuple[str, int], ...] | None:
    value = reader.text(name, max_length=400)
    if name in reader.errors or not value:
        return () if name not in reader.errors else None
    bands = []
    for part in value.split(","):
        match = _BAND.fullmatch(part.strip())
        if not match:
            reader.errors[name] = 'Schrijf zones als "naam aantal rijen", bijvoorbeeld "Voorin 3".'
            return None
        bands.append((match.group(1).strip(), int(match.group(2))))
    return tuple(bands)


def _section(reader: FormReader, n: int) -> SectionSpec | None:
    prefix = f"sectie{n}_"
    name = reader.text(prefix + "naam", max_length=MAX_LABEL)
    rows = _numbers(reader, prefix + "rijen", required=bool(name) or n == 1)
    if not name and not rows:
        if n == 1:
            reader.errors.setdefault(prefix + "naam", "Dit veld is verplicht.")
        for field in ("stoelen", "gangpad", "boog", "labels", "zones"):
            reader.text(prefix + field, max_length=400)  # kept in the form as typed
        return None
    seats = _numbers(reader, prefix + "stoelen", required=True)
    aisles = _numbers(reader, prefix + "gangpad", required=False)
    curve = _numbers(reader, prefix + "boog", required=False)
    labels = reader.text(prefix + "labels", max_length=10) or "numbers"
    zones = _bands(reader, prefix + "zones")
    if not name:
        reader.errors[prefix + "naam"] = "Geef de sectie een naam."
    if rows is not None and len(rows) != 1:
        reader.errors[prefix + "rijen"] = "Vul één aantal rijen in."
    if None in (rows, seats, aisles, curve, zones) or any(
        key.startswith(prefix) for key in reader.errors
    ):
        return None
    assert rows is not None
    assert seats is not None
    assert aisles is not None
    assert curve is not None
    try:
        return SectionSpec(
            name=name,
            rows=rows[0],
            seats_per_row=seats[0] if len(seats) == 1 else seats,
            aisles_after=aisles,
            curve_radius=float(curve[0]) if curve else None,
            row_labels=labels,
            zones=zones or (),
        )
    except ValueError as refused:
        reader.errors[prefix + "rijen"] = _dutch(str(refused))
        return None


_MESSAGES = {
    "rows": f"Een sectie heeft 1 tot {MAX_ROWS} rijen.",
    "seats": f"Een rij heeft 1 tot {MAX_SEATS_PER_ROW} stoelen.",
    "one seat count": "Geef één aantal stoelen voor alle rijen, of één per rij.",
    "radius": "De boog heeft een straal van minstens 2 stoelbreedtes.",
    "letters label": "Met letters kunnen er hoogstens 26 rijen zijn.",
    "numbers or letters": "Kies cijfers of letters voor de rijen.",
    "zone bands": "De zones moeten samen precies alle rijen beslaan.",
}


def _dutch(reason: str) -> str:
    for key, message in _MESSAGES.items():
        if key in reason:
            return message
    return "Deze sectie klopt niet: " + reason


def read_sections(reader: FormReader) -> tuple[str, list[SectionSpec]] | None:
    """The hall's name and the sections the form describes; None with the reasons in
    `reader.errors`."""
    name = reader.text("naam", max_length=MAX_LABEL)
    if not name and "naam" not in reader.errors:
        reader.errors["naam"] = "Dit veld is verplicht."
    specs = [spec for n in range(1, SECTIONS + 1) if (spec := _section(reader, n)) is not None]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        reader.errors["algemeen"] = "Twee secties hebben dezelfde naam."
    if reader.errors:
        return None
    return name, specs


def preview_plan(reader: FormReader, at: datetime) -> SeatPlan | None:
    """The plan the form describes, made only to be looked at (its ids are thrown away)."""
    read = read_sections(reader)
    if read is None:
        return None
    name, specs = read
    try:
        return generate_plan(
            plan_id=uuid.uuid4(), hall_id=uuid.uuid4(), name=name, sections=specs, created_at=at
        )
    except ValueError as refused:
        reader.errors["algemeen"] = _dutch(str(refused))
        return None
