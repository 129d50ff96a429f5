"""Background jobs: a Dramatiq broker over the `jobs` table, and the ledger staff look at.

- `broker.JobsBroker`: claims, leases, retries and wake-ups (Postgres and SQLite).
- `ledger.SqlJobLedger`: the JobLedger port (dashboard summary, pages, staff retry).
- `signals`: NOTIFY / in-process wake-ups, used by `SqlJobQueue.enqueue` too.

The names are loaded lazily, so the repositories can import `signals` without Dramatiq.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JobOutcomes", "JobsBroker", "SqlJobLedger"]


def __getattr__(name: str) -> Any:
    if name in ("JobsBroker", "JobOutcomes"):
        from mierloos_adapters.jobqueue import broker

        return getattr(broker, name)
    if name == "SqlJobLedger":
        from mierloos_adapters.jobqueue.ledger import SqlJobLedger

        return SqlJobLedger
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
