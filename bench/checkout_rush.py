"""Checkout under a rush: the core's checkout service against the same transaction in raw SQL.

N threads, each with its own connection from a pool, buy 1-4 seats of ONE hot performance on
PostgreSQL. The baseline runs the same statements (read performance and show, insert order,
tickets and job, conditional seat update, commit) straight through psycopg, no SQLAlchemy.
Demand is set above supply so both sell out: `oversold` must be 0.

    .venv/bin/python bench/checkout_rush.py [--threads 16] [--orders 4000]

Uses MIERLOOS_BENCH_DATABASE_URL (an admin URL) or the server on 127.0.0.1:5432, in a
database of its own that it drops afterwards. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_support import fresh_database

from mierloos_adapters.memory import SystemClock
from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.ids import new_order_number, new_secret
from mierloos_core.model.money import Money
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.price_categories import add_categories


def quantities(count: int) -> list[int]:
    rng = random.Random(7)
    return [rng.randint(1, 4) for _ in range(count)]


def hot_performance(engine, capacity: int) -> uuid.UUID:
    clock = SystemClock()
    show = Show(title="Rush", slug=f"rush-{uuid.uuid4().hex[:8]}")
    performance = Performance(
        show_id=show.id,
        starts_at=clock.now() + timedelta(days=30),
        price=Money(2000),
        capacity=capacity,
        available_seats=capacity,
        status=PerformanceStatus.PUBLISHED,
    )
    with SqlUnitOfWork(engine, clock) as uow:
        uow.shows.add(show)
        uow.performances.add(performance)
        add_categories(uow, performance)
        uow.commit()
    return performance.id


def run_threads(threads: int, wanted: list[int], buy) -> tuple[float, int, int]:
    """Run every purchase over `threads` threads; (seconds, placed, refused)."""
    position = iter(range(len(wanted)))
    lock = threading.Lock()
    placed = refused = 0

    def worker() -> None:
        nonlocal placed, refused
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                return
            ok = buy(i, wanted[i])
            with lock:
                if ok:
                    placed += 1
                else:
                    refused += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start, placed, refused


def core_run(url: str, threads: int, wanted: list[int], capacity: int) -> dict[str, float]:
    engine = make_engine(url, pool_size=threads, max_overflow=0)
    performance_id = hot_performance(engine, capacity)
    clock = SystemClock()

    def buy(i: int, quantity: int) -> bool:
        request = CheckoutRequest(
            email=f"k{i}@example.nl",
            name=f"Koper {i}",
            lines=[CartLine(performance_id=performance_id, quantity=quantity)],
        )
        try:
            checkout(SqlUnitOfWork(engine, clock), clock, request)
            return True
        except errors.NotEnoughSeats:
            return False

    seconds, placed, refused = run_threads(threads, wanted, buy)
    result = audit(url, performance_id, capacity)
    engine.dispose()
    return {"seconds": seconds, "placed": placed, "refused": refused, **result}


RAW_SQL = {
    "performance": "SELECT id, show_id, starts_at, price_cents, capacity, available_seats, status,"
    " hall FROM performances WHERE id = ANY(%s)",
    "show": "SELECT id, title, slug, description, image_id, created_at FROM shows WHERE id = %s",
    "order": "INSERT INTO orders (id, number, secret, email, name, status, subtotal_cents,"
    " discount_cents, coupon_code, user_id, newsletter, created_at, expires_at, paid_at,"
    " closed_at, needs_attention) VALUES (%s, %s, %s, %s, %s, 'pending', %s, 0, NULL, NULL,"
    " false, %s, %s, NULL, NULL, NULL)",
    "ticket": "INSERT INTO tickets (id, order_id, position, performance_id, price_cents, status,"
    " secret) VALUES (%s, %s, %s, %s, %s, 'reserved', %s)",
    "job": "INSERT INTO jobs (id, type, queue_name, status, priority, data, execution_count,"
    " next_retry_at, created_at, updated_at, dedupe_key) VALUES (%s, 'payment_creation',"
    " 'default', 'pending', 0, %s, 0, %s, %s, %s, %s)",
    "seats": "UPDATE performances SET available_seats = available_seats - %s WHERE id = %s"
    " AND status = 'published' AND available_seats >= %s",
}


def raw_run(url: str, threads: int, wanted: list[int], capacity: int) -> dict[str, float]:
    engine = make_engine(url)
    performance_id = hot_performance(engine, capacity)
    engine.dispose()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    pool = ConnectionPool(conninfo, min_size=threads, max_size=threads, open=True)

    def buy(i: int, quantity: int) -> bool:
        now = datetime.now(UTC)
        order_id = uuid.uuid4()
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute(RAW_SQL["performance"], ([performance_id],))
            row = cur.fetchone()
            if row[5] < quantity:
                conn.rollback()
                return False
            cur.execute(RAW_SQL["show"], (row[1],))
            cur.fetchone()
            cur.execute(
                RAW_SQL["order"],
                (
                    order_id,
                    new_order_number(),
                    new_secret(),
                    f"k{i}@example.nl",
                    f"Koper {i}",
                    row[3] * quantity,
                    now,
                    now + timedelta(minutes=15),
                ),
            )
            cur.executemany(
                RAW_SQL["ticket"],
                [
                    (uuid.uuid4(), order_id, n, performance_id, row[3], new_secret())
                    for n in range(1, quantity + 1)
                ],
            )
            cur.execute(
                RAW_SQL["job"],
                (
                    uuid.uuid4(),
                    json.dumps({"order_id": str(order_id)}),
                    now + timedelta(seconds=30),
                    now,
                    now,
                    f"payment_creation:{order_id}",
                ),
            )
            cur.execute(RAW_SQL["seats"], (quantity, performance_id, quantity))
            if cur.rowcount != 1:
                conn.rollback()
                return False
            conn.commit()
            return True

    seconds, placed, refused = run_threads(threads, wanted, buy)
    pool.close()
    return {
        "seconds": seconds,
        "placed": placed,
        "refused": refused,
        **audit(url, performance_id, capacity),
    }


def audit(url: str, performance_id: uuid.UUID, capacity: int) -> dict[str, float]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        available = conn.execute(
            "SELECT available_seats FROM performances WHERE id = %s", (performance_id,)
        ).fetchone()[0]
        tickets = conn.execute(
            "SELECT count(*) FROM tickets WHERE performance_id = %s", (performance_id,)
        ).fetchone()[0]
    return {
        "oversold": max(0, tickets - capacity) + abs(capacity - available - tickets),
        "tickets": tickets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--orders", type=int, default=4000)
    args = parser.parse_args()
    admin = os.environ.get(
        "MIERLOOS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    wanted = quantities(args.orders)
    capacity = int(sum(wanted) * 0.8)
    with fresh_database(admin) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        # Warm both paths once, then measure raw first and core second, twice, keep the best.
        raw = min(
            (raw_run(url, args.threads, wanted, capacity) for _ in range(2)),
            key=lambda r: r["seconds"],
        )
        core = min(
            (core_run(url, args.threads, wanted, capacity) for _ in range(2)),
            key=lambda r: r["seconds"],
        )
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
                "oversold": int(core["oversold"] + raw["oversold"]),
                "threads": args.threads,
                "orders": args.orders,
            }
        )
    )


if __name__ == "__main__":
    main()
