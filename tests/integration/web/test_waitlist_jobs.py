"""The worker's handlers hand an expired waiting-list offer on: the cleanup job expires it, the
offer job it queued offers the seats to the next entry, and the e-mail job mails the link."""

from __future__ import annotations

import email
from datetime import timedelta
from email.message import Message

from sqlalchemy import update
from starlette.testclient import TestClient

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.jobs import JobStatus, JobType
from mierloos_core.services.jobs import JobRegistry
from mierloos_entrypoints.container import register_job_handlers
from tests.integration.web.test_web_waitlist import SLUG, join, offer_secret, sell_out
from tests.integration.web.web_support import Site


def run_queued(site: Site, registry: JobRegistry, job_type: JobType) -> int:
    """Run the pending jobs of a type as the worker would, marking them done; how many ran."""
    ran = 0
    for job in site.jobs(job_type.value):
        if job.status is not JobStatus.PENDING:
            continue
        registry.run(job.type, job.data)
        with site.container.engine().begin() as connection:
            done = update(t.jobs).where(t.jobs.c.id == job.id).values(status="completed")
            connection.execute(done)
        ran += 1
    return ran


def outbox(site: Site) -> list[Message]:
    folder = site.container.settings().outbox_dir
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def body(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_an_expired_offer_is_handed_on_by_the_jobs(site: Site, client: TestClient) -> None:
    registry = JobRegistry()
    register_job_handlers(registry, site.container)
    performance = site.performances(SLUG)[0]
    order = sell_out(site, performance)
    join(site, client, performance, "eerste@example.nl")
    join(site, client, performance, "tweede@example.nl")

    site.clock.advance(timedelta(minutes=20))  # the unpaid order is past its hold
    registry.run(JobType.ORPHANED_ORDER_CLEANUP, {})
    assert run_queued(site, registry, JobType.WAITLIST_OFFER) == 1
    assert offer_secret(site, "eerste@example.nl")
    with site.container.uow() as uow:
        assert uow.orders.get(order).status.value == "expired"

    site.clock.advance(timedelta(hours=24, minutes=1))  # the offer is past its hold
    assert registry.run(JobType.ORPHANED_ORDER_CLEANUP, {}) == {"closed": 1}
    assert run_queued(site, registry, JobType.WAITLIST_OFFER) == 1
    second_offer = offer_secret(site, "tweede@example.nl")
    assert run_queued(site, registry, JobType.EMAIL) >= 3

    offers = [m for m in outbox(site) if "vrijgekomen" in str(m["Subject"])]
    assert [m["To"] for m in offers] == ["eerste@example.nl", "tweede@example.nl"]
    assert f"/wachtlijst/aanbod/{second_offer}" in body(offers[1])
    joined = [m for m in outbox(site) if "wachtlijst" in str(m["Subject"])]
    assert len(joined) == 2
    assert "/wachtlijst/" in body(joined[0])
    with site.container.uow() as uow:
        statuses = {e.email: e.status.value for e in uow.waitlists.entries(performance.id)}
    assert statuses == {"eerste@example.nl": "expired", "tweede@example.nl": "offered"}
