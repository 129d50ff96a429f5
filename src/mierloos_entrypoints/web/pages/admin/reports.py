"""Reports for staff: a period (/beheer/rapporten), one performance, and the exports.

The figures come from `services.reports.Reporting`; the charts are SVG drawn here
(`web.charts`), each with a table of the same numbers. Exports stream: CSV as it is written,
Excel from a temporary file (see `mierloos_adapters.exports`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from mierloos_adapters import exports
from mierloos_core import errors
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.timeutil import dutch_datetime, local
from mierloos_core.ports.reports import LineFilter, Period
from mierloos_core.services.reports import (
    PERIOD_KINDS,
    VAT_ROUNDING,
    PerformanceView,
    PeriodView,
    SalesCurve,
    day_span,
    parse_period,
)
from mierloos_entrypoints.web.charts import Series, bar_chart, line_chart
from mierloos_entrypoints.web.inputs import BadInput, parse_uuid
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.routing import staff_page
from mierloos_entrypoints.web.services import services

KIND_LABELS = {
    "day": "Dag",
    "week": "Week",
    "month": "Maand",
    "season": "Seizoen",
    "range": "Van - tot",
}
EXAMPLES = {
    "day": "2026-03-14",
    "week": "2026-W11",
    "month": "2026-03",
    "season": "2025-2026",
    "range": "2026-03-01",
}
EXPORT_KINDS = {
    "tickets": "Kaarten (deurlijst)",
    "orders": "Bestellingen",
    "payments": "Betalingen en terugbetalingen (boekhouding)",
}
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ORDER_STATUS_LABELS = {
    "pending": "Wacht op betaling",
    "paid": "Betaald",
    "cancelled": "Geannuleerd",
    "expired": "Verlopen",
    "refunded": "Terugbetaald",
}
MAX_PARAM = 40


def money(cents: int) -> str:
    return Money(int(cents)).display()


def _param(request: Request, name: str) -> str:
    value = request.query_params.get(name, "")
    if len(value) > MAX_PARAM:
        raise BadInput("Deze waarde is te lang.", field=name)
    return value.strip()


def requested_period(request: Request, now: datetime) -> tuple[str, str, str, Period]:
    """The period in the query (`soort`, `waarde`, `tot`), the current month without one."""
    kind = _param(request, "soort") or "month"
    value = _param(request, "waarde") or (local(now).strftime("%Y-%m") if kind == "month" else "")
    until = _param(request, "tot")
    if kind not in PERIOD_KINDS:
        raise BadInput("Kies dag, week, maand, seizoen of van-tot.", field="soort")
    try:
        return kind, value, until, parse_period(kind, value, until)
    except errors.InvalidPeriod as refused:
        hint = f" Schrijf bijvoorbeeld {EXAMPLES[kind]}." if kind != "range" else ""
        raise BadInput(refused.message + hint, field="waarde") from None


def _charts_of_period(view: PeriodView) -> dict[str, Any]:
    report = view.report
    occupancy = [
        (f"{r.title} {local(r.starts_at):%d-%m}", float(r.occupancy)) for r in report.occupancy
    ]
    return {
        "revenue_chart": bar_chart(
            "omzet-per-maand",
            "Omzet per maand",
            "Omzet (incl. btw) van de bestellingen per maand; dezelfde bedragen staan in de tabel.",
            [(label, cents) for label, cents in view.months],
            money=True,
        ),
        "occupancy_chart": bar_chart(
            "bezetting",
            "Bezetting per voorstelling",
            "Verkochte kaarten als percentage van de capaciteit per voorstelling in deze periode.",
            occupancy,
            top=100,
        ),
    }


async def period_report(request: Request) -> Response:
    web = services(request)
    kind, value, until, period = requested_period(request, web.clock.now())
    view = await run_in_threadpool(web.reporting.period, period)
    return _report_page(
        request,
        "admin/reports.html",
        view,
        kind=kind,
        value=value,
        until=until,
        kinds=KIND_LABELS,
        examples=EXAMPLES,
        **_charts_of_period(view),
    )


def curve_table(curves: Sequence[SalesCurve]) -> list[tuple[int, list[int | None]]]:
    """Rows of (days before, cumulative tickets per curve), the days of every curve."""
    days = sorted({d for c in curves for d, _n in c.points}, reverse=True)
    rows = []
    for day in days:
        cells: list[int | None] = []
        for curve in curves:
            reached = [n for d, n in curve.points if d >= day]
            cells.append(reached[-1] if reached else None)
        rows.append((day, cells))
    return rows


def _curve_chart(view: PerformanceView) -> Any:
    series = [
        Series(c.label, tuple((float(d), float(n)) for d, n in c.points)) for c in view.curves
    ]
    return line_chart(
        "verkoop",
        "Verkoop in de tijd",
        "Verkochte kaarten opgeteld tegen dagen voor de aanvang; deze voorstelling en andere"
        " voorstellingen van dezelfde titel ter vergelijking. Zie de tabel.",
        series,
        x_label="dagen voor de aanvang",
        reverse_x=True,
    )


async def performance_report(request: Request) -> Response:
    web = services(request)
    performance_id: uuid.UUID = request.path_params["performance_id"]
    try:
        view = await run_in_threadpool(web.reporting.performance, performance_id)
    except errors.UnknownPerformance:
        raise HTTPException(status_code=404) from None
    return _report_page(
        request,
        "admin/report_performance.html",
        view,
        curve_chart=_curve_chart(view),
        curve_rows=curve_table(view.curves),
    )


def _report_page(
    request: Request, template: str, view: PeriodView | PerformanceView, **context: Any
) -> Response:
    """A report page: its view and report, and the money and moment formatters it uses."""
    page = {"view": view, "report": view.report, "money": money, "when": dutch_datetime}
    return render(request, template, {**page, **context})


async def exports_page(request: Request) -> Response:
    web = services(request)

    def shows() -> list[Any]:
        with web.uow() as uow:
            return sorted(uow.shows.list(), key=lambda s: s.title.lower())

    return render(
        request,
        "admin/exports.html",
        {
            "shows": await run_in_threadpool(shows),
            "kinds": EXPORT_KINDS,
            "statuses": ORDER_STATUS_LABELS,
            "rounding": VAT_ROUNDING,
        },
    )


def line_filter(read: Any) -> LineFilter:
    """The export's filter from query values (`van`, `tot`, `voorstelling`, `uitvoering`,
    `status`); BadInput for anything malformed."""
    try:
        period = day_span(read("van"), read("tot"))
    except errors.InvalidPeriod as refused:
        raise BadInput(refused.message, field="van") from None
    ids = {}
    for name in ("voorstelling", "uitvoering"):
        raw = read(name)
        ids[name] = parse_uuid(raw) if raw else None
        if raw and ids[name] is None:
            raise BadInput("Kies een bestaande voorstelling.", field=name)
    status = read("status")
    if status and status not in ORDER_STATUS_LABELS:
        raise BadInput("Deze status bestaat niet voor bestellingen.", field="status")
    return LineFilter(
        period=period,
        show_id=ids["voorstelling"],
        performance_id=ids["uitvoering"],
        status=OrderStatus(status) if status else None,
    )


def export_response(
    reporting: Any, kind: str, form: str, only: LineFilter, now: datetime
) -> Response:
    if kind not in EXPORT_KINDS or form not in FORMATS:
        raise HTTPException(status_code=404)
    chunks = exports.export_chunks(reporting, form, kind, only)
    name = f"mierloos-{kind}-{local(now):%Y%m%d-%H%M}.{form}"
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type=FORMATS[form],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def export_download(request: Request) -> Response:
    web = services(request)
    only = line_filter(lambda name: _param(request, name))
    kind, form = request.path_params["kind"], request.path_params["form"]
    return export_response(web.reporting, kind, form, only, web.clock.now())


ROUTES: list[BaseRoute] = [
    staff_page("/beheer/rapporten", period_report, "admin_reports"),
    staff_page(
        "/beheer/rapporten/uitvoeringen/{performance_id:uuid}",
        performance_report,
        "admin_report_performance",
    ),
    staff_page("/beheer/exports", exports_page, "admin_exports"),
    staff_page("/beheer/exports/{kind}.{form}", export_download, "admin_export"),
]
