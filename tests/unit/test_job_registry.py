"""The core's job registry: dispatch by type, and which failures are worth another attempt."""

from __future__ import annotations

import pytest

from mierloos_core.errors import (
    Busy,
    DependencyUnavailable,
    InvalidEmail,
    PermanentFailure,
)
from mierloos_core.model.jobs import JobType
from mierloos_core.services.jobs import (
    DoNotRetry,
    InvalidJobPayload,
    JobRegistry,
    UnknownJobType,
    is_retryable,
)


def test_run_dispatches_to_the_handler_of_the_job_type():
    calls = []
    registry = JobRegistry()
    registry.register(JobType.EMAIL, lambda data: calls.append(("email", dict(data))) or "sent")
    registry.register(JobType.PDF_GENERATION, lambda data: calls.append(("pdf", dict(data))))

    assert registry.run("email", {"to": "a@example.nl"}) == "sent"
    registry.run(JobType.PDF_GENERATION, {"order_id": "1"})

    assert calls == [("email", {"to": "a@example.nl"}), ("pdf", {"order_id": "1"})]
    assert registry.handles("email")
    assert not registry.handles("image_processing")
    assert registry.job_types == {"email", "pdf_generation"}


def test_registering_a_type_again_replaces_its_handler():
    registry = JobRegistry()
    registry.register("email", lambda data: "first")
    registry.register("email", lambda data: "second")
    assert registry.run("email", {}) == "second"


def test_an_unknown_job_type_is_not_retryable():
    registry = JobRegistry()
    with pytest.raises(UnknownJobType) as raised:
        registry.run("teleport", {})
    assert isinstance(raised.value, DoNotRetry)
    assert not is_retryable(raised.value)


@pytest.mark.parametrize("payload", [["a", "list"], "text", None, {1: "non-string key"}])
def test_a_payload_that_is_not_a_json_object_is_refused_before_the_handler_runs(payload):
    calls = []
    registry = JobRegistry()
    registry.register("email", calls.append)
    with pytest.raises(InvalidJobPayload):
        registry.run("email", payload)
    assert calls == []


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (DependencyUnavailable(), True),
        (Busy(), True),
        (RuntimeError("bug"), True),
        (TimeoutError(), True),
        (PermanentFailure(), False),
        (InvalidEmail(), False),
        (DoNotRetry(), False),
        (InvalidJobPayload(), False),
    ],
)
def test_only_errors_that_another_attempt_may_fix_are_retried(error, retryable):
    assert is_retryable(error) is retryable


def test_the_give_up_hook_hears_of_jobs_failed_for_good():
    heard = []
    registry = JobRegistry()
    registry.register(
        "payment_creation", lambda data: None, on_give_up=lambda d, r: heard.append((dict(d), r))
    )
    registry.register("email", lambda data: None)

    registry.gave_up("payment_creation", {"order_id": "7"}, "provider down")
    registry.gave_up("email", {}, "smtp down")  # no hook: nothing happens
    registry.gave_up("unknown", {}, "whatever")

    assert heard == [({"order_id": "7"}, "provider down")]


def test_a_job_type_must_be_named():
    with pytest.raises(ValueError, match="job type"):
        JobRegistry().register("", lambda data: None)
