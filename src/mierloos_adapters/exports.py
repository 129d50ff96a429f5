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
from typing import IO, Any

import attrs
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from mierloos_core.model.timeutil import local
from mierloos_core.ports.reports import MoneyLine
from mierloos_core.services.reports import vat_split

EURO_FORMAT = '"€" #,##0.00;-"€" #,##0.00'
PERCENT_FORMAT = "0.00"
ROUNDING_NOTE = (
    "btw per regel: netto = bruto / (1 + tarief), afgerond op de cent (half naar boven);"
    " btw = bruto - netto"
)
CHUNK = 256 * 1024


@attrs.frozen
class Money:
    """An amount in cents: a number with a euro format in Excel, ``12.50`` in CSV."""

    cents: int


@attrs.frozen
class Column:
    title: str
    value: Callable[[Any], Any]


def _when(moment: datetime | None) -> datetime | None:
    return local(moment).replace(tzinfo=None) if moment is not None else None


def _vat(line: Any) -> tuple[Money, Money]:
    split = vat_split(
        line.gross_cents if isinstance(line, MoneyLine) else line.paid_cents, line.vat_rate
    )
    return Money(split.net_cents), Money(split.vat_cents)


TICKETS = (
    Column("bestelling", lambda x: x.order_number),
    Column("besteld op", lambda x: _when(x.ordered_at)),
    Column("status bestelling", lambda x: x.order_status.value),
    Column("status kaart", lambda x: x.status.value),
    Column("naam", lambda x: x.name),
    Column("e-mail", lambda x: x.email),
    Column("voorstelling", lambda x: x.show_title),
    Column("aanvang", lambda x: _when(x.starts_at)),
    Column("categorie", lambda x: x.category),
    Column("prijs", lambda x: Money(x.price_cents)),
    Column("betaald (incl. btw)", lambda x: Money(x.paid_cents)),
    Column("btw-tarief %", lambda x: x.vat_rate),
    Column("netto", lambda x: _vat(x)[0]),
    Column("btw", lambda x: _vat(x)[1]),
    Column("binnengelaten", lambda x: _when(x.admitted_at)),
)
ORDERS = (
    Column("bestelling", lambda x: x.order_number),
    Column("besteld op", lambda x: _when(x.ordered_at)),
    Column("betaald op", lambda x: _when(x.paid_at)),
    Column("status", lambda x: x.status.value),
    Column("naam", lambda x: x.name),
    Column("e-mail", lambda x: x.email),
    Column("kaarten", lambda x: x.tickets),
    Column("subtotaal", lambda x: Money(x.subtotal_cents)),
    Column("korting", lambda x: Money(x.discount_cents)),
    Column("totaal (incl. btw)", lambda x: Money(x.total_cents)),
    Column("kortingscode", lambda x: x.coupon_code or ""),
    Column("betaalwijze", lambda x: x.payment_method or ""),
)
MONEY = (
    Column("soort", lambda x: x.kind),
    Column("datum", lambda x: _when(x.at)),
    Column("bestelling", lambda x: x.order_number),
    Column("kenmerk", lambda x: x.reference),
    Column("betaalwijze", lambda x: x.method or ""),
    Column("status", lambda x: x.status),
    Column("voorstelling", lambda x: x.show_title),
    Column("bruto (incl. btw)", lambda x: Money(x.gross_cents)),
    Column("btw-tarief %", lambda x: x.vat_rate),
    Column("netto", lambda x: _vat(x)[0]),
    Column("btw", lambda x: _vat(x)[1]),
)
KINDS: dict[str, tuple[Column, ...]] = {"tickets": TICKETS, "orders": ORDERS, "payments": MONEY}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        sign = "-" if value.cents < 0 else ""
        return f"{sign}{abs(value.cents) // 100}.{abs(value.cents) % 100:02d}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = str(value)
    # A cell starting with = + - @ would be a formula to a spreadsheet: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_chunks(kind: str, lines: Iterable[Any]) -> Iterator[bytes]:
    """The CSV file in chunks of about `CHUNK` bytes, first the BOM and the header."""
    columns = KINDS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([f"# {ROUNDING_NOTE}"])
    writer.writerow([c.title for c in columns])
    for line in lines:
        writer.writerow([_csv_cell(c.value(line)) for c in columns])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_row(sheet: WriteOnlyWorksheet, values: list[Any]) -> list[Any]:
    row: list[Any] = []
    for value in values:
        if isinstance(value, Money):
            cell = WriteOnlyCell(sheet, value=Decimal(value.cents) / 100)
            cell.number_format = EURO_FORMAT
            row.append(cell)
        elif isinstance(value, Decimal):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = PERCENT_FORMAT
            row.append(cell)
        elif isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
            row.append(WriteOnlyCell(sheet, value="'" + value))  # never a formula
        else:
            row.append(value)
    return row


def write_xlsx(kind: str, lines: Iterable[Any], target: IO[bytes]) -> None:
    """The workbook, written row by row (openpyxl's write-only mode) to `target`."""
    columns = KINDS[kind]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=kind)
    sheet.append([ROUNDING_NOTE])
    sheet.append([c.title for c in columns])
    for line in lines:
        sheet.append(_xlsx_row(sheet, [c.value(line) for c in columns]))
    book.save(target)


def xlsx_chunks(kind: str, lines: Iterable[Any]) -> Iterator[bytes]:
    """The workbook in chunks: written to a temporary file, then read back and removed."""
    with tempfile.TemporaryFile(prefix="mierloos-export-") as spool:
        write_xlsx(kind, lines, spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
