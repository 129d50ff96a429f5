"""Benchmark: the staff reports and exports over a season of sales on Postgres.

Run with `.venv/bin/python bench/reports.py [--tickets N] [--performances N] [--database-url URL]`
(default: 200,000 tickets over 200 performances, on MIERLOOS_BENCH_DATABASE_URL or the local
server). Not part of the test suite. Seeds a fresh database of its own in bulk
(INSERT ... SELECT generate_series), then times the season's period report (median of 3),
the CSV and the Excel export of every ticket as the site writes them (streamed to a temporary
file; on Postgres the database formats the lines and the sheet's rows), and the peak
growth of this process's memory (ru_maxrss) during the exports.

Baselines in the same run: for the report, one hand-written GROUP BY of the period's tickets per
performance (median of 3: reading those tickets once, the least any report of them costs); for
the exports, a raw COPY of the same ticket rows, joined and sorted, unformatted (FORMAT csv).

Prints readable lines, then as its last line one JSON object: tickets, report_ms, csv_s,
xlsx_s, peak_rss_mb, and the baselines (baseline_report_ms, raw_copy_s).
Targets: report under 500 ms, CSV under 3 s, XLSX under 20 s, memory growth under 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import fresh_database
from sqlalchemy import Engine, text

from mierloos_adapters import exports
from mierloos_adapters.clock import SystemClock
from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_adapters.sqlalchemy.report_lines import ticket_query
from mierloos_adapters.sqlalchemy.reports import SqlReports
from mierloos_core.ports.reports import LineFilter
from mierloos_core.services.reports import Reporting, parse_period

SHOWS = 20
TICKETS_PER_ORDER = 2

# Orders over the 2025-2026 season; one in ten with a discount; 85 % paid, 5 % refunded,
# 5 % pending, 5 % expired. Every order has two tickets of one performance.
SEED = [
    """INSERT INTO shows (id, title, slug, description, genre, age_advice, vat_rate)
       SELECT md5('s' || i)::uuid, 'Voorstelling ' || i, 'voorstelling-' || i, '', '', '',
              CASE WHEN i % 5 = 0 THEN 21 ELSE 9 END
       FROM generate_series(1, :shows) AS i""",
    """INSERT INTO performances (id, show_id, starts_at, price_cents, capacity, available_seats,
                                status)
       SELECT md5('p' || i)::uuid, md5('s' || (i % :shows + 1))::uuid,
              timestamptz '2025-09-01 19:30+02' + (i * interval '1 day'), 2500, :capacity,
              :capacity, 'published'
       FROM generate_series(1, :performances) AS i""",
    """INSERT INTO price_categories (id, performance_id, name_nl, name_en, price_cents,
                                    visibility, position)
       SELECT md5('c' || i || '-' || k)::uuid, md5('p' || i)::uuid,
              CASE k WHEN 0 THEN 'Regulier' ELSE 'Kind' END,
              CASE k WHEN 0 THEN 'Regular' ELSE 'Child' END,
              CASE k WHEN 0 THEN 2500 ELSE 1250 END, 'public', k
       FROM generate_series(1, :performances) AS i, generate_series(0, 1) AS k""",
    """INSERT INTO orders (id, number, secret, email, name, status, subtotal_cents,
                          discount_cents, coupon_code, newsletter, language, created_at,
                          expires_at, paid_at, sales_channel, payment_method)
       SELECT md5('o' || i)::uuid, 'OMT-' || lpad(i::text, 8, '0'), md5('secret' || i),
              'klant' || i || '@example.nl', 'Klant ' || i,
              CASE WHEN i % 20 = 0 THEN 'refunded' WHEN i % 20 = 1 THEN 'pending'
                   WHEN i % 20 = 2 THEN 'expired' ELSE 'paid' END,
              3750, CASE WHEN i % 10 = 3 THEN 375 ELSE 0 END,
              CASE WHEN i % 10 = 3 THEN 'SEIZOEN10' END, false, 'nl',
              timestamptz '2025-08-15 12:00+02' + (i * interval '137 seconds'),
              timestamptz '2025-08-15 12:15+02' + (i * interval '137 seconds'),
              CASE WHEN i % 20 NOT IN (1, 2)
                   THEN timestamptz '2025-08-15 12:02+02' + (i * interval '137 seconds') END,
              'web', 'mollie'
       FROM generate_series(1, :orders) AS i""",
    """INSERT INTO tickets (id, order_id, position, performance_id, category_id, category_name,
                           price_cents, status, secret)
       SELECT md5('t' || i || '-' || k)::uuid, md5('o' || i)::uuid, k,
              md5('p' || (i % :performances + 1))::uuid,
              md5('c' || (i % :performances + 1) || '-' || (k - 1))::uuid,
              CASE k WHEN 1 THEN 'Regulier' ELSE 'Kind' END, CASE k WHEN 1 THEN 2500 ELSE 1250 END,
              CASE WHEN i % 20 = 0 THEN 'refunded' WHEN i % 20 = 1 THEN 'reserved'
                   WHEN i % 20 = 2 THEN 'cancelled' ELSE 'valid' END,
              md5('ticket' || i || '-' || k)
       FROM generate_series(1, :orders) AS i, generate_series(1, 2) AS k""",
    """INSERT INTO payments (id, order_id, provider, provider_payment_id, status, amount_cents,
                            created_at)
       SELECT md5('pay' || o.number)::uuid, o.id, 'mollie', 'tr_' || o.number, 'paid',
              o.subtotal_cents - o.discount_cents, o.created_at
       FROM orders o WHERE o.paid_at IS NOT NULL""",
    """INSERT INTO refunds (id, order_id, payment_id, amount_cents, whole, status, reason,
                           requested_by, created_at)
       SELECT md5('ref' || o.number)::uuid, o.id, md5('pay' || o.number)::uuid,
              o.subtotal_cents - o.discount_cents, true, 'refunded', 'bench', 'kassa@example.nl',
              o.created_at + interval '3 days'
       FROM orders o WHERE o.status = 'refunded'""",
    """UPDATE performances p SET available_seats = p.capacity - (
         SELECT count(*) FROM tickets t WHERE t.performance_id = p.id
         AND t.status IN ('valid', 'reserved'))""",
]


def seed(engine: Engine, tickets: int, performances: int) -> None:
    orders = tickets // TICKETS_PER_ORDER
    per_performance = -(-tickets // performances)
    params = {
        "shows": SHOWS,
        "performances": performances,
        "orders": orders,
        "capacity": per_performance + 50,
    }
    with engine.begin() as db:
        for statement in SEED:
            db.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.exec_driver_sql("VACUUM ANALYZE")
        # Write the seed's pages out now: a checkpoint flushing them during a timing made the
        # report several times slower in some runs.
        db.exec_driver_sql("CHECKPOINT")


# The report's baseline: the period's sold and refunded tickets per performance, one grouping.
BASELINE_REPORT = """
    SELECT t.performance_id, count(*), sum(t.price_cents)
    FROM tickets t JOIN orders o ON o.id = t.order_id
    WHERE o.created_at >= %(start)s AND o.created_at < %(end)s
      AND t.status IN ('valid', 'refunded')
    GROUP BY t.performance_id"""


def baseline_report(engine: Engine, start: object, end: object) -> None:
    with engine.connect() as db:
        cursor = db.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(BASELINE_REPORT, {"start": start, "end": end})
        cursor.fetchall()


def raw_copy(engine: Engine) -> int:
    """COPY the export's ticket rows (joined, sorted, not formatted) to this process; bytes."""
    compiled = ticket_query(LineFilter()).compile(dialect=engine.dialect)
    size = 0
    with engine.connect() as db:
        cursor = db.connection.driver_connection.cursor()  # type: ignore[union-attr]
        statement = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)"
        with cursor.copy(statement, compiled.params) as copy:
            for block in copy:
                size += len(block)
    return size


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def timed(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--performances", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "MIERLOOS_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    with fresh_database(args.database_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        seconds = timed(lambda: seed(engine, args.tickets, args.performances))
        print(
            f"seeded {args.tickets} tickets over {args.performances} performances"
            f" in {seconds:.1f} s"
        )
        reports = SqlReports(engine)
        reporting = Reporting(lambda: SqlUnitOfWork(engine, SystemClock()), reports)
        season = parse_period("season", "2025-2026")
        found = reports.period(season)  # warm the caches once
        print(
            f"season: {found.totals.tickets} tickets sold,"
            f" revenue {found.totals.revenue_cents / 100:.2f}"
        )
        report_ms = statistics.median(
            timed(lambda: reports.period(season)) * 1000 for _ in range(3)
        )
        print(f"period report: {report_ms:.0f} ms (median of 3)")
        base_ms = statistics.median(
            timed(lambda: baseline_report(engine, season.start, season.end)) * 1000
            for _ in range(3)
        )
        print(
            f"baseline, one GROUP BY of the period's tickets: {base_ms:.0f} ms (median of 3),"
            f" report / baseline {report_ms / base_ms:.2f}"
        )
        baseline = peak_rss_mb()
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "tickets.csv"

            def write_csv() -> None:
                with target.open("wb") as out:
                    for chunk in exports.csv_export(reporting, "tickets", LineFilter()):
                        out.write(chunk)

            copied: list[int] = []
            copy_s = timed(lambda: copied.append(raw_copy(engine)))
            print(f"baseline, raw COPY of the same rows: {copy_s:.2f} s, {copied[0] / 1e6:.1f} MB")
            csv_s = timed(write_csv)
            rows = sum(1 for _ in target.open("rb")) - 2
            print(
                f"CSV of {rows} tickets: {csv_s:.2f} s, {target.stat().st_size / 1e6:.1f} MB,"
                f" CSV / raw COPY {csv_s / copy_s:.2f}"
            )
            book = Path(folder) / "tickets.xlsx"

            def write_xlsx() -> None:
                with book.open("wb") as out:
                    for chunk in exports.xlsx_export(reporting, "tickets", LineFilter()):
                        out.write(chunk)

            xlsx_s = timed(write_xlsx)
            print(
                f"XLSX: {xlsx_s:.2f} s, {book.stat().st_size / 1e6:.1f} MB,"
                f" XLSX / raw COPY {xlsx_s / copy_s:.2f}"
            )
        growth = peak_rss_mb() - baseline
        print(f"peak memory growth during the exports: {growth:.1f} MB")
        engine.dispose()
    print(
        json.dumps(
            {
                "tickets": args.tickets,
                "performances": args.performances,
                "report_ms": round(report_ms, 1),
                "csv_s": round(csv_s, 2),
                "xlsx_s": round(xlsx_s, 2),
                "peak_rss_mb": round(growth, 1),
                "baseline_report_ms": round(base_ms, 1),
                "raw_copy_s": round(copy_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
