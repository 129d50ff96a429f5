"""How long the theatre keeps what it no longer needs: the scheduled purges' handlers.

Completed jobs go `JOBS_RETENTION_DAYS` after they completed (`jobs_purge_handler` in
`services.jobs`, by the ledger's rule); waiting-list entries, each an e-mail address kept for
one performance, go `WAITLIST_RETENTION_DAYS` after that performance started, whatever became
of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from mierloos_core.model.commands import PurgeWaitlists
from mierloos_core.ports import Clock, UnitOfWork


def waitlist_purge_handler(
    uow: Callable[[], UnitOfWork], clock: Clock
) -> Callable[[PurgeWaitlists], dict[str, int]]:
    """The `waitlist_purge` handler: one transaction deleting the entries of old performances."""

    def purge(command: PurgeWaitlists) -> dict[str, int]:
        cutoff = clock.now() - timedelta(days=command.older_than_days)
        with uow() as work:
            deleted = work.waitlists.forget_started_before(cutoff)
            work.commit()
        return {"deleted": deleted}

    return purge
