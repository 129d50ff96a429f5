"""Exports formatted by Postgres: each CSV line, or each row of the Excel sheet, is built in SQL
and streamed from a server-side cursor in large batches, so Python only joins strings (no row
objects, no per-value formatting). The bytes are those `mierloos_adapters.exports` writes from
the generic lines (`csv_chunks`, `xlsx_rows`), which the tests hold them to:

- text: a value starting with = + - @ tab or CR gets a leading ``'`` (never a formula); in CSV
  it is then quoted as Python's csv module does by default (when it holds a comma, a double
  quote, CR or LF; quotes doubled), NULL is empty; in the sheet it is an inline string with
  & < > and CR escaped and the characters XML does not allow dropped, NULL an empty cell;
- times: Europe/Amsterdam; in CSV ``YYYY-MM-DD HH:MM``, in the sheet Excel's serial number
  to the second (`spreadsheet.serial`); amounts: ``12.50``, ``-3.05``; rates ``9.00``;
- VAT per line (`services.reports.vat_split`): net = gross * 10000 / (10000 + rate in
  hundredths), rounded half away from zero in whole numbers, VAT = gross - net;
- CSV lines end in CRLF.

COPY ... TO STDOUT (FORMAT csv) is not used: it ends lines in LF and quotes empty strings, so
its bytes would differ from the generic export's. SQLite keeps the generic path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Integer,
    Text,
    case,
    cast,
    func,
    literal,
    select,
)

from mierloos_adapters import spreadsheet
from mierloos_adapters.sqlalchemy.report_lines import ticket_query
from mierloos_adapters.sqlalchemy.report_queries import reading
from mierloos_core.ports.reports import LineFilter

# Lines per batch: some 3 MB of text either way (a sheet's row is about four CSV lines long).
BATCH = {"csv": 20_000, "xlsx": 5_000}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NEEDS_QUOTES = '[",\r\n]'
_FIRST = "[=+@\t\r-]"  # FORMULA_START, for a regular expression
CSV_SPECIAL = f'^{_FIRST}|[",\r\n]'  # a guard or quotes needed
ZONE = "Europe/Amsterdam"
KINDS = ("tickets",)
FORMS = ("csv", "xlsx")
NOT_XML = "".join(chr(c) for c in (*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
XML_SPECIAL = f"^{_FIRST}|[&<>\x01-\x1f]"  # a guard, an escape or a character dropped


def _s(value: str) -> Any:
    return literal(value, Text)


def _guarded(value: Any) -> Any:
    """Text that would be a formula, kept text (a leading ``'``)."""
    return case((func.substr(value, 1, 1).in_(FORMULA_START), _s("'").concat(value)), else_=value)


def _csv_text(value: Any) -> Any:
    """A text value as `exports` writes it in CSV: formula guard, then quoting; most values
    need neither, which one regular expression tells."""
    text = func.coalesce(cast(value, Text), "")
    guarded = _guarded(text)
    quoted = _s('"').concat(func.replace(guarded, '"', '""')).concat('"')
    careful = case((guarded.regexp_match(NEEDS_QUOTES), quoted), else_=guarded)
    return case((text.regexp_match(CSV_SPECIAL), careful), else_=text)


def _local(value: Any) -> Any:
    return func.timezone(ZONE, value)


def _csv_time(value: Any) -> Any:
    """A moment as Mierlo's clock shows it, to the minute (empty when NULL): the first 16
    characters of the local timestamp's text (``YYYY-MM-DD HH:MM:SS...``), cheaper than
    to_char."""
    return func.coalesce(func.left(cast(_local(value), Text), 16), "")


def _cents(value: Any) -> Any:
    """Cents as euros with a decimal point (``-3.05``): times 0.01 is a numeric of scale 2."""
    return cast(value * Decimal("0.01"), Text)


def _net(gross: Any, rate: Any) -> Any:
    """The net cents of `gross` at `rate` percent, as `vat_split` rounds them."""
    gross = cast(gross, BigInteger)
    denominator = 10000 + cast(rate * 100, Integer)
    net = (2 * func.abs(gross) * 10000 + denominator) // (2 * denominator)
    return case((gross < 0, -net), else_=net)


def _xml_text(value: Any) -> Any:
    """Text escaped as `spreadsheet.text_cell` escapes it."""
    value = func.translate(value, NOT_XML, "")
    for plain, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        value = func.replace(value, plain, escaped)
    return value


def _around(cell: str, value: Any) -> Any:
    """`value` in the markup around `_MARK` in `cell`."""
    before, after = cell.split(_MARK)
    return _s(before).concat(value).concat(after)


_MARK = "\ue000"  # a private-use character: no cell writer changes it


def _number(text: Any, style: int = 0) -> Any:
    """`spreadsheet.number_cell` of a number's text."""
    return _around(spreadsheet.number_cell(_MARK, style), text)


def _xlsx_text(value: Any) -> Any:
    """`spreadsheet.text_cell` of a text (an empty cell for NULL); most values need neither
    guard nor escapes, which one regular expression tells."""
    text = cast(value, Text)
    careful = _around(spreadsheet.text_cell(_MARK), _xml_text(_guarded(text)))
    return case(
        (value.is_(None), _s(spreadsheet.EMPTY_CELL)),
        (text.regexp_match(XML_SPECIAL), careful),
        else_=_name(text),
    )


def _name(value: Any) -> Any:
    """`spreadsheet.text_cell` of a name of ours (a status): nothing to guard or escape."""
    return _around(spreadsheet.text_cell(_MARK), value)


def _serial(value: Any) -> Any:
    """`spreadsheet.serial` of a moment in Mierlo: the whole seconds of its local time since
    1970 (date_part's float is exact to far below a second there), split into days and the
    seconds of the day, whose fraction is scaled and rounded half up in whole numbers."""
    seconds = cast(func.floor(func.date_part("epoch", _local(value))), BigInteger)
    day = spreadsheet.DAY_SECONDS
    scale = 10**spreadsheet.SERIAL_DIGITS
    days = seconds // day + (date(1970, 1, 1) - spreadsheet.EPOCH.date()).days
    fraction = (2 * (seconds % day) * scale + day) // (2 * day)
    return (
        cast(days, Text)
        .concat(".")
        .concat(func.lpad(cast(fraction, Text), spreadsheet.SERIAL_DIGITS, "0"))
    )


def _xlsx_time(value: Any) -> Any:
    return case(
        (value.is_(None), _s(spreadsheet.EMPTY_CELL)),
        else_=_number(_serial(value), spreadsheet.DATE),
    )


# How each kind of value is written: text, one of our names (a status: plain text), a moment,
# cents, a VAT rate.
CSV: dict[str, Callable[[Any], Any]] = {
    "text": _csv_text,
    "name": lambda v: v,
    "time": _csv_time,
    "cents": _cents,
    "rate": lambda v: cast(v, Text),
}
XLSX: dict[str, Callable[[Any], Any]] = {
    "text": _xlsx_text,
    "name": _name,
    "time": _xlsx_time,
    "cents": lambda v: _number(_cents(v), spreadsheet.EURO),
    "rate": lambda v: _number(cast(v, Text), spreadsheet.DECIMAL),
}


def _csv_line(fields: list[Any]) -> Any:
    line: Any = _s("")
    for n, field in enumerate(fields):
        line = line.concat(field) if n == 0 else line.concat(",").concat(field)
    return line.concat("\r\n")


def _sheet_row(fields: list[Any]) -> Any:
    line: Any = _s("<row>")
    for field in fields:
        line = line.concat(field)
    return line.concat("</row>")


def ticket_lines_query(form: str, only: LineFilter) -> Any:
    """The ticket export's CSV lines or sheet rows, in the door list's order."""
    rows = ticket_query(only).subquery("door_list")
    c = rows.c
    net = _net(c.paid, c.vat_rate)
    columns = [
        ("text", c.number),
        ("time", c.created_at),
        ("name", c.order_status),  # statuses are names of ours (a check constraint)
        ("name", c.status),
        ("text", c.name),
        ("text", c.email),
        ("text", c.title),
        ("time", c.starts_at),
        ("text", c.category_name),
        ("text", c.seat),
        ("cents", c.price_cents),
        ("cents", c.paid),
        ("rate", c.vat_rate),
        ("cents", net),
        ("cents", cast(c.paid, BigInteger) - net),
        ("time", c.admitted_at),
    ]
    formats, joined = (CSV, _csv_line) if form == "csv" else (XLSX, _sheet_row)
    line = joined([formats[kind](value) for kind, value in columns]).label("line")
    # The subquery keeps its ORDER BY on Postgres when selected from without joins; say it
    # again outside to be sure of the order.
    return select(line).order_by(c.starts_at, c.performance_id, c.number, c.position)


def formatted_lines(engine: Engine, form: str, kind: str, only: LineFilter) -> Iterator[str]:
    """The export's lines (without the head), in batches of `BATCH` lines joined into one
    string each: memory stays bounded by a few batches however long the export."""
    if kind not in KINDS or form not in FORMS:
        raise ValueError(kind)
    with reading(engine) as db:
        db.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")  # what `_csv_time` reads
        result = db.execution_options(stream_results=True, yield_per=BATCH[form]).execute(
            ticket_lines_query(form, only)
        )
        for batch in result.scalars().partitions():
            yield "".join(batch)
