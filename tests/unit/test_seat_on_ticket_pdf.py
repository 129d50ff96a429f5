"""The ticket PDF prints the seat of a reserved ticket, after the hall."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf

from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.money import Money


def document(seat: str, position: int) -> TicketDocument:
    return TicketDocument(
        theatre_name="Ons Mierloos Theater",
        show_title="Carmen",
        starts_at=datetime(2026, 12, 5, 19, tzinfo=UTC),
        hall="Grote zaal",
        price=Money(2500),
        order_number="OMT-7K3QX9PD",
        holder_name="An Bezoeker",
        secret=f"{position}" * 43,
        position=position,
        count=2,
        seat=seat,
    )


def test_each_page_names_its_own_seat():
    data = ReportlabTicketRenderer().render(
        [document("Zaal, rij 3, stoel 4", 1), document("Zaal, rij 3, stoel 5", 2)]
    )
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    assert len(pages) == 2
    assert "Grote zaal · Zaal, rij 3, stoel 4" in pages[0]
    assert "stoel 5" not in pages[0]
    assert "Zaal, rij 3, stoel 5" in pages[1]
