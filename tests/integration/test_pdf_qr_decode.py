"""Ticket PDFs rasterised by pypdfium2, their QR codes read back by zxing-cpp."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp

from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.ids import new_secret
from mierloos_core.model.money import Money
from tests.pdf_pages import fonts, page_texts, render_pages

DPI = 150


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
    pages = render_pages(pdf.read_bytes(), DPI)
    assert len(pages) == len(tickets)

    for ticket, page in zip(tickets, pages, strict=True):
        codes = zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
        assert [code.text for code in codes] == [ticket.secret]
        position = codes[0].position
        side_px = max(
            abs(position.top_right.x - position.top_left.x),
            abs(position.bottom_left.y - position.top_left.y),
        )
        assert side_px / DPI * 25.4 >= 35, "the QR code must be at least 35 mm wide"


def test_all_fonts_are_embedded(rendered: tuple[list[TicketDocument], Path]) -> None:
    _, pdf = rendered
    listed = fonts(str(pdf))
    assert listed
    for font in listed:
        assert "DejaVuSans" in font.name
        assert (font.embedded, font.subset, font.unicode_map) == (True, True, True), font


def test_the_tickets_of_a_paid_order_name_their_price_category() -> None:
    """Through the tickets service: each page prints its ticket's category and price."""
    from mierloos_adapters.links import SiteLinks
    from mierloos_adapters.memory import FixedClock, MemoryStorage, MemoryStore, MemoryUnitOfWork
    from mierloos_core.model.cart import CartLine
    from mierloos_core.services.checkout import CheckoutRequest, checkout
    from mierloos_core.services.tickets import Tickets
    from tests.catalog_builders import CatalogBuilder

    clock = FixedClock(datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    store = MemoryStore()

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(store, clock)

    catalog = CatalogBuilder(uow, clock)
    performance = catalog.performance(capacity=20, price=Money(2500))
    cjp = catalog.category(performance, "CJP", price=Money(1500))
    lines = [
        CartLine(performance_id=performance.id, quantity=1, category_id=cjp.id),
        CartLine(performance_id=performance.id, quantity=1),
    ]
    placed = checkout(uow(), clock, CheckoutRequest(email="an@example.nl", name="An", lines=lines))
    with uow() as work:
        order = work.orders.get(placed.order_id)
        assert order is not None
        order.mark_paid(clock.now())
        work.orders.update(order)
        work.commit()
    storage = MemoryStorage()
    tickets = Tickets(uow, clock, ReportlabTicketRenderer(), storage, SiteLinks("https://x.nl"))

    made = tickets.generate_pdf(placed.order_id)

    assert made is not None
    texts = page_texts(storage.get(made.key))
    assert len(texts) == 2
    [cjp_page] = [text for text in texts if "CJP · € 15,00" in text]
    [regular_page] = [text for text in texts if "Regulier · € 25,00" in text]
    assert "Regulier" not in cjp_page
    assert "CJP" not in regular_page
