"""A rush on numbered seats: best-available buyers against the counted (free seating) checkout.

300 buyers at once (threads sharing a pool of connections, as web workers would), each buying
1-6 seats again and again until refused, first on a 1,000-seat hall with reserved seating (the
best available in one row, taken with one conditional update of the seat rows), then on a
performance of 1,000 counted seats (free seating), through the same core checkout on the same
database. Afterwards it audits both: `double_sold` counts tickets without a seat of their own,
seats linked to another order's ticket, and counters that differ from the seat states (or
from the tickets, for counted seats): it must be 0. `stranded_single_seats` are free seats left
with no free neighbour in their row when the buyers gave up.

    .venv/bin/python bench/seat_rush.py [--buyers 300] [--connections 16] [--rounds 1]

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
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy.exc import TimeoutError as PoolTimeout

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_support import fresh_database

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.migrations import upgrade
from mierloos_adapters.sqlalchemy import SqlUnitOfWork, make_engine
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.money import Money
from mierloos_core.model.seating import SectionSpec
from mierloos_core.services.checkout import CheckoutPolicy, CheckoutRequest, checkout
from mierloos_core.services.price_categories import add_categories
from mierloos_core.services.seating import Seating

SEATS = 1000
HALL = [SectionSpec(name="Zaal", rows=25, seats_per_row=40, aisles_after=(10, 30))]
REFUSED = (errors.NoAdjacentSeats, errors.NotEnoughSeats, errors.SeatsUnavailable)
POLICY = CheckoutPolicy(max_unpaid_per_performance=0)


def performance(engine, clock) -> Performance:
    show = Show(title="Stoelenrush", slug=f"rush-{uuid.uuid4().hex[:8]}")
    made = Performance(
        show_id=show.id,
        starts_at=clock.now() + timedelta(days=30),
        price=Money(2500),
        capacity=SEATS,
        available_seats=SEATS,
        status=PerformanceStatus.PUBLISHED,
    )
    with SqlUnitOfWork(engine, clock) as uow:
        uow.shows.add(show)
        uow.performances.add(made)
        add_categories(uow, made)
        uow.commit()
    return made


def reserved(engine, clock) -> uuid.UUID:
    """A performance on a fresh hall's 1,000-seat plan (two aisles), one category."""
    made = performance(engine, clock)
    seating = Seating(lambda: SqlUnitOfWork(engine, clock), clock)
    hall = seating.add_hall(f"Zaal {uuid.uuid4().hex[:8]}")
    plan = seating.generate(hall.id, "Grote zaal", HALL)
    with SqlUnitOfWork(engine, clock) as uow:
        regular = uow.price_categories.for_performance(made.id)[0]
    seating.put_on_sale(made.id, plan.id, {"A": regular.id})
    return made.id


def rush(engine, clock, performance_id: uuid.UUID, buyers: int) -> dict[str, float]:
    """Every buyer buys 1-6 seats again and again until refused; latencies of placed ones."""
    latencies: list[float] = []
    unexpected: list[BaseException] = []
    busy: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(buyers)

    def buyer(i: int) -> None:
        rng = random.Random(i)
        barrier.wait()
        for attempt in range(SEATS):
            line = CartLine(performance_id=performance_id, quantity=rng.randint(1, 6))
            request = CheckoutRequest(email=f"k{i}.{attempt}@example.nl", name="K", lines=[line])
            started = time.perf_counter()
            try:
                checkout(SqlUnitOfWork(engine, clock), clock, request, POLICY)
            except REFUSED:
                return
            except (errors.Busy, PoolTimeout):  # a 503 "try again" on the site: so here too
                with lock:
                    busy.append(1)
                continue
            except Exception as error:  # counted and shown; the audit decides
                with lock:
                    unexpected.append(error)
                return
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(buyers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    return {
        "seconds": seconds,
        "placed": len(latencies),
        "placed_per_s": len(latencies) / seconds,
        "p99_ms": p99 * 1000,
        "busy": len(busy),
        "unexpected": len(unexpected),
        "first_unexpected": repr(unexpected[0])[:200] if unexpected else "",
    }


AUDIT = {
    "tickets": "SELECT count(*) FROM tickets WHERE performance_id = %s"
    " AND status IN ('reserved', 'valid')",
    "available": "SELECT available_seats FROM performances WHERE id = %s",
    "free": "SELECT count(*) FROM performance_seats WHERE performance_id = %s AND state = 'free'",
    "taken": "SELECT count(*) FROM performance_seats WHERE performance_id = %s"
    " AND state IN ('held', 'sold')",
    "foreign": "SELECT count(*) FROM performance_seats s JOIN tickets t ON t.id = s.ticket_id"
    " WHERE s.performance_id = %s AND (t.order_id <> s.order_id OR t.performance_id <> %s)",
    "stranded": "SELECT count(*) FROM performance_seats s JOIN seats p ON p.id = s.seat_id"
    " WHERE s.performance_id = %s AND s.state = 'free' AND NOT EXISTS ("
    " SELECT 1 FROM performance_seats s2 JOIN seats q ON q.id = s2.seat_id"
    " WHERE s2.performance_id = s.performance_id AND s2.state = 'free'"
    " AND q.plan_id = p.plan_id AND q.section = p.section AND q.row_index = p.row_index"
    " AND abs(q.column_index - p.column_index) = 1)",
}


def audit(url: str, performance_id: uuid.UUID, seated: bool) -> dict[str, int]:
    def one(conn, name: str, *extra) -> int:
        return int(conn.execute(AUDIT[name], (performance_id, *extra)).fetchone()[0])

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        tickets, available = one(conn, "tickets"), one(conn, "available")
        if not seated:
            wrong = max(0, tickets - SEATS) + abs(SEATS - available - tickets)
            return {"double_sold": wrong, "free_left": available, "stranded_single_seats": 0}
        taken, free = one(conn, "taken"), one(conn, "free")
        foreign = one(conn, "foreign", performance_id)
        wrong = abs(tickets - taken) + foreign + abs(available - free)
        stranded = one(conn, "stranded")
    return {"double_sold": wrong, "free_left": free, "stranded_single_seats": stranded}


def run(url: str, args, seated: bool) -> dict[str, float]:
    clock = SystemClock()
    engine = make_engine(url, pool_size=args.connections, max_overflow=0)
    try:
        performance_id = reserved(engine, clock) if seated else performance(engine, clock).id
        figures = rush(engine, clock, performance_id, args.buyers)
    finally:
        engine.dispose()
    return {**figures, **audit(url, performance_id, seated)}


def load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="take turns, keep each one's best")
    args = parser.parse_args()
    admin = os.environ.get(
        "MIERLOOS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    load_before = load()
    with fresh_database(admin) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        seats, counts = [], []
        for _ in range(args.rounds):  # taking turns: a change in the machine's load hits both
            seats.append(run(url, args, seated=True))
            counts.append(run(url, args, seated=False))
    best_seats = max(seats, key=lambda r: r["placed_per_s"])
    best_counts = max(counts, key=lambda r: r["placed_per_s"])
    ratio = best_seats["placed_per_s"] / best_counts["placed_per_s"]
    print(f"{args.buyers} buyers of 1-6 seats, {args.connections} connections, {SEATS} seats")
    print(f"load average before: {load_before}; after: {load()}")
    for name, figures in (("reserved (best available)", best_seats), ("counted", best_counts)):
        print(
            f"{name:26s} {figures['placed_per_s']:7.1f} placed/s  p99 {figures['p99_ms']:7.1f} ms"
            f"  placed {figures['placed']}  free left {figures['free_left']}"
            f"  stranded {figures['stranded_single_seats']}  double sold {figures['double_sold']}"
            f"  busy {figures['busy']}"
            f"  unexpected {figures['unexpected']} {figures['first_unexpected']}"
        )
    print(f"reserved against counted: ratio {ratio:.2f} (target >= 0.5)")
    summary = {
        "double_sold": int(best_seats["double_sold"]),
        "stranded_single_seats": int(best_seats["stranded_single_seats"]),
        "placed_per_s": round(best_seats["placed_per_s"], 1),
        "p99_ms": round(best_seats["p99_ms"], 1),
        "counted": {
            "double_sold": int(best_counts["double_sold"]),
            "placed_per_s": round(best_counts["placed_per_s"], 1),
            "p99_ms": round(best_counts["p99_ms"], 1),
        },
        "ratio": round(ratio, 3),
        "unexpected": int(best_seats["unexpected"] + best_counts["unexpected"]),
        "buyers": args.buyers,
        "load_average": load(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
