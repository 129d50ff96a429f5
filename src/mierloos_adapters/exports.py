"""Exports of report lines as CSV and Excel, both written as the lines stream in.

CSV: comma separated, UTF-8 with a byte order mark (so Excel reads the accents), amounts with a
decimal point (``12.50``), times in Europe/Amsterdam as ``YYYY-MM-DD HH:MM``. Excel: openpyxl in
write-only mode into a temporary file (its write-only save needs a file), amounts as numbers
in a euro format. VAT per line: see `mierloos_core.services.reports` (half up, net + VAT =
gross); the first line of every export's header names the rounding.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, Protocol

import attrs
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from mierloos_core.model.timeutil import local
from mierloos_core.ports.reports import LineFilter, MoneyLine, OrderLine, TicketLine
from mierloos_core.services.reports import Reporting, vat_split

EURO_FORMAT = '"€" #,##0.00;-"€" #,##0.00'
PERCENT_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
ROUNDING_NOTE = (
    "btw per regel: netto = bruto / (1 + tarief), afgerond op de cent (half naar boven);"
    " btw = bruto - netto"
)
CHUNK = 256 * 1024


@attrs.frozen
class Money:
    """An amount in cents: a number with a euro format in Excel, ``12.50`` in CSV."""

    cents: int


def _when(moment: datetime | None) -> datetime | None:
    return local(moment).replace(tzinfo=None) if moment is not None else None


def _ticket_row(x: TicketLine) -> list[Any]:
    vat = vat_split(x.paid_cents, x.vat_rate)
    return [
        x.order_number,
        _when(x.ordered_at),
        x.order_status.value,
        x.status.value,
        x.name,
        x.email,
        x.show_title,
        _when(x.starts_at),
        x.category,
        x.seat,
        Money(x.price_cents),
        Money(x.paid_cents),
        x.vat_rate,
        Money(vat.net_cents),
        Money(vat.vat_cents),
        _when(x.admitted_at),
    ]


def _order_row(x: OrderLine) -> list[Any]:
    return [
        x.order_number,
        _when(x.ordered_at),
        _when(x.paid_at),
        x.status.value,
        x.name,
        x.email,
        x.tickets,
        Money(x.subtotal_cents),
        Money(x.discount_cents),
        Money(x.total_cents),
        x.coupon_code or "",
        x.payment_method or "",
    ]


def _money_row(x: MoneyLine) -> list[Any]:
    vat = vat_split(x.gross_cents, x.vat_rate)
    return [
        x.kind,
        _when(x.at),
        x.order_number,
        x.reference,
        x.method or "",
        x.status,
        x.show_title,
        Money(x.gross_cents),
        x.vat_rate,
        Money(vat.net_cents),
        Money(vat.vat_cents),
    ]


@attrs.frozen
class Kind:
    headings: tuple[str, ...]
    row: Callable[[Any], list[Any]]


KINDS: dict[str, Kind] = {
    "tickets": Kind(
        (
            "bestelling",
            "besteld op",
            "status bestelling",
            "status kaart",
            "naam",
            "e-mail",
            "voorstelling",
            "aanvang",
            "categorie",
            "stoel",
            "prijs",
            "betaald (incl. btw)",
            "btw-tarief %",
            "netto",
            "btw",
            "binnengelaten",
        ),
        _ticket_row,
    ),
    "orders": Kind(
        (
            "bestelling",
            "besteld op",
            "betaald op",
            "status",
            "naam",
            "e-mail",
            "kaarten",
            "subtotaal",
            "korting",
            "totaal (incl. btw)",
            "kortingscode",
            "betaalwijze",
        ),
        _order_row,
    ),
    "payments": Kind(
        (
            "soort",
            "datum",
            "bestelling",
            "kenmerk",
            "betaalwijze",
            "status",
            "voorstelling",
            "bruto (incl. btw)",
            "btw-tarief %",
            "netto",
            "btw",
        ),
        _money_row,
    ),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    kind = type(value)
    if kind is str:
        # A cell starting with = + - @ would be a formula to a spreadsheet: keep it text.
        return "'" + value if value[:1] in _FORMULA_START else value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is Money:
        sign = "-" if value.cents < 0 else ""
        return f"{sign}{abs(value.cents) // 100}.{abs(value.cents) % 100:02d}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _csv_head(kind: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([f"# {ROUNDING_NOTE}"])
    writer.writerow(KINDS[kind].headings)
    return buffer.getvalue()


def csv_chunks(kind: str, lines: Iterable[Any]) -> Iterator[bytes]:
    """The CSV file in chunks of about `CHUNK` bytes, first the BOM and the header."""
    as_row = KINDS[kind].row
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(_csv_head(kind))
    for line in lines:
        writer.writerow([_csv_cell(value) for value in as_row(line)])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


class FormattedCsv(Protocol):
    """A store that formats an export's CSV lines itself (the Postgres fast path)."""

    def csv_lines(self, kind: str, only: LineFilter) -> Iterator[str] | None:
        """The lines after the header, in batches; None when this store cannot."""
        ...


def csv_export(reporting: Reporting, kind: str, only: LineFilter) -> Iterator[bytes]:
    """The CSV file of an export: formatted by the database where it can (the same bytes),
    else from the report lines by `csv_chunks`."""
    formatter = getattr(reporting.reports, "csv_lines", None)
    batches = formatter(kind, only) if formatter is not None else None
    if batches is None:
        return csv_chunks(kind, reporting.lines(kind, only))
    return _joined(_csv_head(kind), batches)


def _joined(head: str, batches: Iterator[str]) -> Iterator[bytes]:
    yield head.encode("utf-8")
    for batch in batches:
        yield batch.encode("utf-8")


class _XlsxRow:
    """Turns values into a worksheet row as cheaply as openpyxl allows: text and whole numbers
    as plain values; amounts, rates and times into one cell per column and format, made once
    and reused (a write-only row is written out when appended), its number format set once;
    times as Excel serial numbers already (no date detection per cell). Text that would start
    a formula is kept as text."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet = sheet
        self.cells: dict[tuple[int, str], WriteOnlyCell] = {}
        self.epoch = sheet.parent.epoch

    def _cell(self, column: int, number_format: str, value: float) -> WriteOnlyCell:
        cell = self.cells.get((column, number_format))
        if cell is None:
            cell = WriteOnlyCell(self.sheet)
            cell.number_format = number_format
            self.cells[(column, number_format)] = cell
        cell.value = value
        return cell

    def __call__(self, values: list[Any]) -> list[Any]:
        row: list[Any] = []
        for column, value in enumerate(values):
            kind = type(value)
            if kind is str:
                row.append("'" + value if value[:1] in _FORMULA_START else value)
            elif kind is Money:
                row.append(self._cell(column, EURO_FORMAT, value.cents / 100))
            elif kind is datetime:
                row.append(self._cell(column, DATE_FORMAT, to_excel(value, self.epoch)))
            elif kind is Decimal:
                row.append(self._cell(column, PERCENT_FORMAT, float(value)))
            else:
                row.append(value)
        return row


def write_xlsx(kind: str, lines: Iterable[Any], target: IO[bytes]) -> None:
    """The workbook, written row by row (openpyxl's write-only mode) to `target`."""
    spec = KINDS[kind]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=kind)
    sheet.append([ROUNDING_NOTE])
    sheet.append(list(spec.headings))
    as_row = _XlsxRow(sheet)
    for line in lines:
        sheet.append(as_row(spec.row(line)))
    book.save(target)


def xlsx_chunks(kind: str, lines: Iterable[Any]) -> Iterator[bytes]:
    """The workbook in chunks: written to a temporary file, then read back and removed."""
    with tempfile.TemporaryFile(prefix="mierloos-export-") as spool:
        write_xlsx(kind, lines, spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
