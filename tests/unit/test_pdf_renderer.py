"""The reportlab ticket renderer, read back with pypdf: pages, Dutch text, fitting text."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFont

import mierloos_adapters
from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.money import Money

FONT_FILES = Path(mierloos_adapters.__file__).with_name("fonts")


def ticket(position: int = 1, count: int = 1, **changes: Any) -> TicketDocument:
    fields: dict[str, Any] = {
        "theatre_name": "Ons Mierloos Theater",
        "show_title": "De Gebroeders Leeuwenhart",
        # 19:15 UTC is 20:15 in Mierlo in winter time
        "starts_at": datetime(2026, 3, 14, 19, 15, tzinfo=UTC),
        "hall": "Grote zaal",
        "price": Money(1250),
        "order_number": "OMT-K7M2XQ9P",
        "holder_name": "Zoë Brouwer-Hélène",
        "secret": f"geheim-{position}-0123456789abcdefghijklmnopqrstuvwxyz",
        "position": position,
        "count": count,
    }
    fields.update(changes)
    return TicketDocument(**fields)


def order(count: int, **changes: Any) -> list[TicketDocument]:
    return [ticket(n, count, **changes) for n in range(1, count + 1)]


@pytest.fixture(scope="module")
def renderer() -> ReportlabTicketRenderer:
    return ReportlabTicketRenderer()


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    return PdfReader(io.BytesIO(pdf), strict=True)


def page_text(pdf: bytes, index: int = 0) -> str:
    """The page's text with every run of whitespace, line breaks included, as one space."""
    return " ".join(read(pdf).pages[index].extract_text().split())


@pytest.mark.parametrize("count", [2, 50])
def test_an_order_is_one_pdf_with_a_page_per_ticket(
    renderer: ReportlabTicketRenderer, count: int
) -> None:
    reader = read(renderer.render(order(count)))

    assert len(reader.pages) == count
    for index, page in enumerate(reader.pages):
        assert f"Kaart {index + 1} van {count}" in page.extract_text()
        assert "OMT-K7M2XQ9P" in page.extract_text()


def test_a_page_shows_the_ticket_in_dutch(renderer: ReportlabTicketRenderer) -> None:
    text = page_text(renderer.render([ticket()]))

    assert "Ons Mierloos Theater" in text
    assert "De Gebroeders Leeuwenhart" in text
    assert "zaterdag 14 maart 2026, 20:15" in text
    assert "Grote zaal" in text
    assert "€ 12,50" in text
    assert "OMT-K7M2XQ9P" in text
    assert "Zoë Brouwer-Hélène" in text
    assert "Kaart 1 van 1" in text
    assert "vrije plaatsing" not in text


def test_a_page_shows_the_price_category_with_its_price(
    renderer: ReportlabTicketRenderer,
) -> None:
    tickets = [ticket(1, 2, category="CJP"), ticket(2, 2, category="Regulier", price=Money(2250))]
    pdf = renderer.render(tickets)

    assert "CJP · € 12,50" in page_text(pdf, 0)
    assert "Regulier · € 22,50" in page_text(pdf, 1)
    assert "CJP" not in page_text(pdf, 1)


def test_times_are_shown_as_in_mierlo_in_summer_too(renderer: ReportlabTicketRenderer) -> None:
    text = page_text(renderer.render([ticket(starts_at=datetime(2026, 7, 1, 18, 0, tzinfo=UTC))]))

    assert "woensdag 1 juli 2026, 20:00" in text


def test_no_hall_means_free_seating(renderer: ReportlabTicketRenderer) -> None:
    text = page_text(renderer.render([ticket(hall=None)]))

    assert "vrije plaatsing" in text
    assert "Grote zaal" not in text


def test_each_page_names_its_own_holder(renderer: ReportlabTicketRenderer) -> None:
    tickets = [
        ticket(1, 2, holder_name="Łucja Wąsowska"),
        ticket(2, 2, holder_name="Şükrü Öztürk", hall=None, price=Money(123450)),
    ]
    pdf = renderer.render(tickets)

    first, second = page_text(pdf, 0), page_text(pdf, 1)
    assert "Łucja Wąsowska" in first
    assert "Şükrü Öztürk" not in first
    assert "Şükrü Öztürk" in second
    assert "€ 1.234,50" in second
    assert "vrije plaatsing" in second
    assert "vrije plaatsing" not in first


def test_the_fonts_are_embedded(renderer: ReportlabTicketRenderer) -> None:
    reader = read(renderer.render([ticket()]))
    fonts = {}
    for page in reader.pages:
        for xobject in page["/Resources"]["/XObject"].values():
            fonts.update(xobject.get_object()["/Resources"]["/Font"])
        fonts.update(page["/Resources"]["/Font"])
    used = [font.get_object() for font in fonts.values()]
    embedded = [font for font in used if "/FontFile2" in font.get("/FontDescriptor", {})]

    assert embedded
    assert {font["/BaseFont"].split("+")[-1] for font in embedded} >= {
        "DejaVuSans",
        "DejaVuSans-Bold",
    }
    for font in used:
        assert font["/BaseFont"] not in ("/Helvetica", "/Times-Roman", "/Courier")


def text_runs(pdf: bytes) -> list[tuple[str, float, float, float, str]]:
    """Every piece of text on the first page: (text, x, y, size, font name)."""
    runs: list[tuple[str, float, float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        text = text.strip()
        if text:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((text, x, y, size * tm[0] * cm[0], font["/BaseFont"].split("+")[-1]))

    read(pdf).pages[0].extract_text(visitor_text=visit)
    return runs


def assert_all_text_on_the_page(pdf: bytes) -> list[tuple[str, float, float, float, str]]:
    width, height = (float(v) for v in read(pdf).pages[0].mediabox.upper_right)
    fonts = {
        name: TTFont(f"test-{name}", str(FONT_FILES / f"{name}.ttf"))
        for name in ("DejaVuSans", "DejaVuSans-Bold")
    }
    runs = text_runs(pdf)
    assert runs
    for text, x, y, size, font in runs:
        right = x + fonts[font].stringWidth(text, size)
        assert x >= 0, f"{text!r} starts left of the page"
        assert right <= width, f"{text!r} runs off the page: {x:.1f}..{right:.1f}"
        assert 0 <= y <= height, f"{text!r} is below or above the page"
    return runs


def test_a_very_long_title_is_shrunk_and_cut_but_stays_on_the_page(
    renderer: ReportlabTicketRenderer,
) -> None:
    title = "Een avond vol liederen over de Peel, de Dommel en de mensen van Mierlo " * 12
    pdf = renderer.render([ticket(show_title=title)])

    runs = assert_all_text_on_the_page(pdf)
    assert len(read(pdf).pages) == 1
    title_runs = [run for run in runs if run[0].startswith(("Een avond", "…")) or "Peel" in run[0]]
    assert title_runs[0][0].startswith("Een avond vol liederen")
    assert title_runs[0][3] < 16  # shrunk from the normal size
    assert title_runs[-1][0].endswith("…")
    text = page_text(pdf)
    assert "OMT-K7M2XQ9P" in text  # the rest of the ticket is still there
    assert "Kaart 1 van 1" in text


def test_long_names_and_words_wrap_instead_of_running_off(
    renderer: ReportlabTicketRenderer,
) -> None:
    name = "Wilhelmina Johanna Frederika Louisa van Oranje-Nassau van Amsberg " * 3
    pdf = renderer.render(
        [ticket(holder_name=name, hall="Zaal" + "W" * 80, theatre_name="Mierloos" * 20)]
    )

    runs = assert_all_text_on_the_page(pdf)
    name_runs = [run for run in runs if "Wilhelmina" in run[0] or "Oranje" in run[0]]
    assert len(name_runs) == 2  # wrapped over two lines
    assert name_runs[0][2] > name_runs[1][2]


def test_characters_the_font_lacks_do_not_break_the_page(
    renderer: ReportlabTicketRenderer,
) -> None:
    full_width_mierlo = "\uff2d\uff49\uff45\uff52\uff4c\uff4f"
    pdf = renderer.render(
        [
            ticket(
                holder_name=f"{full_width_mierlo} \u6797\tJan\u00adsen\n",
                show_title="Leeuwen\u00adhart",
            )
        ]
    )

    text = page_text(pdf)
    assert "Mierlo ? Jansen" in text  # full-width letters folded, the unknown one marked
    assert "Leeuwenhart" in text  # a soft hyphen is not a space


def test_rendering_is_deterministic(renderer: ReportlabTicketRenderer) -> None:
    tickets = order(3)
    assert renderer.render(tickets) == renderer.render(tickets)
    changed = [tickets[0], attrs.evolve(tickets[1], secret="een ander geheim"), tickets[2]]
    assert renderer.render(changed) != renderer.render(tickets)


def test_an_order_without_tickets_is_refused(renderer: ReportlabTicketRenderer) -> None:
    with pytest.raises(ValueError, match="without tickets"):
        renderer.render([])


@pytest.fixture
def threads_switch_often() -> Iterator[None]:
    """Switch threads every microsecond instead of every 5 ms, so that two renders interleave
    inside reportlab's font code on every run instead of once in a few hundred renders."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.usefixtures("threads_switch_often")
def test_one_renderer_shared_by_many_threads_gives_the_same_pdfs() -> None:
    shared = ReportlabTicketRenderer()
    orders = [order(1, holder_name=f"Bezoeker {n} Ĳsselmeer-Ødegård") for n in range(16)]
    expected = [shared.render(tickets) for tickets in orders]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(20):
            assert list(pool.map(shared.render, orders)) == expected


@pytest.mark.usefixtures("threads_switch_often")
def test_renderers_made_in_many_threads_give_the_same_pdfs() -> None:
    orders = [order(2, holder_name=f"Bezoeker {n} Ĳsselmeer-Ødegård") for n in range(8)]
    expected = [ReportlabTicketRenderer().render(tickets) for tickets in orders]

    def render(tickets: list[TicketDocument]) -> bytes:
        return ReportlabTicketRenderer().render(tickets)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(render, orders)) == expected
