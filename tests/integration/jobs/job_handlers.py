"""Handlers the worker processes of these tests run (MIERLOOS_JOB_HANDLERS points here).

Every run appends JSON lines to the file named by JOB_EFFECTS ("start" when a handler begins,
"done" when it returns), so the tests count real side effects across processes. What a
handler does is read from the job's data:

  key          the name recorded with every effect (default: the job id)
  sleep        seconds to sleep before returning
  fail_until   fail (a retryable error) while the attempt number is below this
  fail         "permanent": raise PermanentFailure on the first attempt, succeed afterwards
               "always": a retryable error on every attempt
  hang_in      a worker id pattern: hang (an hour) when WORKER_TAG equals it
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

from dramatiq.middleware import CurrentMessage

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.sqlalchemy import make_engine
from mierloos_core.errors import DependencyUnavailable, PermanentFailure
from mierloos_core.model.commands import PurgeJobs
from mierloos_core.model.jobs import JobType
from mierloos_core.services.jobs import JobRegistry, jobs_purge_handler


def _record(kind: str, key: str, attempt: int) -> None:
    line = json.dumps(
        {
            "kind": kind,
            "key": key,
            "attempt": attempt,
            "worker": os.environ.get("WORKER_TAG", str(os.getpid())),
            "pid": os.getpid(),
            "at": time.time(),
        }
    )
    fd = os.open(os.environ["JOB_EFFECTS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def scripted(data: Mapping[str, Any]) -> None:
    message = CurrentMessage.get_current_message()
    attempt = int(message.options.get("job_attempt", 0)) if message is not None else 0
    key = str(data.get("key") or (message.message_id if message is not None else "?"))
    _record("start", key, attempt)
    if data.get("hang_in") and data["hang_in"] == os.environ.get("WORKER_TAG"):
        time.sleep(3600)
    if data.get("sleep"):
        time.sleep(float(data["sleep"]))
    if attempt < int(data.get("fail_until", 0)):
        raise DependencyUnavailable(f"attempt {attempt} fails on purpose")
    if data.get("fail") == "permanent" and attempt == 1:
        raise PermanentFailure("refused on purpose")
    if data.get("fail") == "always":
        raise DependencyUnavailable("always fails")
    _record("done", key, attempt)


def build_registry() -> JobRegistry:
    """Every job type but image_processing, so the tests see a type without a handler.

    jobs_purge runs the real handler on the worker's database.
    """
    registry = JobRegistry()
    for job_type in JobType:
        if job_type not in (JobType.IMAGE_PROCESSING, JobType.JOBS_PURGE):
            registry.register(job_type, scripted)
    clock = SystemClock()
    ledger = SqlJobLedger(make_engine(os.environ["DATABASE_URL"]), clock)
    registry.register_command(PurgeJobs, jobs_purge_handler(ledger, clock))
    return registry
