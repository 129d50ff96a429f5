"""The counter's day-end overview: per staff member and payment method, on screen and as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mierloos_core.model.timeutil import AMSTERDAM, local
from mierloos_core.services.counter import DayOverview
from mierloos_entrypoints.web.inputs import BadInput
from mierloos_entrypoints.web.pages.admin.counter import COUNTER, METHOD_LABELS
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.routing import staff_page
from mierloos_entrypoints.web.services import services

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
WEB_SHOP = "Website"


def _day(request: Request) -> date:
    """The `datum` parameter (YYYY-MM-DD), or today in Mierlo."""
    raw = request.query_params.get("datum", "").strip()
    if not raw:
        return local(services(request).clock.now()).date()
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadInput("Kies een datum als 2026-12-01.", field="datum") from None
    if not 2000 <= day.year <= 2100:
        raise BadInput("Kies een datum van 2000 tot en met 2100.", field="datum")
    return day


async def _overview(request: Request) -> tuple[date, DayOverview]:
    day = _day(request)
    # A day in Mierlo: from its midnight to the next, whatever the clocks did in between.
    start = datetime.combine(day, time(), AMSTERDAM)
    end = datetime.combine(day + timedelta(days=1), time(), AMSTERDAM)
    overview = await run_in_threadpool(services(request).counter.day_overview, start, end)
    return day, overview


def _seller(name: str | None, has_seller: bool) -> str:
    if not has_seller:
        return WEB_SHOP
    return name or "Onbekende medewerker"


async def day_overview(request: Request) -> Response:
    day, overview = await _overview(request)
    return render(
        request,
        "admin/counter_day.html",
        {
            "day": day,
            "overview": overview,
            "methods": METHOD_LABELS,
            "seller": _seller,
            "previous": (day - timedelta(days=1)).isoformat(),
            "next": (day + timedelta(days=1)).isoformat(),
        },
    )


async def day_overview_csv(request: Request) -> Response:
    day, overview = await _overview(request)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["datum", "medewerker", "betaalwijze", "bestellingen", "kaarten", "bedrag"])
    for row in overview.rows:
        writer.writerow(
            [
                day.isoformat(),
                _csv_text(_seller(row.staff_name, row.sold_by is not None)),
                row.payment_method.value,
                row.orders,
                row.tickets,
                _euros(row.amount.cents),
            ]
        )
    writer.writerow(
        [
            day.isoformat(),
            "totaal",
            "",
            overview.orders,
            overview.tickets,
            _euros(overview.amount.cents),
        ]
    )
    return Response(
        # With a byte order mark, so a spreadsheet opens it as UTF-8.
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="dagoverzicht-{day.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _euros(cents: int) -> str:
    """An amount as a Dutch spreadsheet reads it: 1234,50."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def _csv_text(value: str) -> str:
    """A staff name a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


ROUTES: list[BaseRoute] = [
    staff_page(COUNTER + "/dagoverzicht", day_overview, "counter_day"),
    staff_page(COUNTER + "/dagoverzicht.csv", day_overview_csv, "counter_day_csv"),
]
