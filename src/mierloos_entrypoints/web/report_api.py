"""The reports as JSON for staff scripts: /api/beheer/rapporten/... (staff only: 401 without a
staff session, 403 for a visitor's). Amounts are integer cents, incl. VAT; moments in the
theatre's time zone. Listed in the OpenAPI document with the visitors' API (`api.OPERATIONS`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mierloos_core import errors
from mierloos_core.services.reports import parse_period
from mierloos_entrypoints.web.api_models import ApiModel, Moment, Uuid
from mierloos_entrypoints.web.inputs import BadInput
from mierloos_entrypoints.web.openapi import Operation
from mierloos_entrypoints.web.services import services

Cents = Annotated[int, Field(description="Euro cents, VAT included.")]
Short = Annotated[str, Field(max_length=40)]


class PeriodParameters(ApiModel):
    model_config = ConfigDict(strict=False, extra="ignore")

    soort: Literal["day", "week", "month", "season", "range"] = "month"
    waarde: Short = Field(
        default="",
        description="2026-03-14 (day), 2026-W11 (week), 2026-03 (month), 2025-2026 (season"
        " from 1 August), or the first day of a range.",
    )
    tot: Short = Field(default="", description="The last day of a range (YYYY-MM-DD).")


class PerformanceParameters(ApiModel):
    model_config = ConfigDict(strict=False, extra="ignore")

    performance_id: Uuid


class Totals(ApiModel):
    orders: int
    paid_orders: int
    tickets: int
    revenue_cents: Cents
    refunds_cents: Cents
    net_cents: Cents


class SalesRow(ApiModel):
    id: Uuid
    title: str
    starts_at: Moment | None
    orders: int
    tickets: int
    revenue_cents: Cents
    refunds_cents: Cents


class Occupancy(ApiModel):
    performance_id: Uuid
    title: str
    starts_at: Moment
    capacity: int
    sold: int
    occupancy_percent: Decimal


class MonthRevenue(ApiModel):
    month: str
    revenue_cents: Cents


class PeriodReport(ApiModel):
    label: str
    start: Moment
    end: Moment = Field(description="Exclusive.")
    totals: Totals
    shows: list[SalesRow] = Field(description="Best selling first: the top shows.")
    performances: list[SalesRow]
    occupancy: list[Occupancy]
    months: list[MonthRevenue]


class CategoryRevenue(ApiModel):
    name: str
    sold: int
    refunded: int
    revenue_cents: Cents


class Method(ApiModel):
    method: str | None = Field(description="The payment's provider; null: nothing to pay.")
    orders: int
    revenue_cents: Cents


class Coupon(ApiModel):
    code: str | None
    orders: int
    tickets: int
    discount_cents: Cents
    revenue_cents: Cents


class PerformanceReport(ApiModel):
    performance_id: Uuid
    show_title: str
    starts_at: Moment
    capacity: int
    sold: int
    held: int = Field(description="Reserved in orders not paid yet.")
    free: int
    refunded: int
    admitted: int | None = Field(description="null: check-in at the door is not recorded.")
    revenue_cents: Cents
    refunds_cents: Cents
    by_category: list[CategoryRevenue]
    by_method: list[Method]
    by_coupon: list[Coupon]


def _rows(rows: tuple[object, ...]) -> list[SalesRow]:
    return [SalesRow.from_record(row) for row in rows]


async def period_report(request: Request, parameters: PeriodParameters) -> PeriodReport:
    web = services(request)
    value = parameters.waarde or (
        web.clock.now().strftime("%Y-%m") if parameters.soort == "month" else ""
    )
    try:
        period = parse_period(parameters.soort, value, parameters.tot)
    except errors.InvalidPeriod as refused:
        raise BadInput(refused.message, field="waarde") from None
    view = await run_in_threadpool(web.reporting.period, period)
    report = view.report
    return PeriodReport(
        label=period.label,
        start=period.start,
        end=period.end,
        totals=Totals.from_record(report.totals),
        shows=_rows(report.shows),
        performances=_rows(report.performances),
        occupancy=[
            Occupancy.from_record(r, occupancy_percent=r.occupancy) for r in report.occupancy
        ],
        months=[MonthRevenue(month=label, revenue_cents=cents) for label, cents in view.months],
    )


async def performance_report(
    request: Request, parameters: PerformanceParameters
) -> PerformanceReport:
    web = services(request)
    view = await run_in_threadpool(web.reporting.performance, parameters.performance_id)
    report = view.report
    return PerformanceReport.from_record(
        report,
        by_category=[CategoryRevenue.from_record(c) for c in report.by_category],
        by_method=[Method.from_record(m) for m in report.by_method],
        by_coupon=[Coupon.from_record(c) for c in report.by_coupon],
    )


STAFF_ERRORS = (400, 401, 403)

OPERATIONS = [
    Operation(
        method="GET",
        path="/api/beheer/rapporten/periode",
        operation_id="staffPeriodReport",
        summary="Staff only: orders, tickets, revenue and refunds of a period, per show and"
        " performance, occupancy and revenue per month.",
        handler=period_report,
        parameters=PeriodParameters,
        answer=PeriodReport,
        answer_text="The period's report.",
        errors=STAFF_ERRORS,
        staff=True,
    ),
    Operation(
        method="GET",
        path="/api/beheer/rapporten/uitvoeringen/{performance_id}",
        operation_id="staffPerformanceReport",
        summary="Staff only: seats and revenue of one performance, by category, payment method"
        " and coupon.",
        handler=performance_report,
        parameters=PerformanceParameters,
        answer=PerformanceReport,
        answer_text="The performance's report.",
        errors=(*STAFF_ERRORS, 404),
        staff=True,
    ),
]
