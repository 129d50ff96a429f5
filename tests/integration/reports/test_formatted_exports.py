"""The CSV and the Excel sheet that Postgres formats itself are byte for byte those written from
the report lines, on the reports' seed made awkward: names that would be formulas, hold commas,
quotes, line breaks, accents or markup, a VAT rate with decimals, tickets admitted at the door."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import ARRAY, Numeric, func, literal, select, text

from mierloos_adapters import exports, spreadsheet
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy.report_formats import _cents, _net, _serial
from mierloos_adapters.sqlalchemy.reports import SqlReports
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.timeutil import local
from mierloos_core.ports.reports import LineFilter
from mierloos_core.services.reports import Reporting, vat_split
from tests.integration.conftest import empty_all_tables
from tests.report_seed import PERIOD, ids, seed

AWKWARD = [
    '=HYPERLINK("http://x")',
    "+31 6 1234",
    "-min",
    "@home",
    "\tTab",
    "Jansen, Piet",
    'Piet "de Kaart" Jansen',
    "twee\nregels",
    "cr\rhier",
    "Zoë Çelik \u2013 𝄞",
    "\\.",
    " spatie ",
    "'al quote",
]
MARKUP = "<b>&amp; \x01bel\x1f"  # markup to escape, characters XML does not allow


@pytest.fixture
def awkward(postgres_engine, clock):
    empty_all_tables(postgres_engine)
    data = seed(lambda: SqlUnitOfWork(postgres_engine, clock))
    with postgres_engine.begin() as db:
        numbers = db.execute(text("SELECT number FROM orders ORDER BY number")).scalars().all()
        for n, number in enumerate(numbers):
            name = AWKWARD[n % len(AWKWARD)]
            db.execute(
                text("UPDATE orders SET name = :name, email = :email WHERE number = :number"),
                {"name": name, "email": f"{name[:5]}@example.nl", "number": number},
            )
        db.execute(
            text("UPDATE shows SET title = :title WHERE slug <> 'hamlet'"), {"title": MARKUP}
        )
        db.execute(
            text("UPDATE shows SET vat_rate = 5.55, title = '=Som, \"x\"' WHERE slug = 'hamlet'")
        )
        db.execute(
            text(
                "UPDATE tickets SET admitted_at = TIMESTAMPTZ '2026-03-29 00:59:30+00'"
                " WHERE position = 1"
            )
        )
        _seat_one_ticket(db)
    reports = SqlReports(postgres_engine)
    return Reporting(lambda: SqlUnitOfWork(postgres_engine, clock), reports), data


def _seat_one_ticket(db) -> None:
    """Give one ticket a numbered seat, in a section whose name needs quoting."""
    ticket = db.execute(
        text("SELECT id, order_id, performance_id, category_id FROM tickets ORDER BY id LIMIT 1")
    ).one()
    hall, plan, seat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    db.execute(text("INSERT INTO halls (id, name) VALUES (:id, 'Zaal')"), {"id": hall})
    db.execute(
        text(
            "INSERT INTO seat_plans (id, hall_id, version, name, created_at)"
            " VALUES (:id, :hall, 1, 'Plan', now())"
        ),
        {"id": plan, "hall": hall},
    )
    db.execute(
        text(
            "INSERT INTO seats (id, plan_id, section, row_label, row_index, number,"
            " column_index, x, y, zone, wheelchair, companion, restricted_view, blocked)"
            " VALUES (:id, :plan, 'Balkon, \"links\"', 'C', 2, 7, 7, 7, 2, 'A',"
            " false, false, false, false)"
        ),
        {"id": seat, "plan": plan},
    )
    db.execute(
        text(
            "INSERT INTO performance_seats"
            " (performance_id, seat_id, category_id, state, order_id, ticket_id)"
            " VALUES (:performance, :seat, :category, 'sold', :order, :ticket)"
        ),
        {
            "performance": ticket.performance_id,
            "seat": seat,
            "category": ticket.category_id,
            "order": ticket.order_id,
            "ticket": ticket.id,
        },
    )


def _both(reporting: Reporting, only: LineFilter) -> tuple[bytes, bytes]:
    reports = reporting.reports
    fast = b"".join(exports.csv_export(reporting, "tickets", only))
    generic = b"".join(exports.csv_chunks("tickets", reports.ticket_lines(only)))
    return fast, generic


def _sheet(workbook: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(workbook)) as book:
        return book.read("xl/worksheets/sheet1.xml")


def _both_sheets(reporting: Reporting, only: LineFilter) -> tuple[bytes, bytes]:
    fast = b"".join(exports.xlsx_export(reporting, "tickets", only))
    generic = b"".join(exports.xlsx_chunks("tickets", reporting.reports.ticket_lines(only)))
    return _sheet(fast), _sheet(generic)


def _filters(data) -> list[LineFilter]:
    return [
        LineFilter(),
        LineFilter(period=PERIOD),
        LineFilter(performance_id=ids(data, "a1")),
        LineFilter(show_id=data.shows["b"].id, status=OrderStatus.PAID),
    ]


def test_postgres_formats_the_ticket_csv_exactly_as_the_generic_export(awkward):
    reporting, data = awkward
    assert (
        reporting.reports.formatted_lines("csv", "tickets", LineFilter()) is not None
    )  # the fast path is taken
    for only in _filters(data):
        fast, generic = _both(reporting, only)
        assert fast == generic
    everything, _ = _both(reporting, LineFilter())
    assert everything.count(b"\r\n") > 17  # the header and a line per ticket (and more)
    assert b"'=HYPERLINK" in everything
    assert b'"twee\nregels"' in everything
    assert b"5.55" in everything
    assert b'"Balkon, ""links"", rij C, stoel 7"' in everything


def test_postgres_formats_the_ticket_sheet_exactly_as_the_generic_export(awkward):
    reporting, data = awkward
    assert reporting.reports.formatted_lines("xlsx", "tickets", LineFilter()) is not None
    for only in _filters(data):
        fast, generic = _both_sheets(reporting, only)
        assert fast == generic
    everything, _ = _both_sheets(reporting, LineFilter())
    assert everything.count(b"<row>") > 17
    assert b"&lt;b&gt;&amp;amp; bel</t>" in everything  # escaped, control characters dropped
    assert b"twee\nregels" in everything
    assert b"cr&#13;hier" in everything
    assert b'<c s="3"><v>5.55</v></c>' in everything


def test_the_csv_is_generic_where_postgres_is_not_there(sqlite_engine, clock):
    empty_all_tables(sqlite_engine)
    seed(lambda: SqlUnitOfWork(sqlite_engine, clock))
    for form in ("csv", "xlsx"):
        assert SqlReports(sqlite_engine).formatted_lines(form, "tickets", LineFilter()) is None
        assert SqlReports(sqlite_engine).formatted_lines(form, "orders", LineFilter()) is None


@pytest.mark.parametrize("rate", ["0.00", "5.55", "9.00", "21.00", "100.00"])
def test_amounts_and_net_amounts_in_sql_are_those_of_python(postgres_engine, rate):
    """Every amount from -3000 to 3000 cents, refunds' negative ones too: the net amount
    rounded half away from zero, and the amount written as the generic CSV writes it."""
    gross = func.generate_series(-3000, 3000).table_valued("g").render_derived()
    net = _net(gross.c.g, literal(Decimal(rate), Numeric(5, 2)))
    query = select(gross.c.g, net, _cents(gross.c.g))
    with postgres_engine.connect() as db:
        found = {g: (net, text) for g, net, text in db.execute(query)}
    assert len(found) == 6001
    assert found == {
        g: (vat_split(g, Decimal(rate)).net_cents, exports._csv_cell(exports.Money(g)))
        for g in found
    }


def test_date_serial_numbers_in_sql_are_those_of_python(postgres_engine):
    """Moments over two years, winter and summer time, every few hours and seconds: the serial
    number of the local time that Postgres writes is the one Python writes."""
    start = datetime(2025, 10, 25, 22, 59, 58, 750000, tzinfo=UTC)
    moments = [start + timedelta(seconds=n * 5003) for n in range(0, 12000)]
    moment = func.unnest(literal(moments, ARRAY(UtcDateTime))).table_valued("m").render_derived()
    with postgres_engine.connect() as db:
        found = db.execute(select(moment.c.m, _serial(moment.c.m))).all()
    assert len(found) == len(moments)
    assert {m: text for m, text in found} == {
        m: spreadsheet.serial(local(m).replace(tzinfo=None)) for m, _ in found
    }
