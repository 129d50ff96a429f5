"""The site under load over HTTP: the show page and checkout, against a bare Starlette endpoint.

Three uvicorn servers on 127.0.0.1, each in its own process with one worker:

- the site in its embedded setup (SQLite under a temporary ./var, the fake payment provider,
  demo data, plus one large performance for the checkouts) -- or DATABASE_URL if set;
- a bare Starlette app with one plain-text endpoint: the baseline, measured in the same run,
  which shows what the HTTP stack and this client manage on this machine.

Each scenario runs in turn (never two at once): `--clients` concurrent httpx clients, each
doing `--requests` requests in a bounded loop. Checkout is `POST /api/checkout` for one ticket
(a pending order, its seats held, a payment opened at the fake provider).

    .venv/bin/python bench/web_load.py [--clients 8] [--requests 150] [--checkouts 60]

Last line: one JSON object with show_page_rps, checkout_rps, baseline_rps and p99_ms (per
scenario, in milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SHOW_SLUG = "gebroeders-mierlo"
BENCH_SLUG = "load-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _quiet_uvicorn(app: Any, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_site(var_dir: str, port: int, ready: Any) -> None:
    """The site's process: configure, migrate, load data, serve."""
    from mierloos_adapters.migrations import upgrade
    from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
    from mierloos_core.model.money import Money
    from mierloos_core.services.price_categories import add_categories
    from mierloos_entrypoints.config import load_settings
    from mierloos_entrypoints.container import build_container
    from mierloos_entrypoints.demo import load_demo_data
    from mierloos_entrypoints.web.app import create_app

    environ = dict(os.environ)
    environ.update(
        MIERLOOS_VAR_DIR=var_dir,
        BASE_URL=f"http://127.0.0.1:{port}",
        MIERLOOS_EMBEDDED_WORKER="0",
        # The checkouts pay on the fake provider's page, also when DATABASE_URL is Postgres.
        MIERLOOS_FAKE_PAYMENTS="1",
        # Every request comes from 127.0.0.1: the per-client order limit would stop the run.
        CHECKOUTS_PER_CLIENT="0",
    )
    container = build_container(load_settings(environ))
    upgrade(container.engine())
    now = container.clock().now()
    load_demo_data(container.uow, now)
    with container.uow() as uow:
        if uow.shows.get_by_slug(BENCH_SLUG) is None:
            show = Show(title="Belastingproef", slug=BENCH_SLUG)
            uow.shows.add(show)
            performance = Performance(
                show_id=show.id,
                starts_at=now + timedelta(days=60),
                price=Money(1500),
                capacity=1_000_000,
                available_seats=1_000_000,
                status=PerformanceStatus.PUBLISHED,
            )
            uow.performances.add(performance)
            add_categories(uow, performance)
            uow.commit()
    app = create_app(container)
    ready.set()
    _quiet_uvicorn(app, port)


def serve_baseline(port: int, ready: Any) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    ready.set()
    _quiet_uvicorn(Starlette(routes=[Route("/", hello)]), port)


@dataclass
class Result:
    name: str
    requests: int
    failures: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000


async def _wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


async def load(
    name: str,
    clients: int,
    per_client: int,
    send: Any,
    expected: int,
) -> Result:
    latencies: list[float] = []
    failures = 0

    async def one_client() -> None:
        nonlocal failures
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            await send(client)  # warm-up: connection, session cookie
            for _ in range(per_client):
                started = time.perf_counter()
                response = await send(client)
                latencies.append(time.perf_counter() - started)
                if response.status_code != expected:
                    failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    seconds = time.perf_counter() - started
    return Result(name, clients * per_client, failures, seconds, latencies)


async def run(site_url: str, baseline_url: str, args: argparse.Namespace) -> list[Result]:
    await _wait_until_up(baseline_url + "/")
    await _wait_until_up(site_url + "/")
    async with httpx.AsyncClient() as client:
        shows = (await client.get(site_url + "/api/shows")).json()["shows"]
    bench_show = next(show for show in shows if show["slug"] == BENCH_SLUG)
    performance_id = bench_show["performances"][0]["id"]
    order = {
        "name": "Belasting Proef",
        "email": "proef@example.nl",
        "lines": [{"performance_id": performance_id, "quantity": 1}],
    }

    async def baseline(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(baseline_url + "/")

    async def show_page(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(f"{site_url}/voorstellingen/{SHOW_SLUG}")

    async def place_order(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(site_url + "/api/checkout", json=order)

    return [
        await load("baseline", args.clients, args.requests, baseline, 200),
        await load("show_page", args.clients, args.requests, show_page, 200),
        await load("checkout", args.clients, args.checkouts, place_order, 201),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=150, help="per client, per scenario")
    parser.add_argument("--checkouts", type=int, default=60, help="per client")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    site_port, baseline_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory(prefix="mierloos-web-load-") as var_dir:
        site_ready, baseline_ready = context.Event(), context.Event()
        servers = [
            context.Process(target=serve_site, args=(var_dir, site_port, site_ready)),
            context.Process(target=serve_baseline, args=(baseline_port, baseline_ready)),
        ]
        for server in servers:
            server.start()
        try:
            if not (site_ready.wait(60) and baseline_ready.wait(60)):
                raise SystemExit("the servers did not start")
            results = asyncio.run(
                run(f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{baseline_port}", args)
            )
        finally:
            for server in servers:
                server.terminate()
                server.join(10)

    database = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded SQLite"
    print(f"{args.clients} concurrent clients on 127.0.0.1, {database}, {os.cpu_count()} CPUs")
    for result in results:
        print(
            f"{result.name:>10}: {result.requests:5d} requests, {result.rps:8.1f} req/s, "
            f"median {result.median_ms:7.2f} ms, p99 {result.p99_ms:7.2f} ms, "
            f"{result.failures} failed"
        )
    by_name = {result.name: result for result in results}
    ratio = by_name["show_page"].rps / by_name["baseline"].rps
    print(f"show page against bare Starlette: ratio {ratio:.2f}")
    print(
        json.dumps(
            {
                "ratio": round(ratio, 3),
                "show_page_rps": round(by_name["show_page"].rps, 1),
                "checkout_rps": round(by_name["checkout"].rps, 1),
                "baseline_rps": round(by_name["baseline"].rps, 1),
                "p99_ms": {name: round(result.p99_ms, 2) for name, result in by_name.items()},
                "failures": sum(result.failures for result in results),
                "clients": args.clients,
            }
        )
    )


if __name__ == "__main__":
    main()
