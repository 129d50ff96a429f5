"""`mierloos jobs`: the jobs table from a shell (list, retry a failed job, purge old ones)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import click

from mierloos_core.model.jobs import Job, JobStatus, JobType
from mierloos_core.model.timeutil import AMSTERDAM
from mierloos_core.ports import JobLedger, JobSearch
from mierloos_entrypoints.cli_support import fail, migrated_container, operation, settings_or_exit

COLUMNS = ("id", "type", "status", "attempts", "created", "next try", "error")
ERROR_WIDTH = 60


def _ledger() -> tuple[JobLedger, datetime]:
    # Production schemas change with `mierloos migrate` only; the embedded one on first use.
    from mierloos_entrypoints.container import build_container

    settings = settings_or_exit()
    container = migrated_container(settings) if settings.is_embedded else build_container(settings)
    return container.jobs(), container.clock().now()


@click.group()
def jobs() -> None:
    """The background jobs: list them, retry a failed one, purge old completed ones."""


@jobs.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), default=None)
@click.option("--type", "job_type", type=click.Choice([t.value for t in JobType]), default=None)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def list_jobs(status: str | None, job_type: str | None, limit: int) -> None:
    """The newest jobs first, as a table (times in Europe/Amsterdam)."""
    ledger, _now = _ledger()
    with operation("reading the jobs"):
        page = ledger.page(JobSearch(status=status, job_type=job_type, per_page=limit))
    rows = [COLUMNS, *(_row(job) for job in page.jobs)]
    widths = [max(len(row[n]) for row in rows) for n in range(len(COLUMNS))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    click.echo(f"{len(page.jobs)} of {page.total} job(s)")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _row(job: Job) -> tuple[str, ...]:
    error = " ".join(last_line(job.error_message or "").split())
    if len(error) > ERROR_WIDTH:
        error = error[: ERROR_WIDTH - 1] + "…"
    attempts = str(job.execution_count)
    if job.max_attempts:
        attempts += f"/{job.max_attempts}"
    return (
        str(job.id),
        job.type,
        job.status.value,
        attempts,
        _when(job.created_at),
        _when(job.next_retry_at) if job.status is JobStatus.PENDING else "-",
        error or "-",
    )


def _job_id(_ctx: click.Context, _param: click.Parameter, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter("not a job id (a UUID like 3f2b...-...)") from None


@jobs.command()
@click.argument("job_id", callback=_job_id)
def retry(job_id: uuid.UUID) -> None:
    """Put a failed job back in the queue with one more attempt. Exit 1 if it is not failed."""
    ledger, _now = _ledger()
    with operation("retrying the job"):
        if ledger.retry(job_id):
            click.echo(f"job {job_id} is pending again")
            return
        details = ledger.get(job_id)
    if details is None:
        fail(f"no job {job_id}")
    fail(f"job {job_id} is {details.job.status.value}, not failed: nothing to retry")


@jobs.command()
@click.option(
    "--older-than",
    "days",
    required=True,
    type=click.FloatRange(min=0),
    help="Delete completed jobs that completed more than this many days ago.",
)
def purge(days: float) -> None:
    """Delete old completed jobs. Pending, processing and failed jobs are never touched."""
    ledger, now = _ledger()
    cutoff = now - timedelta(days=days)
    click.echo(f"deleting completed jobs that completed before {_when(cutoff)}...")
    with operation("purging the jobs"):
        deleted = ledger.purge_completed(cutoff)
    click.echo(f"deleted {deleted} completed job(s)")


def last_line(error: str) -> str:
    """What an error message says in the end: the exception's line, not a traceback's start."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
