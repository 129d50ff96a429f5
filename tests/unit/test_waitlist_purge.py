"""The scheduled `waitlist_purge` job: a performance's waiting list is forgotten, e-mail
addresses and all, once the performance is past the retention."""

from __future__ import annotations

from datetime import timedelta

from mierloos_adapters.memory import FixedClock, MemoryUnitOfWork
from mierloos_core.model.catalog import Performance
from mierloos_core.model.commands import PurgeWaitlists
from mierloos_core.model.waitlist import EntryStatus, WaitlistEntry
from mierloos_core.services.jobs import JobRegistry
from mierloos_core.services.retention import waitlist_purge_handler
from tests.catalog_builders import CatalogBuilder


def join(uow: MemoryUnitOfWork, performance: Performance, email: str, clock: FixedClock) -> None:
    with MemoryUnitOfWork(uow.store, clock) as work:
        work.waitlists.add(
            WaitlistEntry(
                performance_id=performance.id,
                email=email,
                quantity=1,
                created_at=clock.now(),
                token_hash=f"hash-{email}",
                status=EntryStatus.CONVERTED if "bought" in email else EntryStatus.WAITING,
            )
        )
        work.commit()


def emails(uow: MemoryUnitOfWork, performance: Performance, clock: FixedClock) -> list[str]:
    with MemoryUnitOfWork(uow.store, clock) as work:
        return [entry.email for entry in work.waitlists.entries(performance.id)]


def test_lists_go_once_their_performance_is_past_the_retention_and_others_stay(
    uow: MemoryUnitOfWork, catalog: CatalogBuilder, clock: FixedClock
) -> None:
    long_ago = catalog.performance(starts_in=-timedelta(days=31))
    lately = catalog.performance(starts_in=-timedelta(days=29))
    coming = catalog.performance(starts_in=timedelta(days=3))
    for performance in (long_ago, lately, coming):
        join(uow, performance, f"waits-{performance.id}@example.nl", clock)
    join(uow, long_ago, "bought@example.nl", clock)
    registry = JobRegistry()
    registry.register_command(
        PurgeWaitlists, waitlist_purge_handler(lambda: MemoryUnitOfWork(uow.store, clock), clock)
    )

    result = registry.run("waitlist_purge", PurgeWaitlists(older_than_days=30).to_payload())

    assert result == {"deleted": 2}
    assert emails(uow, long_ago, clock) == []
    assert emails(uow, lately, clock) == [f"waits-{lately.id}@example.nl"]
    assert emails(uow, coming, clock) == [f"waits-{coming.id}@example.nl"]

    clock.advance(timedelta(days=2))
    assert registry.run("waitlist_purge", {"older_than_days": 30}) == {"deleted": 1}
    assert emails(uow, lately, clock) == []
