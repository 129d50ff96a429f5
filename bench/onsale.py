"""An onsale end to end: real `mierloos serve` and `mierloos worker` processes, buyers over HTTP.

Two `mierloos serve` processes (no worker inside) and one `mierloos worker` on a fresh
PostgreSQL database, the fake payment provider, local file storage, and SMTP to a server inside
this benchmark that notes when each tickets mail arrives. Buyers, each with a session (cookie
jar) and an address of their own (X-Forwarded-For, which uvicorn trusts from 127.0.0.1), open
the show page, add 1-4 seats to their cart, check out and pay on the provider's page; at most
--concurrency of them at once, half on each web process. Demand is above supply.

    .venv/bin/python bench/onsale.py [--buyers 3000] [--seats 1000] [--concurrency 64]

Figures: `placed_per_s` (orders placed until the last seat went, over `sellout_s`, from the
first buyer's start), checkout latency (the POST that places the order, refusals included),
and `paid_to_mail` (the webhook's job row written, i.e. the webhook received, to the tickets
mail arriving at the SMTP server). `oversold` must be 0. What bounds them: `sale_cpu_s`, the
CPU seconds the web processes, the worker, the buyers and the PostgreSQL server used until the
last seat went, and `sale_cores`, their sum over `sellout_s` (the machine's cores are the
ceiling); `db_sessions` and `db_transactions`, the connections opened to the database and
the transactions run in it; `job_queued_to_done_ms`, each of the three jobs between the
webhook and the mail (payment sync, PDF, mail) from queued to done. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_support import admin_url, migrated_database, performance_on_sale
from lean_http import Browser, HttpError

ROOT = Path(__file__).resolve().parents[1]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_VERSION = re.compile(r'name="cart_version" value="([^"]+)"')
_TICKETS_SUBJECT = "Je kaarten"


class MailClock:
    """aiosmtpd handler: when each tickets mail arrived, by recipient."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        now = time.time()
        head = envelope.content.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        if f"Subject: {_TICKETS_SUBJECT}" in head:
            with self._lock:
                for recipient in envelope.rcpt_tos:
                    self.arrived.setdefault(recipient.lower(), now)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "mierloos_entrypoints.cli", *args]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def wait_answering(process: subprocess.Popen, url: str, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def performance_for_sale(url: str, seats: int) -> tuple[str, str]:
    """A published show with one performance of `seats` seats: (its page's path, its id)."""
    sale = performance_on_sale(url, seats=seats, title="Uitverkocht", price_cents=2500)
    return f"/voorstellingen/{sale.show.slug}", str(sale.performance.id)


def token(html: str) -> str:
    found = _CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


async def buy(
    base_url: str, show: str, number: int, quantity: int, results: dict[str, list]
) -> None:
    """One buyer's visit: show page, cart, checkout, the provider's pay button."""
    address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
    email = f"koper{number}@example.nl"
    browser = Browser(base_url, forwarded_for=address)
    page = await browser.get(show)
    performance = re.search(r'name="performance_id" value="([^"]+)"', page.text)
    if page.status_code != 200 or performance is None:
        results["sold_out_page"].append(number)
        return
    added = await browser.post(
        "/winkelwagen/toevoegen",
        data={
            "csrf_token": token(page.text),
            "performance_id": performance.group(1),
            "quantity": str(quantity),
        },
    )
    form = await browser.get("/afrekenen")
    version = _VERSION.search(form.text)
    if added.status_code != 303 or form.status_code != 200 or version is None:
        results["refused"].append(number)
        return
    began = time.perf_counter()
    placed = await browser.post(
        "/afrekenen",
        data={
            "csrf_token": token(form.text),
            "cart_version": version.group(1),
            "name": f"Koper {number}",
            "email": email,
            "coupon": "",
        },
    )
    done = time.perf_counter()
    results["checkout_ms"].append((done - began) * 1000)
    location = placed.headers.get("location", "")
    if placed.status_code != 303 or "/fake-payments/" not in location:
        results["refused"].append(number)
        return
    results["placed"].append((done, number))
    provider = await browser.get(location)
    paid = await browser.post(location, data={"csrf_token": token(provider.text), "action": "paid"})
    if paid.status_code != 303:
        results["errors"].append(f"pay: {paid.status_code}")
        return
    results["paid"].append(email)


async def rush(bases: list[str], show: str, args) -> tuple[float, dict[str, list]]:
    rng = random.Random(11)
    quantities = [rng.randint(1, args.max_seats) for _ in range(args.buyers)]
    results: dict[str, list] = {
        key: [] for key in ("placed", "refused", "sold_out_page", "checkout_ms", "paid", "errors")
    }
    gate = asyncio.Semaphore(args.concurrency)

    async def one(number: int) -> None:
        async with gate:
            try:
                await buy(bases[number % len(bases)], show, number, quantities[number], results)
            except (HttpError, RuntimeError) as error:
                results["errors"].append(f"{type(error).__name__}: {error}"[:200])

    began = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(args.buyers)))
    return began, results


def server_figures(url: str, performance_id: str) -> dict[str, object]:
    """From the database: seats left and tickets sold, and when each webhook was received."""
    import psycopg

    with psycopg.connect(url) as conn:
        capacity, available = conn.execute(
            "SELECT capacity, available_seats FROM performances WHERE id = %s", (performance_id,)
        ).fetchone()
        sold = conn.execute(
            "SELECT count(*) FROM tickets WHERE performance_id = %s AND status IN"
            " ('reserved', 'valid')",
            (performance_id,),
        ).fetchone()[0]
        # The webhook's job row is written in the webhook request: its created_at is when the
        # site received the call. The first per order: a second call adds no job.
        received = conn.execute(
            "SELECT lower(o.email), min(extract(epoch FROM j.created_at))::float8 FROM jobs j"
            " JOIN payments p ON p.provider_payment_id = j.data->>'provider_payment_id'"
            " JOIN orders o ON o.id = p.order_id WHERE j.type = 'payment_webhook'"
            " GROUP BY o.email"
        ).fetchall()
        # Each job's time from queued to done, per type: the hops from webhook to mail.
        hops = conn.execute(
            "SELECT type, percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY"
            " extract(epoch FROM completed_at - created_at)) FROM jobs"
            " WHERE completed_at IS NOT NULL AND type IN ('payment_webhook', 'pdf_generation',"
            " 'email') GROUP BY type"
        ).fetchall()
        # Connections opened to this database: each one a server process started.
        sessions, transactions = conn.execute(
            "SELECT sessions, xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    oversold = max(0, sold - capacity) + abs(capacity - available - sold)
    return {
        "oversold": oversold,
        "sold": sold,
        "received": dict(received),
        "sessions": sessions,
        "transactions": transactions,
        "job_ms": {kind: [round(q * 1000) for q in quantiles] for kind, quantiles in hops},
    }


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """CPU time (user and system) process `pid` and its living descendants have used so far
    (Linux); with `reaped`, also that of its children that have exited (PostgreSQL's
    connection processes come and go)."""
    stats = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        own, children = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
        stats[int(path.parent.name)] = (int(fields[1]), own, children)
    tree = {pid}
    for other, (parent, _, _) in sorted(stats.items()):
        if parent in tree:
            tree.add(other)
    ticks = sum(own for other, (_, own, _) in stats.items() if other in tree)
    if reaped and pid in stats:
        ticks += stats[pid][2]
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine."""
    import psycopg

    with psycopg.connect(url) as conn:  # read while the connection's process is there
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:
            return int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
        except OSError:
            return None  # another machine's server


class CpuSampler:
    """The CPU seconds of each group of processes, a few times a second, so that what the sale
    itself cost (until its last seat went) can be told apart from the sold-out visits after."""

    def __init__(self, groups: dict[str, Callable[[], float]], every: float = 0.25) -> None:
        self.groups = groups
        self.every = every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        self.samples.append(
            (time.perf_counter(), {name: used() for name, used in self.groups.items()})
        )

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def used_until(self, moment: float) -> dict[str, float]:
        """CPU seconds per group from the start to the first sample at or after `moment`."""
        first = self.samples[0][1]
        last = next((used for at, used in self.samples if at >= moment), self.samples[-1][1])
        return {name: round(last[name] - first[name], 1) for name in first}


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(args, url: str, work: Path) -> dict[str, object]:
    show, performance_id = performance_for_sale(url, args.seats)
    mail = MailClock()
    smtp = Controller(mail, hostname="127.0.0.1", port=free_port())
    smtp.start()
    ports = [free_port() for _ in range(args.servers)]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "R2_", "S3_", "SMTP_", "MOLLIE_", "MIERLOOS_"))
    } | {
        # This checkout's code first; then what the caller added (say, a package to try).
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        ),
        "DATABASE_URL": url,
        "SECRET_KEY": "onsale-bench-Zr8Wq3Lm6Xt1Vb9Kp4Hy7Dn2Cs5Fg0Aj",
        "MIERLOOS_VAR_DIR": str(work / "var"),  # the fake provider's payments and the PDFs
        "MIERLOOS_FAKE_PAYMENTS": "1",
        "MIERLOOS_LOCAL_STORAGE": "1",
        "MIERLOOS_EMBEDDED_WORKER": "0",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": "Ons Mierloos Theater <kaarten@example.nl>",
        "ORPHANED_ORDER_CLEANUP_PERIOD": "0",
        "REFUND_FOLLOW_UP_PERIOD": "0",
        "LOG_LEVEL": "WARNING",
    }
    processes: list[subprocess.Popen] = []
    try:
        for port in ports:
            log = work / f"serve-{port}.log"
            serve_env = env | {"BASE_URL": f"http://127.0.0.1:{port}"}
            args_ = ["serve", "--port", str(port), "--no-worker", "--no-demo"]
            processes.append(start(args_, serve_env, log, work))
            wait_answering(processes[-1], f"http://127.0.0.1:{port}/health", log)
        health = free_port()
        log = work / "worker.log"
        worker = start(["worker", "--processes", str(args.worker_processes),
                        "--threads", str(args.worker_threads), "--port", str(health)],
                       env | {"HEALTH_HOST": "127.0.0.1"}, log, work)  # fmt: skip
        processes.append(worker)
        wait_answering(worker, f"http://127.0.0.1:{health}/health", log)
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        groups: dict[str, Callable[[], float]] = {
            "serve": lambda: sum(cpu_seconds(p.pid) for p in processes[:-1]),
            "worker": lambda: cpu_seconds(worker.pid),
            "buyers": lambda: sum(os.times()[:2]),
        }
        postmaster = postmaster_pid(url)
        if postmaster is not None:
            groups["postgres"] = lambda: cpu_seconds(postmaster, reaped=True)
        with CpuSampler(groups) as sampler:
            began, results = asyncio.run(rush(bases, show, args))
        paid = set(results["paid"])
        deadline = time.monotonic() + args.mail_timeout
        while time.monotonic() < deadline and not paid <= set(mail.arrived):
            time.sleep(0.2)
        figures = server_figures(url, performance_id)
        cpu = {
            "serve_cpu_s": round(sum(cpu_seconds(p.pid) for p in processes[:-1]), 1),
            "worker_cpu_s": round(cpu_seconds(worker.pid), 1),
            "buyers_cpu_s": round(sum(os.times()[:2]), 1),
        }
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
    placed = sorted(results["placed"])
    sellout = placed[-1][0] - began if placed else float("nan")
    sale_cpu = sampler.used_until(placed[-1][0]) if placed else {}
    received: dict[str, float] = figures["received"]  # type: ignore[assignment]
    to_mail = [
        (mail.arrived[email] - received[email]) * 1000
        for email in paid
        if email in mail.arrived and email in received
    ]
    return {
        "oversold": figures["oversold"],
        "placed": len(placed),
        "placed_per_s": round(len(placed) / sellout, 1) if placed else 0,
        "sellout_s": round(sellout, 2),
        "checkout_p50_ms": round(statistics.median(results["checkout_ms"]), 1),
        "checkout_p99_ms": round(percentile(results["checkout_ms"], 0.99), 1),
        "paid_to_mail_p50_ms": round(percentile(to_mail, 0.5), 1),
        "paid_to_mail_p99_ms": round(percentile(to_mail, 0.99), 1),
        "tickets_sold": figures["sold"],
        "paid": len(paid),
        "mailed": len(to_mail),
        "refused": len(results["refused"]),
        "saw_sold_out": len(results["sold_out_page"]),
        "errors": len(results["errors"]),
        "first_errors": results["errors"][:3],
        "buyers": args.buyers,
        "seats": args.seats,
        "concurrency": args.concurrency,
        "worker_processes": args.worker_processes,
        **cpu,
        # Until the last seat went; postgres: the whole server, other databases' work included.
        "sale_cpu_s": sale_cpu,
        "sale_cores": round(sum(sale_cpu.values()) / sellout, 2) if placed else 0,
        "db_sessions": figures["sessions"],
        "db_transactions": figures["transactions"],
        # Queued to done, p50 and p99, of the three jobs between a webhook and its mail.
        "job_queued_to_done_ms": figures["job_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--seats", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64, help="buyers at once")
    parser.add_argument("--max-seats", type=int, default=4, help="seats a buyer takes, 1 to N")
    parser.add_argument("--servers", type=int, default=2, help="`mierloos serve` processes")
    parser.add_argument("--worker-processes", type=int, default=1)
    parser.add_argument("--worker-threads", type=int, default=8, help="per worker process")
    parser.add_argument("--mail-timeout", type=float, default=120, help="wait for the mails")
    args = parser.parse_args()
    with migrated_database(admin_url()) as url, tempfile.TemporaryDirectory() as work:
        result = run(args, url, Path(work))
    print(
        f"{args.buyers} buyers, {args.seats} seats, {args.concurrency} at once:"
        f" {result['placed']} orders placed in {result['sellout_s']} s"
        f" ({result['placed_per_s']}/s), {result['refused']} refused,"
        f" {result['saw_sold_out']} saw it sold out, {result['errors']} errors"
    )
    print(
        f"checkout p50 {result['checkout_p50_ms']} ms, p99 {result['checkout_p99_ms']} ms;"
        f" webhook to tickets mail p50 {result['paid_to_mail_p50_ms']} ms,"
        f" p99 {result['paid_to_mail_p99_ms']} ms ({result['mailed']} of {result['paid']} mailed)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
