"""Ticket PDFs with reportlab: one A6 ticket per ticket, with a QR code of the ticket's secret,
on A6 pages, four to an A4 sheet, or on 80 mm receipt paper (`page_layout`).

Implements the `TicketRenderer` port. Text is set in DejaVu Sans, shipped in `fonts/` (see
`fonts/LICENSE.txt`), which covers accented Latin (é, ë, ł, ş, ą, ő ...) and the euro sign; it is
embedded as a subset. The QR code is computed with segno and drawn as one filled path of
rectangles (horizontal runs of dark modules, merged with identical runs in the rows below),
which is both much faster and much smaller than reportlab's own QR widget.
"""

from __future__ import annotations

import functools
import io
import re
import threading
import unicodedata
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace
from reportlab.pdfgen.canvas import Canvas

from mierloos_adapters.i18n import texts
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.timeutil import dutch_datetime

__all__ = ["ReportlabTicketRenderer", "dutch_datetime", "register_fonts"]

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR = "MierloosSans"
BOLD = "MierloosSans-Bold"
_FONT_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}

_font_lock = threading.Lock()
_fonts_registered = False


class ThreadOwnTTFont(TTFont):
    """A TrueType font whose mutable parts belong to the calling thread.

    reportlab's `TTFont` keeps each document's subsets in a `WeakKeyDictionary` and subsets the
    font at `canvas.save` by seeking through one shared parser: two threads saving at once
    corrupt each other's reads (a `KeyError` or `IndexError` in the font code, or a wrong PDF).
    Here each thread gets its own parsed face and its own state table, loaded on first use, so
    any number of threads render at once with nothing shared but the immutable file.
    """

    def __init__(self, name: str, filename: str) -> None:
        self._filename = filename
        self._local = threading.local()
        super().__init__(name, filename)

    def _own(self) -> threading.local:
        local = self._local
        if not hasattr(local, "face"):
            local.face = TTFontFace(self._filename)
            local.state = weakref.WeakKeyDictionary()
        return local

    @property  # type: ignore[override]
    def face(self) -> TTFontFace:
        return self._own().face

    @face.setter
    def face(self, value: TTFontFace) -> None:
        self._local.face = value
        self._local.state = weakref.WeakKeyDictionary()

    @property  # type: ignore[override]
    def state(self) -> weakref.WeakKeyDictionary[object, TTFont.State]:
        return self._own().state

    @state.setter
    def state(self, value: weakref.WeakKeyDictionary[object, TTFont.State]) -> None:
        self._own().state = value


def register_fonts() -> None:
    """Register the ticket fonts with reportlab, once per process; safe to call from any thread."""
    global _fonts_registered
    if _fonts_registered:
        return
    with _font_lock:
        if _fonts_registered:
            return
        for name, filename in _FONT_FILES.items():
            pdfmetrics.registerFont(ThreadOwnTTFont(name, str(FONT_DIR / filename)))
        _fonts_registered = True


# --- text fitting -------------------------------------------------------------------------------

ELLIPSIS = "\u2026"


@functools.lru_cache(maxsize=4096)
def _printable(text: str, font_name: str) -> str:
    """`text` on one line with only characters the font has.

    Line breaks, tabs and other control characters become spaces, invisible formatting
    characters (soft hyphens, zero-width joiners) go; a character the font lacks becomes its
    base letter when it has one (NFKD), else "?". Runs of whitespace collapse to one space.
    """
    glyphs = pdfmetrics.getFont(font_name).face.charToGlyph
    out = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if char.isspace() or category == "Cc":
            out.append(" ")
        elif category == "Cf":
            continue
        elif ord(char) in glyphs:
            out.append(char)
        else:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if ord(c) in glyphs and not unicodedata.combining(c)
            )
            out.append(base or "?")
    return " ".join("".join(out).split())


def _width(text: str, font_name: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font_name, size))


def _longest_prefix(text: str, font_name: str, size: float, width: float) -> int:
    """How many leading characters of `text` fit in `width` (at least one)."""
    font = pdfmetrics.getFont(font_name)
    used = 0.0
    for index, char in enumerate(text):
        used += font.stringWidth(char, size)
        if used > width:
            return max(index, 1)
    return len(text)


def _wrap(text: str, font_name: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word wider than a line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _width(candidate, font_name, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _width(word, font_name, size) > width:
            cut = _longest_prefix(word, font_name, size, width)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines.append(current)
    return lines


def _ellipsize(line: str, font_name: str, size: float, width: float) -> str:
    line = line.rstrip()
    while line and _width(line + ELLIPSIS, font_name, size) > width:
        line = line[:-1].rstrip()
    return line + ELLIPSIS


@functools.lru_cache(maxsize=4096)
def fit_text(
    text: str,
    font_name: str,
    max_size: float,
    min_size: float,
    width: float,
    max_lines: int = 1,
) -> tuple[float, tuple[str, ...]]:
    """The largest size from `max_size` down to `min_size` (in half points) at which `text`
    wraps into at most `max_lines` lines of `width`, and those lines.

    Text that does not fit even at `min_size` is cut after `max_lines` lines, ending in an
    ellipsis: whatever happens, every line is at most `width` wide.
    """
    text = _printable(text, font_name)
    size = max_size
    while True:
        lines = _wrap(text, font_name, size, width)
        if len(lines) <= max_lines:
            return size, tuple(lines)
        if size <= min_size:
            break
        size = max(min_size, size - 0.5)
    kept = lines[:max_lines]
    kept[-1] = _ellipsize(kept[-1], font_name, size, width)
    return size, tuple(kept)


# --- QR code ------------------------------------------------------------------------------------

_DARK_RUN = re.compile(b"\x01+")
QUIET_ZONE = 4  # modules of white around the symbol, as the QR standard asks
# The standard picks, per symbol, the data mask with the lowest penalty score; segno spends 80%
# of its time on that search. Any mask decodes alike, and on random 43-character secrets a fixed
# mask 7 scored within 6% of the best mask on average and decoded as often as the best mask from
# blurred, noisy, rotated low-resolution images (zxing-cpp, 300 secrets): keep it fixed.
QR_MASK = 7


def qr_path(data: str) -> tuple[int, str]:
    """The QR symbol of `data` as (modules per side, PDF path of its dark modules).

    The path is rectangles ``column row width height re`` in module units, rows counted from the
    top: each a horizontal run of dark modules, stretched down over the rows below that repeat
    exactly the same run.
    """
    matrix = segno.make(data, error="m", micro=False, mask=QR_MASK).matrix
    parts: list[str] = []
    emit = parts.append
    above: dict[tuple[int, int], int] = {}  # run (start, end) in the row above -> its first row
    for row_index, row in enumerate(matrix):
        here: dict[tuple[int, int], int] = {}
        for match in _DARK_RUN.finditer(row):
            span = match.span()
            here[span] = above.pop(span, row_index)
        for (start, end), top in above.items():
            emit(f"{start} {top} {end - start} {row_index - top} re")
        above = here
    size = len(matrix)
    for (start, end), top in above.items():
        emit(f"{start} {top} {end - start} {size - top} re")
    return size, " ".join(parts)


def qr_operators(data: str, x: float, y: float, box: float) -> str:
    """PDF content operators that fill the QR code of `data` in black, fitting it with its quiet
    zone into the square of side `box` whose lower left corner is (x, y).

    One path of integer rectangles in module space, filled once: no seams between modules.
    """
    size, path = qr_path(data)
    module = box / (size + 2 * QUIET_ZONE)
    left = x + QUIET_ZONE * module
    top = y + box - QUIET_ZONE * module
    # Flip the y axis so rows count downwards from the symbol's top left corner.
    return f"q 0 g {module:.5f} 0 0 {-module:.5f} {left:.3f} {top:.3f} cm {path} f Q"


# --- the page -----------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A6  # 105 x 148 mm: prints on any printer, reads well on a phone
MARGIN = 8 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
HEADER_HEIGHT = 14 * mm
LABEL_WIDTH = 21 * mm
VALUE_X = MARGIN + LABEL_WIDTH
VALUE_WIDTH = CONTENT_WIDTH - LABEL_WIDTH
ROW_HEIGHT = 6 * mm
QR_BOX = 50 * mm  # symbol plus quiet zone; a version 4 symbol is about 40 mm wide
QR_BOTTOM = 19 * mm

ACCENT = (0.478, 0.122, 0.169)  # theatre red

RECEIPT_WIDTH = 80 * mm  # a receipt printer's paper
RECEIPT_SCALE = RECEIPT_WIDTH / PAGE_WIDTH  # the A6 ticket shrunk to it: the QR is 38 mm


@functools.cache
def page_layout(layout: str) -> tuple[tuple[float, float], float, tuple[tuple[float, float], ...]]:
    """A layout's page size, the scale of a ticket on it and where each ticket of a page goes
    (its lower left corner, in the page's points).

    "a6": a page per ticket, the size of the ticket (phones, any printer). "a4": four tickets on
    each A4 sheet, an A6 quarter each (A6 is exactly a quarter of A4), to print and cut.
    "bon": a page per ticket on 80 mm receipt paper, the ticket scaled down to its width.
    """
    if layout == "a6":
        return (PAGE_WIDTH, PAGE_HEIGHT), 1.0, ((0.0, 0.0),)
    if layout == "a4":
        width, height = A4
        quarters = ((0.0, height / 2), (width / 2, height / 2), (0.0, 0.0), (width / 2, 0.0))
        return (width, height), 1.0, quarters
    if layout == "bon":
        return (RECEIPT_WIDTH, PAGE_HEIGHT * RECEIPT_SCALE), RECEIPT_SCALE, ((0.0, 0.0),)
    raise ValueError(f"unknown ticket layout {layout!r}")


GREY = (0.38, 0.38, 0.38)
RULE = (0.8, 0.8, 0.8)


class ReportlabTicketRenderer:
    """Renders an order's tickets as one PDF, one A6 ticket per ticket, laid out as `layout`
    says (`page_layout`: "a6", "a4" or "bon").

    What the tickets of an order share (theatre, show, date, hall, price category and price,
    order number and the labels) is drawn once per PDF as a form XObject that every page
    reuses; each page adds only the holder's name, the QR code and its position in the order.

    The embedded fonts are always deflated. `compress_pages` deflates the page streams too,
    which halves a big order's PDF but costs a sixth of the time: each page is mostly its QR
    path of small integers, and reportlab ASCII85-encodes compressed streams in pure Python.
    `invariant` makes the output depend on the tickets only (no creation time, no random id),
    so rendering the same order twice gives the same bytes.
    """

    def __init__(
        self, *, compress_pages: bool = False, invariant: bool = True, layout: str = "a6"
    ) -> None:
        register_fonts()
        self._compress_pages = compress_pages
        self._invariant = invariant
        self._page, self._scale, self._slots = page_layout(layout)

    def render(self, tickets: Sequence[TicketDocument]) -> bytes:
        if not tickets:
            raise ValueError("cannot render a PDF without tickets")
        buffer = io.BytesIO()
        canvas = Canvas(
            buffer,
            pagesize=self._page,
            pageCompression=1 if self._compress_pages else 0,
            invariant=1 if self._invariant else 0,
            initialFontName=REGULAR,
            initialFontSize=10,
            lang="en-GB" if tickets[0].language == "en" else "nl-NL",
        )
        first = tickets[0]
        words = texts(first.language)
        canvas.setTitle(
            words.gettext("Toegangskaarten %(number)s") % {"number": first.order_number}
        )
        canvas.setAuthor(first.theatre_name)
        canvas.setSubject(first.show_title)
        canvas.setCreator("mierloos")
        forms: dict[tuple[object, ...], tuple[str, float]] = {}
        for index, ticket in enumerate(tickets):
            key = (
                ticket.theatre_name,
                ticket.show_title,
                ticket.starts_at,
                ticket.hall,
                ticket.price,
                ticket.category,
                ticket.seat,
                ticket.order_number,
            )
            if key not in forms:
                name = f"ticket{len(forms)}"
                canvas.beginForm(name, 0, 0, PAGE_WIDTH, PAGE_HEIGHT)
                name_y = self._draw_shared(canvas, ticket)
                canvas.endForm()
                forms[key] = (name, name_y)
            form, name_y = forms[key]
            slot = index % len(self._slots)
            placed = self._slots[slot] != (0.0, 0.0) or self._scale != 1.0
            if placed:  # an A6 page needs no transform: its bytes stay as they were
                canvas.saveState()
                canvas.translate(*self._slots[slot])
                canvas.scale(self._scale, self._scale)
            canvas.doForm(form)
            self._draw_own(canvas, ticket, name_y)
            if placed:
                canvas.restoreState()
            if slot == len(self._slots) - 1 or index == len(tickets) - 1:
                canvas.showPage()
        # Pages and forms took their compression when they were made; the fonts, written now,
        # take the document's: deflate them whatever the pages do (zlib alone, no ASCII85).
        canvas.setPageCompression(1)
        canvas.save()
        return buffer.getvalue()

    def _draw_shared(self, canvas: Canvas, ticket: TicketDocument) -> float:
        """Draw what all tickets of the order share; return the baseline of the name row."""
        # Header band with the theatre's name.
        canvas.setFillColorRGB(*ACCENT)
        canvas.rect(0, PAGE_HEIGHT - HEADER_HEIGHT, PAGE_WIDTH, HEADER_HEIGHT, stroke=0, fill=1)
        size, lines = fit_text(ticket.theatre_name, BOLD, 13, 7, CONTENT_WIDTH)
        canvas.setFillColorRGB(1, 1, 1)
        canvas.setFont(BOLD, size)
        canvas.drawString(MARGIN, PAGE_HEIGHT - HEADER_HEIGHT / 2 - size * 0.35, lines[0])

        # Show title: up to three lines, shrunk before it is cut.
        canvas.setFillColorRGB(0, 0, 0)
        size, lines = fit_text(ticket.show_title, BOLD, 16, 10, CONTENT_WIDTH, 3)
        canvas.setFont(BOLD, size)
        y = PAGE_HEIGHT - HEADER_HEIGHT - 5 * mm - size * 0.8
        for line in lines:
            canvas.drawString(MARGIN, y, line)
            y -= size * 1.2
        y += size * 1.2 - 4 * mm
        canvas.setStrokeColorRGB(*RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)

        # The details, as label and value rows; the name comes last, on each page.
        words = texts(ticket.language)
        rows = (
            (words.gettext("Datum"), words.when(ticket.starts_at)),
            _place(words.gettext, ticket),
            (words.gettext("Prijs"), _price(words.money(ticket.price), ticket.category)),
            (words.gettext("Bestelling"), ticket.order_number),
            (words.gettext("Naam"), ""),
        )
        for label, value in rows:
            y -= ROW_HEIGHT
            canvas.setFillColorRGB(*GREY)
            canvas.setFont(REGULAR, 7.5)
            canvas.drawString(MARGIN, y, label)
            if value:
                size, lines = fit_text(value, BOLD, 10, 6.5, VALUE_WIDTH)
                canvas.setFillColorRGB(0, 0, 0)
                canvas.setFont(BOLD, size)
                canvas.drawString(VALUE_X, y, lines[0])

        canvas.setFillColorRGB(*GREY)
        canvas.setFont(REGULAR, 6.5)
        canvas.drawCentredString(
            PAGE_WIDTH / 2,
            8 * mm,
            words.gettext("Toon deze code bij de ingang. Eén kaart is één persoon."),
        )
        return y

    def _draw_own(self, canvas: Canvas, ticket: TicketDocument, name_y: float) -> None:
        """Draw what is this ticket's own: the holder's name, the QR code, its position."""
        size, lines = fit_text(ticket.holder_name, BOLD, 10, 6.5, VALUE_WIDTH, 2)
        canvas.setFont(BOLD, size)
        for line in lines:
            canvas.drawString(VALUE_X, name_y, line)
            name_y -= size * 1.2
        self._draw_qr(canvas, ticket.secret, (PAGE_WIDTH - QR_BOX) / 2, QR_BOTTOM, QR_BOX)
        canvas.setFont(BOLD, 11)
        canvas.drawCentredString(
            PAGE_WIDTH / 2,
            QR_BOTTOM - 3 * mm,
            texts(ticket.language).gettext("Kaart %(position)d van %(count)d")
            % {"position": ticket.position, "count": ticket.count},
        )

    def _draw_qr(self, canvas: Canvas, data: str, x: float, y: float, box: float) -> None:
        """Draw the QR code of `data` with its quiet zone in the square (x, y, box)."""
        canvas.addLiteral(qr_operators(data, x, y, box))


def _place(gettext: Callable[[str], str], ticket: TicketDocument) -> tuple[str, str]:
    """The place row: the seat (after the hall) with reserved seating, else hall or "free"."""
    if ticket.seat:
        return gettext("Plaats"), f"{ticket.hall} · {ticket.seat}" if ticket.hall else ticket.seat
    if ticket.hall:
        return gettext("Zaal"), ticket.hall
    return gettext("Plaats"), gettext("vrije plaatsing")


def _price(amount: str, category: str) -> str:
    """The price row: the category's name before the amount ("CJP · € 15,00")."""
    return f"{category} · {amount}" if category else amount
