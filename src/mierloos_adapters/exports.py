"""Exports of report lines as CSV and Excel, both written as the lines stream in.

CSV: comma separated, UTF-8 with a byte order mark (so Excel reads the accents), amounts with a
decimal point (``12.50``), times in Europe/Amsterdam as ``YYYY-MM-DD HH:MM``. Excel: one sheet
written row by row into the zip as it streams (`spreadsheet`), times as dates, amounts as
numbers in a euro format. On Postgres the database formats the ticket lines of both itself
(`FormattedLines`), the same bytes. VAT per line: see `mierloos_core.services.reports` (half
up, net + VAT = gross); the first line of every export's header names the rounding.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, Protocol

import attrs

from mierloos_adapters import spreadsheet
from mierloos_core.model.timeutil import local
from mierloos_core.ports.reports import LineFilter, MoneyLine, OrderLine, TicketLine
from mierloos_core.services.reports import Reporting, vat_split

EURO_FORMAT = spreadsheet.EURO_FORMAT
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


def _guarded(value: str) -> str:
    """Text that a spreadsheet would take for a formula (= + - @ ...) kept text: ``'=...``."""
    return "'" + value if value[:1] in _FORMULA_START else value


def _amount(cents: int) -> str:
    """Cents as euros with a decimal point: ``12.50``, ``-3.05``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _csv_cell(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _guarded(value)
    if value is None:
        return ""
    if kind is Money:
        return _amount(value.cents)
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


class FormattedLines(Protocol):
    """A store that formats an export's lines itself (the Postgres fast path)."""

    def formatted_lines(self, form: str, kind: str, only: LineFilter) -> Iterator[str] | None:
        """The CSV lines or the sheet rows (`form` "csv" or "xlsx") after the head, in
        batches; None when this store cannot."""
        ...


def _formatted(
    reporting: Reporting, form: str, kind: str, only: LineFilter
) -> Iterator[str] | None:
    formatter = getattr(reporting.reports, "formatted_lines", None)
    return formatter(form, kind, only) if formatter is not None else None


def csv_export(reporting: Reporting, kind: str, only: LineFilter) -> Iterator[bytes]:
    """The CSV file of an export: formatted by the database where it can (the same bytes),
    else from the report lines by `csv_chunks`."""
    batches = _formatted(reporting, "csv", kind, only)
    if batches is None:
        return csv_chunks(kind, reporting.lines(kind, only))
    return _joined(_csv_head(kind), batches)


def _joined(head: str, batches: Iterator[str]) -> Iterator[bytes]:
    yield head.encode("utf-8")
    for batch in batches:
        yield batch.encode("utf-8")


def xlsx_export(reporting: Reporting, kind: str, only: LineFilter) -> Iterator[bytes]:
    """The workbook of an export: its rows formatted by the database where it can (the same
    sheet), else from the report lines by `xlsx_chunks`."""
    batches = _formatted(reporting, "xlsx", kind, only)
    if batches is None:
        return xlsx_chunks(kind, reporting.lines(kind, only))
    return spreadsheet.workbook(kind, itertools.chain([xlsx_head(kind)], batches))


def export_chunks(reporting: Reporting, form: str, kind: str, only: LineFilter) -> Iterator[bytes]:
    """The file of an export in `form` ("csv" or "xlsx"), in chunks as it is written."""
    return (csv_export if form == "csv" else xlsx_export)(reporting, kind, only)


def _xlsx_cell(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return spreadsheet.text_cell(_guarded(value))
    if value is None:
        return spreadsheet.EMPTY_CELL
    if kind is Money:
        return spreadsheet.number_cell(_amount(value.cents), spreadsheet.EURO)
    if kind is datetime:
        return spreadsheet.number_cell(spreadsheet.serial(value), spreadsheet.DATE)
    if kind is Decimal:
        return spreadsheet.number_cell(f"{value:.2f}", spreadsheet.DECIMAL)
    return spreadsheet.number_cell(str(value))


def xlsx_head(kind: str) -> str:
    """The sheet's first two rows: the rounding note and the column headings."""
    first = spreadsheet.row([spreadsheet.text_cell(ROUNDING_NOTE)])
    return first + spreadsheet.row(spreadsheet.text_cell(h) for h in KINDS[kind].headings)


def xlsx_rows(kind: str, lines: Iterable[Any]) -> Iterator[str]:
    """The sheet's rows after the head, one string each."""
    as_row, row = KINDS[kind].row, spreadsheet.row
    for line in lines:
        yield row([_xlsx_cell(value) for value in as_row(line)])


def xlsx_chunks(kind: str, lines: Iterable[Any]) -> Iterator[bytes]:
    """The workbook in chunks, written as the lines come."""
    return spreadsheet.workbook(kind, itertools.chain([xlsx_head(kind)], xlsx_rows(kind, lines)))


def write_xlsx(kind: str, lines: Iterable[Any], target: IO[bytes]) -> None:
    """The workbook of `lines`, written to `target`."""
    for chunk in xlsx_chunks(kind, lines):
        target.write(chunk)
