"""A claimed job as Dramatiq sees it: the message, the lease it was claimed under, its data.

Jobs show in logs only as their type and id: their data holds e-mail addresses and
password-reset nonces.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dramatiq.broker import MessageProxy
from dramatiq.message import Message

#: Errors kept per job; the oldest go first.
MAX_ERRORS_KEPT = 50
MAX_ERROR_TEXT = 4000


def describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class JobData(dict[str, Any]):
    """A job's data as its handler gets it; its repr hides the content.

    Dramatiq's actors log every call's arguments at DEBUG ("Received args=..."): the data
    holds e-mail addresses and password-reset nonces, which stay out of the logs.
    """

    def __repr__(self) -> str:
        return f"<job data, {len(self)} fields>"


class JobMessage(MessageProxy):
    """A claimed job: the Dramatiq message plus the lease it was claimed under."""

    def __init__(
        self,
        message: Message[Any],
        *,
        job_id: uuid.UUID,
        attempt: int,
        max_attempts: int | None,
        lease_owner: str,
        errors: list[dict[str, Any]],
    ) -> None:
        super().__init__(message)
        # Read on every step of the worker: plain attributes spare MessageProxy.__getattr__.
        self.queue_name = message.queue_name
        self.actor_name = message.actor_name
        self.message_id = message.message_id
        self.options = message.options
        self.args = message.args
        self.kwargs = message.kwargs
        self.job_id = job_id
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.lease_owner = lease_owner
        self.errors = errors
        self.errors_changed = False
        self.started = False
        self.finished = False  # the actor has returned: nothing left but writing the outcome
        self.lease_until = 0.0  # time.monotonic() when the last lease written runs out
        self.error: str | None = None
        self.error_detail: str | None = None
        self.retry_in: timedelta | None = None
        self.gave_up = False

    @property
    def data(self) -> Any:
        return self._message.args[0] if self._message.args else {}

    # Dramatiq logs messages with %s ("Failed to process message ..."): the payload holds
    # e-mail addresses and reset nonces, so a job shows only as its type and id.
    def __str__(self) -> str:
        return f"{self.actor_name}({self.job_id})"

    def __repr__(self) -> str:
        return f"<JobMessage {self}>"

    def stuff_exception(self, exception: BaseException) -> None:
        super().stuff_exception(exception)
        if self.error is None:
            self.error = describe(exception)

    def record_error(self, attempt: int, at: datetime, error: str, worker: str | None) -> None:
        entry: dict[str, Any] = {
            "attempt": attempt,
            "at": at.isoformat(),
            "error": error[:MAX_ERROR_TEXT],
            "worker": worker,
        }
        self.errors = [*self.errors, entry][-MAX_ERRORS_KEPT:]
        self.errors_changed = True


def job_payload(message: Message[Any]) -> dict[str, Any]:
    """The `data` of the job a message stands for: its one argument, a JSON object."""
    if message.kwargs or len(message.args) != 1 or not isinstance(message.args[0], Mapping):
        raise ValueError("a job message carries exactly one argument, a dict (the job's data)")
    return dict(message.args[0])


__all__ = ["MAX_ERRORS_KEPT", "JobData", "JobMessage", "describe", "job_payload"]
