"""Job handlers: one callable per job type, registered by the composition root; and `enqueue`.

Services queue a job by enqueueing its command (`mierloos_core.model.commands`). The worker (a
Dramatiq actor per job type) calls `JobRegistry.run(job_type, data)`, which reads the command
from the payload once and hands it to the handler registered for its type
(`register_command`); a payload that cannot be read fails the job for good. This module knows
nothing about Dramatiq or the database. Whether a failure is worth another attempt is decided
here too (`is_retryable`), so the policy lives in the core:

- `DoNotRetry` (and its subclasses `UnknownJobType`, `InvalidJobPayload`), the domain's
  `PermanentFailure` and `ValidationError`: the job fails at once.
- Anything else (`DependencyUnavailable`, `Busy`, a bug, a time limit): the job is retried
  with the `RetryPolicy` of `mierloos_core.model.jobs` until its attempts run out.

Handlers must be idempotent: delivery is at least once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from mierloos_core.errors import MierloosError, PermanentFailure, ValidationError
from mierloos_core.model.commands import Command, PurgeJobs
from mierloos_core.model.jobs import JOB_PRIORITIES
from mierloos_core.ports import Clock, JobLedger, NewJob, UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Mapping[str, Any]], object]
"""Runs one job from its JSON payload. Raise to fail the attempt (`register_command` makes
one from a handler of commands)."""

GiveUpHook = Callable[[Mapping[str, Any], str], None]
"""Called once a job is `failed` for good, with its payload and the last error."""

C = TypeVar("C", bound=Command)


def enqueue(uow: UnitOfWork, command: Command, *, run_at: datetime | None = None) -> uuid.UUID:
    """Queue `command` in the open unit of work (at its type's priority, `JOB_PRIORITIES`);
    with its dedupe key present, that job's id."""
    return uow.jobs.enqueue(
        NewJob(
            command.job_type,
            command.to_payload(),
            priority=JOB_PRIORITIES.get(command.job_type, 0),
            run_at=run_at,
            dedupe_key=command.dedupe_key,
        )
    )


def skip_waiting(uow: UnitOfWork, command: Command, reason: str) -> bool:
    """Complete `command`'s job unrun while it still waits, because `reason` made it moot
    (`JobQueue.skip_pending`); False when it has no such job or the job has started."""
    key = command.dedupe_key
    return key is not None and uow.jobs.skip_pending(key, reason)


class DoNotRetry(MierloosError):
    """The job cannot succeed however often it runs: mark it failed at once."""

    code = "job_not_retryable"
    message = "Deze taak kan niet worden uitgevoerd."


class UnknownJobType(DoNotRetry):
    code = "unknown_job_type"
    message = "Onbekend soort taak."


class InvalidJobPayload(DoNotRetry):
    code = "invalid_job_payload"
    message = "De gegevens van deze taak zijn ongeldig."


_PERMANENT: tuple[type[BaseException], ...] = (DoNotRetry, PermanentFailure, ValidationError)


def is_retryable(error: BaseException) -> bool:
    """Whether another attempt may succeed where this one raised `error`."""
    return not isinstance(error, _PERMANENT)


@attrs.frozen
class _Registration:
    handler: Handler
    on_give_up: GiveUpHook | None


class JobRegistry:
    """Job type -> handler. Filled by the composition root, used by the worker's actors.

    Services' handlers take their command (`register_command`); `register` takes a handler of
    the raw payload, for test doubles and tools that read no command.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, _Registration] = {}

    def register(
        self, job_type: str, handler: Handler, *, on_give_up: GiveUpHook | None = None
    ) -> None:
        """Handle `job_type` with `handler`, which gets the payload as stored (for handlers that
        read no command, such as test doubles); registering a type twice replaces the first."""
        if not job_type:
            raise ValueError("a job type is a non-empty string")
        self._handlers[str(job_type)] = _Registration(handler, on_give_up)

    def register_command(
        self,
        command: type[C],
        handler: Callable[[C], object],
        *,
        on_give_up: Callable[[C, str], None] | None = None,
    ) -> None:
        """Handle the jobs of `command`'s type with `handler`, which gets the command read
        from the payload (a payload that cannot be read fails the job for good)."""

        def run(data: Mapping[str, Any]) -> object:
            return handler(command.from_payload(data))

        def gave_up(data: Mapping[str, Any], reason: str) -> None:
            assert on_give_up is not None
            try:
                parsed = command.from_payload(data)
            except PermanentFailure:
                return  # nothing to follow up: the job never named anything it could act on
            on_give_up(parsed, reason)

        self.register(command.job_type, run, on_give_up=gave_up if on_give_up else None)

    def handles(self, job_type: str) -> bool:
        return str(job_type) in self._handlers

    @property
    def job_types(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def run(self, job_type: str, data: object) -> object:
        """Run the handler of `job_type` on `data` (a JSON object) and return what it returns.

        Raises UnknownJobType or InvalidJobPayload (both DoNotRetry) before running anything.
        """
        registration = self._handlers.get(str(job_type))
        if registration is None:
            raise UnknownJobType(f"no handler for job type {job_type!r}")
        if not isinstance(data, Mapping) or not all(isinstance(key, str) for key in data):
            raise InvalidJobPayload(f"a {job_type} job needs a JSON object as payload")
        return registration.handler(data)

    def gave_up(self, job_type: str, data: object, reason: str) -> None:
        """Tell the job type's give-up hook (if any) that a job failed for good."""
        registration = self._handlers.get(str(job_type))
        if registration is None or registration.on_give_up is None:
            return
        if not isinstance(data, Mapping):
            return
        registration.on_give_up(data, reason)


def jobs_purge_handler(ledger: JobLedger, clock: Clock) -> Callable[[PurgeJobs], dict[str, int]]:
    """The `jobs_purge` handler: deletes the jobs completed more than N days ago.

    By the rule of `JobLedger.purge_completed`: the newest deduplicated job of each type stays.
    """

    def purge(command: PurgeJobs) -> dict[str, int]:
        cutoff = clock.now() - timedelta(days=command.older_than_days)
        return {"deleted": ledger.purge_completed(cutoff)}

    return purge
