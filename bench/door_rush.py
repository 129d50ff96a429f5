"""The door rush: four doors scan 2,000 tickets at once through the check-in API.

Web processes (`--servers`, default 2: one per core; uvicorn, the site as deployed, on
PostgreSQL) serve the API, door n talking to process n modulo their number; four
clients, one per door, each with its own connection and device token, scan their share of
the tickets as fast as the answers come. A tenth of the tickets is scanned a second time, at
another door, at about the same moment as the first scan: those are the races. Every ticket
must be admitted exactly once (`double_admits` 0, from the answers and from the database).

    .venv/bin/python bench/door_rush.py [--tickets 2000] [--doors 4] [--doubles 0.1] [--servers 2]

Uses MIERLOOS_BENCH_DATABASE_URL (an admin URL) or the server on 127.0.0.1:5432, in a
database of its own that it drops afterwards. Last line: one JSON object with scans,
admitted, double_admits, p50_ms and p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import secrets
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_support import fresh_database

TICKETS_PER_ORDER = 4


def _environ(database_url: str, var_dir: str, port: int) -> dict[str, str]:
    environ = dict(os.environ)
    environ.update(
        DATABASE_URL=database_url,
        MIERLOOS_VAR_DIR=var_dir,
        BASE_URL=f"http://127.0.0.1:{port}",
        MIERLOOS_EMBEDDED_WORKER="0",
        MIERLOOS_FAKE_PAYMENTS="1",
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
    )
    return environ


def prepare(environ: dict[str, str], tickets: int, doors: int) -> tuple[str, list[str], list[str]]:
    """Migrate, add one performance with `tickets` paid tickets; its id, the tickets' secrets
    and one device token per door."""
    from mierloos_adapters.migrations import upgrade
    from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
    from mierloos_core.model.money import Money
    from mierloos_core.model.orders import Order, Ticket
    from mierloos_core.services.door_devices import DeviceTokens
    from mierloos_core.services.price_categories import add_categories
    from mierloos_entrypoints.config import load_settings
    from mierloos_entrypoints.container import build_container

    container = build_container(load_settings(environ))
    upgrade(container.engine())
    now = container.clock().now()
    show = Show(title="Deurproef", slug="deurproef")
    performance = Performance(
        show_id=show.id,
        starts_at=now + timedelta(hours=1),
        price=Money(2000),
        capacity=tickets,
        available_seats=0,
        status=PerformanceStatus.PUBLISHED,
    )
    ticket_secrets: list[str] = []
    with container.uow() as uow:
        uow.shows.add(show)
        uow.performances.add(performance)
        [regular] = add_categories(uow, performance)
        for first in range(0, tickets, TICKETS_PER_ORDER):
            count = min(TICKETS_PER_ORDER, tickets - first)
            order = Order(
                email=f"bezoeker{first}@example.nl",
                name=f"Bezoeker {first}",
                subtotal=Money(2000 * count),
                discount=Money(0),
                created_at=now,
                expires_at=now + timedelta(minutes=15),
            )
            order.tickets = [
                Ticket(
                    order_id=order.id,
                    performance_id=performance.id,
                    category_id=regular.id,
                    category_name="Regulier",
                    price=Money(2000),
                )
                for _ in range(count)
            ]
            order.mark_paid(now)
            uow.orders.add(order)
            ticket_secrets.extend(ticket.secret for ticket in order.tickets)
        uow.commit()
    devices = DeviceTokens(container.uow, container.clock())
    tokens = [devices.create(f"Deur {n + 1}", performance.id, "bench").token for n in range(doors)]
    container.engine().dispose()
    return str(performance.id), ticket_secrets, tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(environ: dict[str, str], port: int) -> None:
    import uvicorn

    from mierloos_entrypoints.config import load_settings
    from mierloos_entrypoints.container import build_container
    from mierloos_entrypoints.web.app import create_app

    app = create_app(build_container(load_settings(environ)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def plan(secrets: list[str], doors: int, doubles: float, seed: int = 7) -> list[list[str]]:
    """Each door's scans: its share of the tickets, plus the doubles of its neighbour's share,
    put at the same place in its queue, so the two scans of a double meet."""
    rng = random.Random(seed)
    shares = [secrets[d::doors] for d in range(doors)]
    queues = [list(share) for share in shares]
    twice = set(rng.sample(secrets, int(len(secrets) * doubles)))
    for door, share in enumerate(shares):
        other = queues[(door + 1) % doors]
        for position, secret in enumerate(share):
            if secret in twice:
                other.insert(min(position, len(other)), secret)
    return queues


async def door(
    url: str, token: str, name: str, queue: list[str], answers: list[tuple[str, str, float]]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
        await client.get(url.replace("/scans", "/counts"))  # the connection, warm
        for secret in queue:
            started = time.perf_counter()
            response = await client.post(url, json={"code": secret, "door": name})
            elapsed = time.perf_counter() - started
            result = response.json()["result"] if response.status_code == 200 else "error"
            answers.append((secret, result, elapsed))


async def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as probe:
        while True:
            try:
                await probe.get(base + "/api/openapi.json")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def rush(
    bases: list[str], performance_id: str, tokens: list[str], queues: list[list[str]]
) -> Any:
    """Door n talks to server n modulo their number, like doors behind a load balancer."""
    for base in bases:
        await _wait_until_up(base)
    path = f"/api/checkin/performances/{performance_id}/scans"
    answers: list[tuple[str, str, float]] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(
            door(bases[n % len(bases)] + path, token, f"Deur {n + 1}", queue, answers)
            for n, (token, queue) in enumerate(zip(tokens, queues, strict=True))
        )
    )
    return answers, time.perf_counter() - started


def admitted_in_database(database_url: str, performance_id: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM tickets WHERE performance_id = %s AND admitted_at IS NOT NULL",
            (uuid.UUID(performance_id),),
        ).fetchone()
    return int(row[0]) if row else 0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--doors", type=int, default=4)
    parser.add_argument("--doubles", type=float, default=0.1)
    parser.add_argument(
        "--servers", type=int, default=2, help="web processes (one uvicorn worker each)"
    )
    args = parser.parse_args()
    admin_url = os.environ.get(
        "MIERLOOS_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    with fresh_database(admin_url) as database_url, tempfile.TemporaryDirectory() as var_dir:
        ports = [_free_port() for _ in range(args.servers)]
        environ = _environ(database_url, var_dir, ports[0])
        performance_id, ticket_secrets, tokens = prepare(environ, args.tickets, args.doors)
        queues = plan(ticket_secrets, args.doors, args.doubles)
        spawn = multiprocessing.get_context("spawn")
        servers = [spawn.Process(target=serve, args=(environ, port), daemon=True) for port in ports]
        for server in servers:
            server.start()
        try:
            answers, seconds = asyncio.run(
                rush([f"http://127.0.0.1:{p}" for p in ports], performance_id, tokens, queues)
            )
        finally:
            for server in servers:
                server.terminate()
                server.join(10)
        in_database = admitted_in_database(database_url, performance_id)
    admits = Counter(secret for secret, result, _ in answers if result == "admitted")
    results = Counter(result for _, result, _ in answers)
    latencies = [elapsed for _, _, elapsed in answers]
    figures = {
        "scans": len(answers),
        "admitted": sum(admits.values()),
        "double_admits": sum(n - 1 for n in admits.values() if n > 1),
        "never_admitted": len(set(ticket_secrets) - set(admits)),
        "admitted_in_database": in_database,
        "already_admitted": results["already_admitted"],
        "errors": results["error"],
        "doors": args.doors,
        "servers": args.servers,
        "seconds": round(seconds, 2),
        "scans_per_second": round(len(answers) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }
    print(
        f"{figures['scans']} scans at {args.doors} doors in {figures['seconds']} s: "
        f"{figures['admitted']} admitted, {figures['already_admitted']} already admitted, "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
