"""The counter's print layouts, rasterised by pypdfium2 and read back by zxing-cpp: the receipt is
80 mm wide with a QR code that scans, A4 carries four tickets a sheet."""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp

from mierloos_adapters.pdf import ReportlabTicketRenderer
from tests.integration.test_pdf_qr_decode import three_tickets
from tests.pdf_pages import page_texts, render_pages

MM = 72 / 25.4
DPI = 203  # a receipt printer's resolution


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [(page.get_width() / MM, page.get_height() / MM) for page in document]
    finally:
        document.close()


def qr_codes(pdf: bytes) -> list[list[zxingcpp.Barcode]]:
    return [
        zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
        for page in render_pages(pdf, DPI)
    ]


def test_the_receipt_is_80_mm_wide_and_its_qr_codes_scan() -> None:
    tickets = three_tickets()
    pdf = ReportlabTicketRenderer(layout="bon").render(tickets)

    sizes = page_sizes_mm(pdf)
    assert len(sizes) == len(tickets)
    for width, height in sizes:
        assert width == pytest.approx(80, abs=0.05)
        assert 100 < height < 120
    for ticket, codes in zip(tickets, qr_codes(pdf), strict=True):
        assert [code.text for code in codes] == [ticket.secret]
        position = codes[0].position
        side_px = abs(position.top_right.x - position.top_left.x)
        assert side_px / DPI * 25.4 >= 25, "the receipt's QR code must be at least 25 mm wide"
    for ticket, text in zip(tickets, page_texts(pdf), strict=True):
        assert ticket.show_title in text
        assert f"Kaart {ticket.position} van {ticket.count}" in text


def test_a4_carries_four_tickets_a_sheet_each_with_its_own_code() -> None:
    tickets = three_tickets() + three_tickets()  # six tickets: a full sheet and half of one
    pdf = ReportlabTicketRenderer(layout="a4").render(tickets)

    sizes = page_sizes_mm(pdf)
    assert len(sizes) == 2
    for width, height in sizes:
        assert (round(width), round(height)) == (210, 297)
    found = [sorted(code.text for code in codes) for codes in qr_codes(pdf)]
    assert found == [
        sorted(t.secret for t in tickets[:4]),
        sorted(t.secret for t in tickets[4:]),
    ]


def test_an_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="layout"):
        ReportlabTicketRenderer(layout="a5")
