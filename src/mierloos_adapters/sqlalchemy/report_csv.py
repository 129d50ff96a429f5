"""CSV exports formatted by Postgres: each line of the file is built in SQL and streamed from a
server-side cursor in large batches, so Python only joins strings (no row objects, no
per-value formatting). The bytes are those of `mierloos_adapters.exports.csv_chunks` over the
generic lines, which the tests hold it to:

- text: a value starting with = + - @ tab or CR gets a leading ``'`` (never a formula), and is
  quoted as Python's csv module does by default (when it holds a comma, a double quote, CR or
  LF; quotes doubled); NULL is empty;
- times: Europe/Amsterdam, ``YYYY-MM-DD HH:MM``; amounts: ``12.50``, ``-3.05``; rates ``9.00``;
- VAT per line (`services.reports.vat_split`): net = gross * 10000 / (10000 + rate in
  hundredths), rounded half away from zero in whole numbers, VAT = gross - net;
- lines end in CRLF.

COPY ... TO STDOUT (FORMAT csv) is not used: it ends lines in LF and quotes empty strings, so
its bytes would differ from the generic export's. SQLite keeps the generic path.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Engine, Integer, Text, case, cast, func, literal, select

from mierloos_adapters.sqlalchemy.report_lines import ticket_query
from mierloos_adapters.sqlalchemy.report_queries import reading
from mierloos_core.ports.reports import LineFilter

BATCH = 20_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NEEDS_QUOTES = '[",\r\n]'
ZONE = "Europe/Amsterdam"
KINDS = ("tickets",)


def _text(value: Any) -> Any:
    """A text value as `exports` writes it: formula guard, then quoting."""
    value = func.coalesce(cast(value, Text), "")
    guarded = case(
        (func.substr(value, 1, 1).in_(FORMULA_START), literal("'", Text).concat(value)),
        else_=value,
    )
    quoted = literal('"', Text).concat(func.replace(guarded, '"', '""')).concat('"')
    return case((guarded.regexp_match(NEEDS_QUOTES), quoted), else_=guarded)


def _time(value: Any) -> Any:
    """A moment as Mierlo's clock shows it, to the minute (empty when NULL): the first 16
    characters of the local timestamp's text (``YYYY-MM-DD HH:MM:SS...``), cheaper than
    to_char."""
    return func.coalesce(func.left(cast(func.timezone(ZONE, value), Text), 16), "")


def _cents(value: Any) -> Any:
    """Cents as euros with a decimal point (``-3.05``): times 0.01 is a numeric of scale 2."""
    return cast(value * Decimal("0.01"), Text)


def _net(gross: Any, rate: Any) -> Any:
    """The net cents of `gross` at `rate` percent, as `vat_split` rounds them."""
    gross = cast(gross, BigInteger)
    denominator = 10000 + cast(rate * 100, Integer)
    net = (2 * func.abs(gross) * 10000 + denominator) // (2 * denominator)
    return case((gross < 0, -net), else_=net)


def _line(*fields: Any) -> Any:
    line: Any = literal("", Text)
    for n, field in enumerate(fields):
        line = line.concat(field) if n == 0 else line.concat(",").concat(field)
    return line.concat("\r\n").label("line")


def ticket_csv_query(only: LineFilter) -> Any:
    rows = ticket_query(only).subquery("door_list")
    c = rows.c
    net = _net(c.paid, c.vat_rate)
    line = _line(
        _text(c.number),
        _time(c.created_at),
        c.order_status,  # statuses are names of ours (a check constraint): plain text
        c.status,
        _text(c.name),
        _text(c.email),
        _text(c.title),
        _time(c.starts_at),
        _text(c.category_name),
        _text(c.seat),
        _cents(c.price_cents),
        _cents(c.paid),
        cast(c.vat_rate, Text),
        _cents(net),
        _cents(cast(c.paid, BigInteger) - net),
        _time(c.admitted_at),
    )
    # The subquery keeps its ORDER BY on Postgres when selected from without joins; say it
    # again outside to be sure of the order.
    return select(line).order_by(c.starts_at, c.performance_id, c.number, c.position)


def csv_lines(engine: Engine, kind: str, only: LineFilter) -> Iterator[str]:
    """The export's lines (without the BOM and the header), in batches of `BATCH` lines
    joined into one string each."""
    if kind not in KINDS:
        raise ValueError(kind)
    with reading(engine) as db:
        db.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")  # what `_time` reads
        result = db.execution_options(stream_results=True, yield_per=BATCH).execute(
            ticket_csv_query(only)
        )
        for batch in result.scalars().partitions():
            yield "".join(batch)
