"""`mierloos report`: the staff reports from a shell, as text or JSON, and the exports to a file.

Amounts in JSON are integer cents incl. VAT; moments ISO 8601 in UTC. Exit codes as the other
commands: 2 for a wrong period or id, 1 when the database cannot be read.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import click

from mierloos_core import errors
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.timeutil import AMSTERDAM
from mierloos_core.ports.reports import LineFilter
from mierloos_core.services.reports import (
    EXPORT_KINDS,
    Reporting,
    day_span,
    parse_day,
    parse_period,
)
from mierloos_entrypoints.cli_support import migrated_container, operation, settings_or_exit


def _reporting() -> Reporting:
    from mierloos_entrypoints.container import build_container

    settings = settings_or_exit()
    container = migrated_container(settings) if settings.is_embedded else build_container(settings)
    return container.reporting()


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(attrs.asdict(value), default=_plain, ensure_ascii=False, indent=2))


def _euros(cents: int) -> str:
    return Money(int(cents)).display()


def _when(moment: datetime | None) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_day(value)
    except errors.InvalidPeriod:
        raise click.BadParameter("a day as YYYY-MM-DD") from None
    return value


@click.group()
def report() -> None:
    """The staff reports: a period, one performance, exports (CSV or Excel)."""


@report.command("period")
@click.option("--from", "first", required=True, callback=_day, help="First day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, callback=_day, help="Last day (included).")
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON.")
def period_command(first: str, last: str, as_json: bool) -> None:
    """Orders, tickets, revenue and refunds from one day up to and including another."""
    try:
        period = parse_period("range", first, last)
    except errors.InvalidPeriod as refused:
        raise click.UsageError(refused.message) from None
    reporting = _reporting()
    with operation("reading the report"):
        view = reporting.period(period)
    if as_json:
        _echo_json(view)
        return
    totals = view.report.totals
    click.echo(f"{period.label}")
    click.echo(f"orders {totals.orders} (paid {totals.paid_orders}), tickets {totals.tickets}")
    click.echo(
        f"revenue {_euros(totals.revenue_cents)}, refunds {_euros(totals.refunds_cents)},"
        f" net {_euros(totals.net_cents)}"
    )
    for row in view.report.shows:
        click.echo(f"  {row.title}: {row.tickets} tickets, {_euros(row.revenue_cents)}")
    for row in view.report.occupancy:
        click.echo(
            f"  {_when(row.starts_at)} {row.title}: {row.sold}/{row.capacity} ({row.occupancy} %)"
        )


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter(f"not a {what} id (a UUID)") from None


def _performance_id(_ctx: click.Context, _param: click.Parameter, value: str) -> uuid.UUID:
    return _uuid(value, "performance")


@report.command("performance")
@click.argument("performance_id", callback=_performance_id)
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON.")
def performance_command(performance_id: uuid.UUID, as_json: bool) -> None:
    """Seats and revenue of one performance, by category, payment method and coupon."""
    reporting = _reporting()
    with operation("reading the report"):
        try:
            view = reporting.performance(performance_id)
        except errors.UnknownPerformance:
            view = None
    if view is None:
        raise click.UsageError(f"no performance {performance_id}")
    if as_json:
        _echo_json(view.report)
        return
    r = view.report
    admitted = "not recorded" if r.admitted is None else str(r.admitted)
    click.echo(f"{r.show_title}, {_when(r.starts_at)}")
    click.echo(
        f"capacity {r.capacity}: sold {r.sold}, held {r.held}, free {r.free}, admitted {admitted}"
    )
    click.echo(f"revenue {_euros(r.revenue_cents)}, refunds {_euros(r.refunds_cents)}")
    for c in r.by_category:
        click.echo(f"  {c.name}: {c.sold} sold, {_euros(c.revenue_cents)}")


@report.command("export")
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option(
    "--format", "form", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--from", "first", callback=_day, default=None, help="Ordered from this day.")
@click.option("--to", "last", callback=_day, default=None, help="Up to and including this day.")
@click.option("--performance", "performance_id", default=None, help="Only this performance.")
@click.option("--status", type=click.Choice([s.value for s in OrderStatus]), default=None)
def export_command(
    kind: str,
    form: str,
    output: Path,
    first: str | None,
    last: str | None,
    performance_id: str | None,
    status: str | None,
) -> None:
    """Write an export (tickets = the door list, orders, payments with VAT) to a file."""
    from mierloos_adapters import exports

    try:
        period = day_span(first or "", last or "")
    except errors.InvalidPeriod as refused:
        raise click.UsageError(refused.message) from None
    only = LineFilter(
        period=period,
        performance_id=_uuid(performance_id, "performance") if performance_id else None,
        status=OrderStatus(status) if status else None,
    )
    reporting = _reporting()
    with operation("writing the export"), output.open("wb") as target:
        for chunk in exports.export_chunks(reporting, form, kind, only):
            target.write(chunk)
    click.echo(f"wrote {output}")
