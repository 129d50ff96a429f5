"""The composition root registers a core service for every job type the system enqueues."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from mierloos_core import errors
from mierloos_core.model.jobs import JobType
from mierloos_core.services.jobs import JobRegistry, is_retryable
from mierloos_entrypoints.container import build_container, register_job_handlers
from tests.integration.web.web_support import migrated_database, settings_for


@pytest.fixture
def registry(tmp_path: Path) -> JobRegistry:
    migrated = migrated_database(tmp_path)
    # Off loopback the fake provider is refused; these tests only need some gateway.
    settings = attrs.evolve(settings_for(tmp_path), fake_payments=True)
    migrated.rename(tmp_path / "mierloos.db")
    registry = JobRegistry()
    register_job_handlers(registry, build_container(settings))
    return registry


def test_every_job_type_has_a_handler(registry: JobRegistry) -> None:
    assert registry.job_types == {job_type.value for job_type in JobType}


@pytest.mark.parametrize(
    ("job_type", "payload"),
    [
        (JobType.PAYMENT_CREATION, {}),
        (JobType.PAYMENT_CREATION, {"order_id": "not-a-uuid"}),
        (JobType.PAYMENT_WEBHOOK, {"provider_payment_id": 12}),
        (JobType.PDF_GENERATION, {"order_id": ""}),
        (JobType.IMAGE_PROCESSING, {}),
    ],
)
def test_a_malformed_payload_fails_without_retrying(
    registry: JobRegistry, job_type: JobType, payload: dict[str, object]
) -> None:
    with pytest.raises(errors.MierloosError) as raised:
        registry.run(job_type, payload)
    assert not is_retryable(raised.value)


def test_the_cleanup_reports_how_many_orders_it_closed(registry: JobRegistry) -> None:
    assert registry.run(JobType.ORPHANED_ORDER_CLEANUP, {}) == {"closed": 0}
