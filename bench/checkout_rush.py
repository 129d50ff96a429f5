"""Checkout under a rush: the core's checkout service against the same transaction in raw SQL.

N threads, each with its own connection from a pool, buy 1-4 seats of ONE hot performance on
PostgreSQL. The baseline runs the same statements (read the performance with its show, its
price categories, insert the order, its tickets in one statement and the job with its
wake-up, the conditional seat updates of the performance and the categories, the count of
the buyer's unpaid tickets, commit) straight through psycopg, no SQLAlchemy. With --mixed the
performance has three price categories, one with its own limit, and a quarter of the buyers
take two of them. Demand is set above supply
so both sell out: `oversold` (of the performance or of any category) must be 0.

    .venv/bin/python bench/checkout_rush.py [--threads 16] [--orders 4000] [--mixed]

Uses MIERLOOS_BENCH_DATABASE_URL (an admin URL) or the server on 127.0.0.1:5432, in a
database of its own that it drops afterwards. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import psycopg
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_support import ExtraCategory, admin_url, migrated_database, performance_on_sale

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.ids import new_order_number, new_secret
from mierloos_core.services.checkout import CheckoutRequest, checkout


@attrs.frozen
class Category:
    id: uuid.UUID
    name: str
    price_cents: int
    limit: int | None


def plans(count: int, categories: list[Category], mixed: bool) -> list[list[tuple[int, int]]]:
    """Each buyer's lines as (category index, quantity): 1-4 regular seats, or with --mixed
    a category by weight and, for one buyer in four, a second line of another category."""
    rng = random.Random(7)
    if not mixed:
        return [[(0, rng.randint(1, 4))] for _ in range(count)]
    weights = [60, 25, 15][: len(categories)]
    result = []
    for _ in range(count):
        first = rng.choices(range(len(categories)), weights)[0]
        lines = [(first, rng.randint(1, 3))]
        if rng.random() < 0.25:
            lines.append(((first + 1) % len(categories), rng.randint(1, 2)))
        result.append(lines)
    return result


def hot_performance(url: str, capacity: int, mixed: bool) -> tuple[uuid.UUID, list[Category]]:
    """A published performance; with `mixed` also a limited CJP and an unlimited 65+."""
    extras = [ExtraCategory(name="CJP", price_cents=1200, limit=capacity // 6)] if mixed else []
    if mixed:
        extras.append(ExtraCategory(name="65+", price_cents=1700))
    sale = performance_on_sale(url, seats=capacity, title="Rush", price_cents=2000, extras=extras)
    return sale.performance.id, [
        Category(c.id, c.name_nl, c.price.cents, c.limit) for c in sale.categories
    ]


def run_threads(threads: int, buyers: int, buy) -> tuple[float, float, int, int]:
    """Run every purchase over `threads` threads; (seconds, CPU seconds of this process,
    placed, refused)."""
    position = iter(range(buyers))
    lock = threading.Lock()
    placed = refused = 0
    failures: list[BaseException] = []

    def worker() -> None:
        nonlocal placed, refused
        while True:
            with lock:
                i = next(position, None)
            if i is None or failures:
                return
            try:
                ok = buy(i)
            except Exception as error:  # a broken statement must stop the run, not a thread
                failures.append(error)
                return
            with lock:
                if ok:
                    placed += 1
                else:
                    refused += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    cpu = time.process_time()
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        raise SystemExit(f"a purchase failed: {failures[0]!r}")
    return time.perf_counter() - start, time.process_time() - cpu, placed, refused


def core_run(url: str, threads: int, capacity: int, args) -> dict[str, float]:
    performance_id, categories = hot_performance(url, capacity, args.mixed)
    engine = make_engine(url, pool_size=threads, max_overflow=0)
    wanted = plans(args.orders, categories, args.mixed)
    clock = SystemClock()

    def buy(i: int) -> bool:
        lines = [
            CartLine(
                performance_id=performance_id,
                quantity=quantity,
                category_id=categories[index].id if args.mixed else None,
            )
            for index, quantity in wanted[i]
        ]
        request = CheckoutRequest(email=f"k{i}@example.nl", name=f"Koper {i}", lines=lines)
        try:
            checkout(SqlUnitOfWork(engine, clock), clock, request)
            return True
        except (errors.NotEnoughSeats, errors.PriceCategorySoldOut):
            return False

    seconds, cpu, placed, refused = run_threads(threads, len(wanted), buy)
    result = audit(url, performance_id, capacity, categories)
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "placed": placed, "refused": refused, **result}


# The statements the core's checkout sends, in its order, written straight for psycopg.
RAW_SQL = {
    "performance": "SELECT performances.id, performances.show_id, performances.starts_at,"
    " performances.price_cents, performances.capacity, performances.available_seats,"
    " performances.status, performances.hall, shows.id AS shows_id, shows.title AS shows_title,"
    " shows.slug AS shows_slug, shows.description AS shows_description, shows.genre AS"
    " shows_genre, shows.duration_minutes AS shows_duration_minutes, shows.age_advice AS"
    " shows_age_advice, shows.image_id AS shows_image_id, shows.created_at AS shows_created_at"
    " FROM performances JOIN shows ON shows.id = performances.show_id"
    " WHERE performances.id = ANY(%s)",
    "categories": "SELECT id, performance_id, name_nl, name_en, price_cents, seat_limit,"
    " available, visibility, position FROM price_categories WHERE performance_id = ANY(%s)",
    # Every column the order model writes, as the core's insert does.
    "order": "INSERT INTO orders (id, number, secret, email, name, status, subtotal_cents,"
    " discount_cents, coupon_code, user_id, newsletter, client_address, language, created_at,"
    " expires_at, paid_at, closed_at, needs_attention, tickets_pdf_key, tickets_pdf_pages,"
    " tickets_pdf_size, tickets_pdf_created_at, sales_channel, payment_method, sold_by,"
    " free_reason, pay_before, phone, request_key) VALUES (%s, %s, %s, %s, %s, 'pending', %s, 0,"
    " NULL, NULL, false, NULL, 'nl', %s, %s, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'web',"
    " 'mollie', NULL, NULL, NULL, NULL, NULL)",
    # All the order's tickets in one statement, as the core writes them.
    "ticket": "INSERT INTO tickets (id, order_id, position, performance_id, category_id,"
    " category_name, price_cents, status, secret) ",
    "ticket_row": "SELECT %s::UUID, %s::UUID, %s::INTEGER, %s::UUID, %s::UUID, %s::VARCHAR,"
    " %s::INTEGER, %s::VARCHAR, %s::VARCHAR",
    "job": "WITH inserted_job AS (INSERT INTO jobs (id, type, queue_name, status, priority, data,"
    " execution_count, next_retry_at, created_at, updated_at, dedupe_key) VALUES (%s,"
    " 'payment_creation', 'default', 'pending', 0, %s, 0, %s, %s, %s, %s)"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING jobs.id)"
    " SELECT inserted_job.id, pg_notify('mierloos_jobs', %s) FROM inserted_job",
    "seats": "UPDATE performances SET available_seats = available_seats - %s WHERE id = %s"
    " AND status = 'published' AND available_seats >= %s",
    "category": "UPDATE price_categories SET available = available - %s WHERE id = %s"
    " AND (available IS NULL OR available >= %s)",
    "unpaid": "SELECT (SELECT count(*) FROM orders JOIN tickets ON tickets.order_id = orders.id"
    " WHERE orders.email = %s AND orders.status = 'pending' AND tickets.performance_id = %s), 0",
}


def raw_run(url: str, threads: int, capacity: int, args) -> dict[str, float]:
    performance_id, categories = hot_performance(url, capacity, args.mixed)
    wanted = plans(args.orders, categories, args.mixed)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    pool = ConnectionPool(conninfo, min_size=threads, max_size=threads, open=True)

    def buy(i: int) -> bool:
        with pool.connection() as conn, conn.cursor() as cur:
            placed = raw_checkout(cur, i, performance_id, categories, wanted[i])
            if placed:
                conn.commit()
            else:
                conn.rollback()
            return placed

    seconds, cpu, placed, refused = run_threads(threads, len(wanted), buy)
    pool.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "placed": placed,
        "refused": refused,
        **audit(url, performance_id, capacity, categories),
    }


def raw_checkout(cur, i: int, performance_id, categories, lines) -> bool:
    now = datetime.now(UTC)
    order_id = uuid.uuid4()
    quantity = sum(q for _, q in lines)
    cur.execute(RAW_SQL["performance"], ([performance_id],))
    row = cur.fetchone()
    cur.execute(RAW_SQL["categories"], ([performance_id],))
    available = {r[0]: r[6] for r in cur.fetchall()}
    wanted = {categories[index].id: q for index, q in lines}
    if row[5] < quantity or any(
        available[c] is not None and available[c] < q for c, q in wanted.items()
    ):
        return False
    subtotal = sum(categories[index].price_cents * q for index, q in lines)
    cur.execute(
        RAW_SQL["order"],
        (order_id, new_order_number(), new_secret(), f"k{i}@example.nl", f"Koper {i}",
         subtotal, now, now + timedelta(minutes=15)),
    )  # fmt: skip
    seats = [categories[index] for index, q in lines for _ in range(q)]
    cur.execute(
        RAW_SQL["ticket"] + " UNION ALL ".join([RAW_SQL["ticket_row"]] * len(seats)),
        [
            value
            for n, c in enumerate(seats, start=1)
            for value in (
                uuid.uuid4(), order_id, n, performance_id, c.id, c.name, c.price_cents,
                "reserved", new_secret(),
            )
        ],
    )  # fmt: skip
    cur.execute(
        RAW_SQL["job"],
        (uuid.uuid4(), json.dumps({"order_id": str(order_id)}), now + timedelta(seconds=30),
         now, now, f"payment_creation:{order_id}",
         f"default|{(now + timedelta(seconds=30)).timestamp():.6f}"),
    )  # fmt: skip
    cur.execute(RAW_SQL["seats"], (quantity, performance_id, quantity))
    if cur.rowcount != 1:
        return False
    for category_id in sorted(wanted):
        cur.execute(RAW_SQL["category"], (wanted[category_id], category_id, wanted[category_id]))
        if cur.rowcount != 1:
            return False
    cur.execute(RAW_SQL["unpaid"], (f"k{i}@example.nl", performance_id))
    cur.fetchone()
    return True


def audit(url: str, performance_id: uuid.UUID, capacity: int, categories) -> dict[str, float]:
    """Seats sold past the performance's capacity or a category's limit, or counted wrong."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        available = conn.execute(
            "SELECT available_seats FROM performances WHERE id = %s", (performance_id,)
        ).fetchone()[0]
        tickets = conn.execute(
            "SELECT count(*) FROM tickets WHERE performance_id = %s", (performance_id,)
        ).fetchone()[0]
        oversold = max(0, tickets - capacity) + abs(capacity - available - tickets)
        for category in categories:
            if category.limit is None:
                continue
            left, sold = conn.execute(
                "SELECT available, (SELECT count(*) FROM tickets WHERE category_id = %s)"
                " FROM price_categories WHERE id = %s",
                (category.id, category.id),
            ).fetchone()
            oversold += max(0, sold - category.limit) + abs(category.limit - left - sold)
    return {"oversold": oversold, "tickets": tickets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument(
        "--mixed", action="store_true", help="three price categories, one with its own limit"
    )
    args = parser.parse_args()
    # Demand above supply, so both sell out: 2.5 seats a buyer on average (more with --mixed).
    capacity = int(args.orders * 2.5 * 0.8)
    with migrated_database(admin_url()) as url:
        # Raw, core, raw, core, keeping each one's best: taking turns, a change in the load
        # of the machine (other work on it) weighs on both alike.
        raws, cores = [], []
        for _ in range(2):
            raws.append(raw_run(url, args.threads, capacity, args))
            cores.append(core_run(url, args.threads, capacity, args))
        raw = min(raws, key=lambda r: r["seconds"])
        core = min(cores, key=lambda r: r["seconds"])
    core_rate = args.orders / core["seconds"]
    raw_rate = args.orders / raw["seconds"]
    core_placed_rate = core["placed"] / core["seconds"]
    raw_placed_rate = raw["placed"] / raw["seconds"]
    print(f"buyers: {args.orders} over {args.threads} threads, capacity {capacity} seats")
    print(
        f"core checkout: {core_rate:8.1f} attempts/s, {core_placed_rate:8.1f} orders placed/s"
        f"  (placed {core['placed']}, refused {core['refused']}, tickets {core['tickets']})"
    )
    print(
        f"raw psycopg:   {raw_rate:8.1f} attempts/s, {raw_placed_rate:8.1f} orders placed/s"
        f"  (placed {raw['placed']}, refused {raw['refused']}, tickets {raw['tickets']})"
    )
    print(f"core against raw psycopg: ratio {core_rate / raw_rate:.2f}")
    print(
        json.dumps(
            {
                "checkouts_per_s": round(core_rate, 1),
                "raw_sql_per_s": round(raw_rate, 1),
                "placed_per_s": round(core_placed_rate, 1),
                "raw_placed_per_s": round(raw_placed_rate, 1),
                "ratio": round(core_rate / raw_rate, 3),
                # Python's own cost, which the machine's load does not change: CPU time of the
                # bench process per checkout attempt (best run of each).
                "core_cpu_ms": round(min(r["cpu"] for r in cores) / args.orders * 1000, 2),
                "raw_cpu_ms": round(min(r["cpu"] for r in raws) / args.orders * 1000, 2),
                "oversold": int(core["oversold"] + raw["oversold"]),
                "threads": args.threads,
                "orders": args.orders,
                "mixed": args.mixed,
            }
        )
    )


if __name__ == "__main__":
    main()
