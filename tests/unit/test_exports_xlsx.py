"""The Excel export: times are real dates in Mierlo's time, amounts numbers in a euro format,
text that would be a formula stays text, every row as long as the header."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl

from mierloos_adapters import exports
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.ports.reports import TicketLine


def _line(n: int, name: str, admitted: datetime | None) -> TicketLine:
    return TicketLine(
        ticket_id=uuid.uuid4(),
        order_number=f"OMT-{n:08d}",
        ordered_at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 on the 29th in Mierlo
        order_status=OrderStatus.PAID,
        status=TicketStatus.VALID,
        name=name,
        email="klant@example.nl",
        show_title="Hamlet",
        starts_at=datetime(2026, 7, 1, 18, 0, tzinfo=UTC),  # summer time: 20:00
        category="Regulier",
        price_cents=2500,
        paid_cents=2389 - n,
        vat_rate=Decimal("9.00"),
        admitted_at=admitted,
    )


def test_the_ticket_workbook_has_dates_amounts_and_no_formulas() -> None:
    lines = [
        _line(1, "=SOM(A1)", None),
        _line(2, "Piet", datetime(2026, 7, 1, 17, 45, tzinfo=UTC)),
        _line(3, "Jan", None),
    ]
    out = io.BytesIO()
    exports.write_xlsx("tickets", lines, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    rows = list(sheet.iter_rows(min_row=3))
    header = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    col = {name: header.index(name) for name in header}

    assert len(rows) == 3
    first, second = rows[0], rows[1]
    assert first[col["naam"]].value == "'=SOM(A1)"
    assert first[col["naam"]].data_type == "s"
    assert first[col["besteld op"]].value == datetime(2026, 3, 29, 0, 30)
    assert second[col["aanvang"]].value == datetime(2026, 7, 1, 20, 0)
    assert second[col["binnengelaten"]].value == datetime(2026, 7, 1, 19, 45)
    assert first[col["binnengelaten"]].value is None
    assert [r[col["betaald (incl. btw)"]].value for r in rows] == [23.88, 23.87, 23.86]
    assert first[col["betaald (incl. btw)"]].number_format == exports.EURO_FORMAT
    assert first[col["btw-tarief %"]].value == 9.0
    net, vat = first[col["netto"]].value, first[col["btw"]].value
    assert round(net + vat, 2) == 23.88
    assert (net, vat) == (21.91, 1.97)


def test_text_reads_back_as_written_but_for_characters_xml_does_not_allow() -> None:
    names = ["a < b & c > d", " spaties ", "twee\nregels", "cr\rhier", "bel\x07!", "Zoë 𝄞", ""]
    lines = [_line(n, name, None) for n, name in enumerate(names)]
    out = io.BytesIO()
    exports.write_xlsx("tickets", lines, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    found = [row[4].value for row in sheet.iter_rows(min_row=3)]

    assert found[:6] == ["a < b & c > d", " spaties ", "twee\nregels", "cr\rhier", "bel!", "Zoë 𝄞"]
    assert found[6] in ("", None)  # an empty text: an empty cell to a reader
    assert sheet.max_row == 2 + len(names)
    assert sheet.title == "tickets"


def test_an_export_without_lines_is_a_workbook_with_its_head() -> None:
    out = io.BytesIO()
    exports.write_xlsx("orders", [], out)
    rows = list(openpyxl.load_workbook(io.BytesIO(out.getvalue())).active.values)

    assert rows[0][0] == exports.ROUNDING_NOTE
    assert set(rows[0][1:]) <= {None}  # the sheet is as wide as its headings
    assert rows[1] == exports.KINDS["orders"].headings
    assert len(rows) == 2
