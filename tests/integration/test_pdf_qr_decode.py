"""Ticket PDFs rasterised by poppler's pdftoppm, their QR codes read back by zxing-cpp.

Needs the `pdftoppm` and `pdffonts` programs (Debian package poppler-utils). Without them the
tests fail: they are never skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.ids import new_secret
from mierloos_core.model.money import Money

DPI = 150


def poppler(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"`{program}` is not installed: install poppler-utils "
            "(apt-get install -y poppler-utils) to run the ticket PDF tests",
            pytrace=False,
        )
    return path


def three_tickets() -> list[TicketDocument]:
    return [
        TicketDocument(
            theatre_name="Ons Mierloos Theater",
            show_title="Het Geheim van de Smid",
            starts_at=datetime(2026, 11, 7, 19, 30, tzinfo=UTC),
            hall=None if position == 2 else "Kleine zaal",
            price=Money(1850),
            order_number="OMT-Q4R8T2WZ",
            holder_name="Anaïs Verbeek",
            secret=new_secret(),
            position=position,
            count=3,
        )
        for position in (1, 2, 3)
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[TicketDocument], Path]:
    tickets = three_tickets()
    path = tmp_path_factory.mktemp("tickets") / "tickets.pdf"
    path.write_bytes(ReportlabTicketRenderer().render(tickets))
    return tickets, path


def test_every_page_carries_a_qr_code_of_its_ticket_secret(
    rendered: tuple[list[TicketDocument], Path],
) -> None:
    tickets, pdf = rendered
    subprocess.run(
        [poppler("pdftoppm"), "-r", str(DPI), "-gray", "-png", str(pdf), str(pdf.with_suffix(""))],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pages = sorted(pdf.parent.glob("tickets-*.png"))
    assert len(pages) == len(tickets)

    for ticket, page in zip(tickets, pages, strict=True):
        codes = zxingcpp.read_barcodes(Image.open(page), formats=zxingcpp.BarcodeFormat.QRCode)
        assert [code.text for code in codes] == [ticket.secret]
        position = codes[0].position
        side_px = max(
            abs(position.top_right.x - position.top_left.x),
            abs(position.bottom_left.y - position.top_left.y),
        )
        assert side_px / DPI * 25.4 >= 35, "the QR code must be at least 35 mm wide"


def test_all_fonts_are_embedded(rendered: tuple[list[TicketDocument], Path]) -> None:
    _, pdf = rendered
    listing = subprocess.run(
        [poppler("pdffonts"), str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    fonts = listing.splitlines()[2:]  # after the header and its underline
    assert fonts
    for line in fonts:
        assert "DejaVuSans" in line
        # columns: name type encoding emb sub uni object-id
        assert line.split()[-5:-2] == ["yes", "yes", "yes"], line
