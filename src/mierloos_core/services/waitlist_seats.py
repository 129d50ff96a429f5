"""Seats that come back, and the waiting list: the hook `order_lifecycle` calls.

When a published performance gets seats back (an order expires or is cancelled, tickets are
refunded, staff raise its capacity or a category's limit) while its waiting list has waiting
entries, the seats move from `available_seats` to the list (`WaitlistRepository.hold`) in the
same transaction, under the performance's lock, and an `OfferWaitlistSeats` job is queued
there too: the web shop never sees them before the list was served.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from mierloos_core.model.catalog import Performance, PerformanceStatus
from mierloos_core.model.commands import OfferWaitlistSeats, SendEmail
from mierloos_core.model.waitlist import EntryStatus
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.jobs import enqueue


def seats_returned(uow: UnitOfWork, seats: Mapping[uuid.UUID, int], source: str) -> None:
    """`seats` came back to their performances (0: only a category's); their rows are locked.

    Each performance whose list is on and has waiting entries keeps them for the list and gets
    an offer job (once per `source`, the release that freed them).
    """
    for performance_id in sorted(seats):
        waitlist = uow.waitlists.get(performance_id)
        if not waitlist.enabled or not uow.waitlists.has_waiting(performance_id):
            continue
        performance = uow.performances.get(performance_id)
        if performance is None or performance.status is not PerformanceStatus.PUBLISHED:
            continue
        if seats[performance_id] > 0:
            uow.waitlists.hold(performance_id, seats[performance_id])
        enqueue(uow, OfferWaitlistSeats(performance_id=performance_id, source=source))


def offer_closed(uow: UnitOfWork, order_id: uuid.UUID) -> bool:
    """An order closed unpaid: when it was a waiting-list offer, that entry's offer expired
    (its seats, just given back, go on to the next entry). True for an offer's order."""
    entry = uow.waitlists.by_offer_order(order_id, for_update=True)
    if entry is None:
        return False
    if entry.close(EntryStatus.EXPIRED):
        uow.waitlists.update(entry)
    return True


def offer_paid(uow: UnitOfWork, order_id: uuid.UUID) -> None:
    """An order was paid: when it was a waiting-list offer, that entry converted."""
    entry = uow.waitlists.by_offer_order(order_id, for_update=True)
    if entry is not None and entry.status is EntryStatus.OFFERED:
        entry.status = EntryStatus.CONVERTED
        uow.waitlists.update(entry)


def performance_cancelled(uow: UnitOfWork, performance: Performance) -> int:
    """The performance is being cancelled (its row and its orders are locked, the orders not
    closed yet): every entry still on the list leaves it and is told by mail, an offer's
    order then closing without a mail of its own; the seats held for the list go back.
    The number of entries told."""
    held = uow.waitlists.get(performance.id).held
    if held:
        uow.waitlists.unhold(performance.id, held)
    show = uow.shows.get(performance.show_id)
    told = 0
    for listed in uow.waitlists.entries(performance.id):
        if not listed.status.is_open:
            continue
        entry = uow.waitlists.get_entry(listed.id, for_update=True)
        if entry is None or not entry.close(EntryStatus.REMOVED):
            continue
        uow.waitlists.update(entry)
        mail = SendEmail(
            template="waitlist_cancelled",
            to=entry.email,
            locale=entry.language,
            context={"show": show.title if show else "", "date": performance.starts_at.isoformat()},
            once_key=str(entry.id),
        )
        enqueue(uow, mail)
        told += 1
    return told
