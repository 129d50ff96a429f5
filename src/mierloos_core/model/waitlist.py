"""The waiting list of a sold-out performance: its entries and the rule that picks who is offered.

An entry asks for `quantity` seats (optionally in one price category). When seats come back,
`pick_entries` walks the waiting entries oldest first and gives each entry that fits the seats
still unoffered: an entry that needs more seats than are left is skipped (it keeps its place)
and a smaller entry further down may be offered those seats instead.

    waiting --offer--> offered --paid--> converted
       |                  +--expired/declined--> expired (the seats go to the next entry)
       +--leave--> left      +--staff remove--> removed
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

import attrs

from mierloos_core.model.ids import new_id
from mierloos_core.model.timeutil import require_aware


class EntryStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CONVERTED = "converted"
    REMOVED = "removed"
    LEFT = "left"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        """Still on the list: waiting, or holding an offer."""
        return self in (EntryStatus.WAITING, EntryStatus.OFFERED)


@attrs.define(kw_only=True)
class Waitlist:
    """A performance's list: whether it takes entries, and the seats held for it.

    `held` seats came back while entries were waiting: they are out of the public's
    `available_seats` until the offer job hands them to entries (or back to the public).
    """

    performance_id: uuid.UUID
    enabled: bool = True
    held: int = 0


@attrs.define(kw_only=True)
class WaitlistEntry:
    performance_id: uuid.UUID
    email: str
    quantity: int
    created_at: datetime = attrs.field(validator=require_aware)
    token_hash: str = attrs.field(repr=False)
    category_id: uuid.UUID | None = None
    language: str = "nl"
    status: EntryStatus = EntryStatus.WAITING
    offer_order_id: uuid.UUID | None = None
    offered_at: datetime | None = attrs.field(default=None, validator=require_aware)
    id: uuid.UUID = attrs.field(factory=new_id)

    def offer(self, order_id: uuid.UUID, now: datetime) -> None:
        if self.status is not EntryStatus.WAITING:
            raise ValueError("only a waiting entry can be offered seats")
        self.status = EntryStatus.OFFERED
        self.offer_order_id = order_id
        self.offered_at = now

    def close(self, status: EntryStatus) -> bool:
        """Leave the list as `status`; False when it had left it already."""
        if not self.status.is_open:
            return False
        self.status = status
        return True


def queue_order(entries: Iterable[WaitlistEntry]) -> list[WaitlistEntry]:
    """Oldest first (ties by id, so every reader agrees)."""
    return sorted(entries, key=lambda e: (e.created_at, str(e.id)))


def pick_entries(
    waiting: Iterable[WaitlistEntry],
    seats: int,
    fits: Callable[[WaitlistEntry], bool] = lambda entry: True,
) -> list[WaitlistEntry]:
    """The entries offered `seats` seats: oldest first, each that fits what is left.

    `fits` adds a rule of its own (its price category still has the seats); it is asked only
    of entries whose quantity fits, and must count what earlier picks took.
    """
    picked: list[WaitlistEntry] = []
    for entry in queue_order(waiting):
        if entry.status is EntryStatus.WAITING and entry.quantity <= seats and fits(entry):
            picked.append(entry)
            seats -= entry.quantity
    return picked


def position(entries: Iterable[WaitlistEntry], entry_id: uuid.UUID) -> int | None:
    """1 for the oldest waiting entry; None when the entry is not waiting."""
    waiting = [e for e in queue_order(entries) if e.status is EntryStatus.WAITING]
    for number, entry in enumerate(waiting, start=1):
        if entry.id == entry_id:
            return number
    return None
