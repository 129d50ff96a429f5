"""The reports' figures equal independent counts written by hand in SQL over the same seed, on
SQLite and Postgres; and the period report's queries use the indexes (EXPLAIN, Postgres)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Uuid, bindparam, event, text

from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy.reports import SqlReports
from mierloos_adapters.sqlalchemy.types import UtcDateTime
from mierloos_core.services.reports import parse_period
from tests.integration.conftest import empty_all_tables
from tests.report_seed import PERIOD, ids, seed

IN_PERIOD = "o.created_at >= :start AND o.created_at < :end"


@pytest.fixture
def seeded(engine, clock):
    return SqlReports(engine), seed(lambda: SqlUnitOfWork(engine, clock)), engine


def scalar(engine, sql: str, **params):
    statement = text(sql).bindparams(
        *(
            bindparam(name, type_=Uuid if name.startswith("p") else UtcDateTime)
            for name in params
            if name.startswith(("p", "start", "end"))
        )
    )
    with engine.connect() as db:
        return db.execute(statement, params).scalar()


def test_performance_figures_equal_hand_written_counts(seeded):
    reports, data, engine = seeded
    for key in ("a1", "a2", "b1"):
        performance = ids(data, key)
        found = reports.performance(performance)

        def count(status: str, p=performance) -> int:
            return scalar(
                engine,
                "SELECT count(*) FROM tickets WHERE performance_id = :p AND status = :s",
                p=p,
                s=status,
            )

        assert (found.sold, found.held, found.refunded, found.cancelled) == (
            count("valid"),
            count("reserved"),
            count("refunded"),
            count("cancelled"),
        )
        assert found.free == scalar(
            engine, "SELECT available_seats FROM performances WHERE id = :p", p=performance
        )
        per_category = {c.name: c.sold for c in found.by_category}
        for name in per_category:
            assert per_category[name] == scalar(
                engine,
                "SELECT count(*) FROM tickets WHERE performance_id = :p AND status = 'valid'"
                " AND category_name = :n",
                p=performance,
                n=name,
            )
        coupon_orders = {c.code: c.orders for c in found.by_coupon}
        assert sum(coupon_orders.values()) == scalar(
            engine,
            "SELECT count(DISTINCT t.order_id) FROM tickets t WHERE t.performance_id = :p"
            " AND t.status IN ('valid', 'refunded')",
            p=performance,
        )


def test_period_figures_equal_hand_written_sums(seeded):
    reports, _data, engine = seeded
    found = reports.period(PERIOD)
    bounds = {"start": PERIOD.start, "end": PERIOD.end}

    assert found.totals.orders == scalar(
        engine, f"SELECT count(*) FROM orders o WHERE {IN_PERIOD}", **bounds
    )
    # Every ticket of a paid (or later refunded) order paid its share: together the totals.
    assert found.totals.revenue_cents == scalar(
        engine,
        "SELECT sum(o.subtotal_cents - o.discount_cents) FROM orders o"
        f" WHERE o.status IN ('paid', 'refunded') AND {IN_PERIOD}",
        **bounds,
    )
    assert found.totals.tickets == scalar(
        engine,
        "SELECT count(*) FROM tickets t JOIN orders o ON o.id = t.order_id"
        f" WHERE t.status IN ('valid', 'refunded') AND {IN_PERIOD}",
        **bounds,
    )
    assert found.totals.refunds_cents == scalar(
        engine,
        "SELECT sum(amount_cents) FROM refunds o WHERE o.status NOT IN ('failed', 'canceled')"
        f" AND {IN_PERIOD}",
        **bounds,
    )
    for row in found.occupancy:
        assert row.sold == scalar(
            engine,
            "SELECT count(*) FROM tickets WHERE performance_id = :p AND status = 'valid'",
            p=row.performance_id,
        )
    january = reports.period(parse_period("month", "2026-01"))
    assert january.totals.revenue_cents == scalar(
        engine,
        "SELECT sum(o.subtotal_cents - o.discount_cents) FROM orders o"
        f" WHERE o.status = 'paid' AND {IN_PERIOD}",
        start=january.period.start,
        end=january.period.end,
    )


@pytest.fixture
def postgres_seeded(postgres_engine, clock):
    empty_all_tables(postgres_engine)
    seed(lambda: SqlUnitOfWork(postgres_engine, clock))
    return SqlReports(postgres_engine), postgres_engine


def test_the_period_report_reads_through_its_indexes(postgres_seeded):
    """Each statement of the period report, EXPLAINed with sequential scans discouraged (the
    seed is small): the indexes on orders, refunds and performances by date are usable."""
    reports, engine = postgres_seeded
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        reports.period(PERIOD)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    used: set[str] = set()
    with engine.connect() as db:
        db.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            plan = db.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
            used |= set(re.findall(r"using (ix_\w+|pk_\w+)", " ".join(plan)))
    assert {"ix_orders_created_at", "ix_refunds_created_at", "ix_performances_starts_at"} <= used
