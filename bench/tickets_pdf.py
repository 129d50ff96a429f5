"""Benchmark: ticket PDFs per second, against the same page drawn with reportlab's QR widget.

Run with `.venv/bin/python bench/tickets_pdf.py [--rounds N] [--tickets N] [--threads N]`. Not part
of the test suite. Pins itself to one CPU core where the OS allows it, so the figures are per core.
With `--threads N` it also renders 4N orders at once on N threads sharing one renderer, as the
worker does, and checks every PDF against the same order rendered alone (`--threads 1` gives the
same work on one thread, to compare with). Prints readable
lines, then as its last line one JSON object: tickets_per_s, baseline_per_s, ratio (and with
threads: threaded_tickets_per_s, threaded_failures).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import reportlab
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfgen.canvas import Canvas

from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.money import Money


class WidgetQrTicketRenderer(ReportlabTicketRenderer):
    """The baseline: the very same page, with the QR code drawn by reportlab's QrCodeWidget."""

    def _draw_qr(self, canvas: Canvas, data: str, x: float, y: float, box: float) -> None:
        widget = QrCodeWidget(data, barLevel="M", barBorder=4)
        left, bottom, right, top = widget.getBounds()
        drawing = Drawing(
            box, box, transform=[box / (right - left), 0, 0, box / (top - bottom), 0, 0]
        )
        drawing.add(widget)
        renderPDF.draw(drawing, canvas, x, y)


def order(count: int) -> list[TicketDocument]:
    return [
        TicketDocument(
            theatre_name="Ons Mierloos Theater",
            show_title="Een Midzomernachtsdroom — Shakespeare in de schouwburg",
            starts_at=datetime(2026, 3, 14, 19, 15, tzinfo=UTC),
            hall="Grote zaal",
            price=Money(2450),
            order_number="OMT-7K3M9QXZ",
            holder_name="Zoë van Beëlen",
            secret=secrets.token_urlsafe(32),
            position=index + 1,
            count=count,
        )
        for index in range(count)
    ]


def timed(
    render: Callable[[Sequence[TicketDocument]], bytes], tickets: list[TicketDocument], rounds: int
) -> tuple[float, int]:
    """Best-of-`rounds` seconds for one render of `tickets`, and the PDF's size."""
    size = len(render(tickets))  # warm up: font registration, caches, imports
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        render(tickets)
        times.append(time.perf_counter() - start)
    print(
        f"  best {min(times) * 1000:8.1f} ms, median {statistics.median(times) * 1000:8.1f} ms"
        f" over {rounds} rounds; {size / 1024:.0f} KiB"
    )
    return min(times), size


def threaded(renderer: ReportlabTicketRenderer, tickets: int, threads: int) -> tuple[float, int]:
    """Tickets per second with 4 x `threads` orders rendered at once by one shared renderer, and
    how many renders raised or gave other bytes than the same order rendered alone."""
    orders = [order(tickets) for _ in range(4 * threads)]
    alone = [renderer.render(one) for one in orders]

    def render(one: list[TicketDocument]) -> bytes | None:
        try:
            return renderer.render(one)
        except Exception:  # a failure is what this run counts
            return None

    with ThreadPoolExecutor(max_workers=threads) as pool:
        start = time.perf_counter()
        results = list(pool.map(render, orders))
        elapsed = time.perf_counter() - start
    failures = sum(result != expected for result, expected in zip(results, alone, strict=True))
    per_s = len(orders) * tickets / elapsed
    wrong = f"{failures} of {len(orders)} renders wrong"
    print(f"  {per_s:.0f} tickets/s on {threads} threads; {wrong}")
    return per_s, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline-rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    pinned = "not pinned"
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        pinned = f"pinned to core {core}"
    print(
        f"Python {platform.python_version()}, reportlab {reportlab.Version}, "
        f"{platform.machine()}, {pinned}"
    )

    tickets = order(args.tickets)
    print(f"ReportlabTicketRenderer, {args.tickets}-ticket order:")
    ours, _ = timed(ReportlabTicketRenderer().render, tickets, args.rounds)
    print(f"Same page with reportlab's QrCodeWidget, {args.tickets}-ticket order:")
    base, _ = timed(WidgetQrTicketRenderer().render, tickets, args.baseline_rounds)

    result = {
        "tickets_per_s": round(args.tickets / ours, 1),
        "baseline_per_s": round(args.tickets / base, 1),
        "ratio": round(base / ours, 1),
    }
    if args.threads >= 1:
        print(f"One ReportlabTicketRenderer shared by {args.threads} threads:")
        per_s, failures = threaded(ReportlabTicketRenderer(), args.tickets, args.threads)
        result["threaded_tickets_per_s"] = round(per_s, 1)
        result["threaded_failures"] = failures
    print(
        f"{result['tickets_per_s']} tickets/s against {result['baseline_per_s']} tickets/s:"
        f" ratio {result['ratio']} (times faster than the baseline)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
