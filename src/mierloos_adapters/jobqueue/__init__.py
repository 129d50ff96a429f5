"""Background jobs: a Dramatiq broker over the `jobs` table, and the ledger staff look at.

- `broker.JobsBroker`: the broker Dramatiq runs (Postgres and SQLite); its module doc tells
  how claims, leases, retries and wake-ups work. It is put together from:
  - `claims`: taking runnable jobs under this worker's lease;
  - `outcomes`: `JobOutcomes` (the RetryPolicy middleware) decides what an attempt leads to,
    `Settling` writes it under the lease; acks go to one writer thread,
    which writes those waiting in one statement while the worker threads go on;
  - `consumer`: hands claimed jobs to Dramatiq's consumer thread, polling and waking up;
  - `background`: the lease heartbeat, the LISTEN for wake-ups, the recurring jobs;
  - `statements`: the broker's SQL; `base`: the state the parts share, and retrying
    database work after a lost connection;
  - `messages`: `JobMessage`, a claimed job as Dramatiq sees it, and `JobData`.
- `ledger.SqlJobLedger`: the JobLedger port (dashboard summary, pages, staff retry).
- `signals`: NOTIFY / in-process wake-ups; a transaction records them with
  `sqlalchemy.job_wakeups`, which `SqlJobQueue.enqueue` uses too.

The names are loaded lazily, so the ledger and `signals` load without Dramatiq.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JobOutcomes", "JobsBroker", "SqlJobLedger"]


def __getattr__(name: str) -> Any:
    if name == "JobsBroker":
        from mierloos_adapters.jobqueue.broker import JobsBroker

        return JobsBroker
    if name == "JobOutcomes":
        from mierloos_adapters.jobqueue.outcomes import JobOutcomes

        return JobOutcomes
    if name == "SqlJobLedger":
        from mierloos_adapters.jobqueue.ledger import SqlJobLedger

        return SqlJobLedger
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
