"""The waiting list of sold-out performances: joining, leaving, offers, and staff's view.

How seats reach the list: see `waitlist_seats` (the hook every release of seats goes through).
The offer job (`Waitlists.offer_held_seats`) takes the performance's lock, walks the waiting
entries oldest first and offers each entry that fits the seats held for the list plus any the
public left (`model.waitlist.pick_entries`): an offer is a pending order holding those seats
until `offer_hours` later (never past the start), paid through the normal payment flow from
the offer link (the order's secret). Seats no waiting entry fits go back to the public.
An offer that expires or is declined closes its order through `order_lifecycle.close_order`,
which gives its seats back, so they pass on to the next entry.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

import attrs

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, Show, UnavailableReason
from mierloos_core.model.commands import SendEmail
from mierloos_core.model.ids import new_secret
from mierloos_core.model.orders import Order, OrderStatus, Ticket, supported_language
from mierloos_core.model.price_categories import PriceCategory, default_category
from mierloos_core.model.waitlist import (
    EntryStatus,
    WaitlistEntry,
    pick_entries,
    position,
)
from mierloos_core.ports import UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.cart import MAX_TICKETS_PER_LINE
from mierloos_core.services.checkout import clean_email, clean_name
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.order_lifecycle import (
    close_order,
    get_performance,
    hold,
    lock_order_if_any,
)
from mierloos_core.services.seat_holds import SeatRequest

OFFER_HOURS = 24


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.frozen(kw_only=True)
class WaitlistPolicy:
    offer_hours: float = OFFER_HOURS
    max_quantity: int = MAX_TICKETS_PER_LINE


@attrs.frozen(kw_only=True)
class JoinRequest:
    performance_id: uuid.UUID
    email: str
    quantity: int
    category_id: uuid.UUID | None = None
    language: str = "nl"


@attrs.frozen(kw_only=True)
class Joined:
    entry: WaitlistEntry
    token: str  # the personal link's secret; only its hash is stored
    position: int
    updated: bool  # the e-mail was on the list already: its entry changed, its place kept


@attrs.frozen(kw_only=True)
class EntryView:
    entry: WaitlistEntry
    performance: Performance
    show: Show
    offer: Order | None
    position: int | None = None  # its place in the list, on the visitor's own page
    category: PriceCategory | None = None


@attrs.frozen(kw_only=True)
class StaffRow:
    entry: WaitlistEntry
    position: int | None
    order: Order | None


@attrs.frozen(kw_only=True)
class StaffList:
    performance: Performance
    show: Show
    enabled: bool
    held: int
    rows: tuple[StaffRow, ...]

    @property
    def waiting(self) -> int:
        return sum(1 for row in self.rows if row.entry.status is EntryStatus.WAITING)

    @property
    def offers_out(self) -> int:
        return sum(1 for row in self.rows if row.entry.status is EntryStatus.OFFERED)

    @property
    def conversions(self) -> int:
        return sum(1 for row in self.rows if row.entry.status is EntryStatus.CONVERTED)


@attrs.define(eq=False)
class Waitlists(Service):
    policy: WaitlistPolicy = WaitlistPolicy()

    # --- visitors ----------------------------------------------------------------------------

    def join(self, request: JoinRequest) -> Joined:
        """Put an e-mail on a sold-out performance's list, or change its entry (same place)."""
        email = clean_email(request.email).lower()
        if not 1 <= request.quantity <= self.policy.max_quantity:
            raise errors.InvalidQuantity()
        now = self.clock.now()
        token = new_secret()
        with self.uow() as uow:
            performance = get_performance(uow, request.performance_id, lock=True)
            if performance.unavailable_reason(now) in _GONE:
                raise errors.PerformanceUnavailable(performance_id=str(performance.id))
            if not uow.waitlists.get(performance.id).enabled:
                raise errors.WaitlistClosed()
            category = _chosen_category(uow, performance, request.category_id)
            if not _sold_out(performance, category):
                raise errors.NotSoldOut(performance_id=str(performance.id))
            entry = uow.waitlists.find(performance.id, email)
            updated = entry is not None and entry.status is EntryStatus.WAITING
            if entry is not None and entry.status is EntryStatus.OFFERED:
                raise errors.OfferUsed(
                    "Je hebt al een aanbod van deze wachtlijst: kijk in je e-mail."
                )
            if entry is None:
                entry = WaitlistEntry(
                    performance_id=performance.id,
                    email=email,
                    quantity=1,
                    created_at=now,
                    token_hash="",
                )
                uow.waitlists.add(entry)
            elif not updated:  # left, removed, expired or converted before: a new place
                entry.created_at, entry.offer_order_id, entry.offered_at = now, None, None
            entry.status = EntryStatus.WAITING
            entry.quantity = request.quantity
            entry.category_id = request.category_id
            entry.language = supported_language(request.language)
            entry.token_hash = hash_token(token)
            uow.waitlists.update(entry)
            place = position(uow.waitlists.entries(performance.id), entry.id) or 0
            enqueue(uow, _joined_mail(uow, entry, performance, token, place))
            uow.commit()
        return Joined(entry=entry, token=token, position=place, updated=updated)

    def view(self, token: str) -> EntryView:
        """The entry behind a personal link; NotFound for an unknown link."""
        with self.uow() as uow:
            entry = _by_token(uow, token)
            category_id, offer_id = entry.category_id, entry.offer_order_id
            return attrs.evolve(
                _entry_view(uow, entry, uow.orders.get(offer_id) if offer_id else None),
                position=position(uow.waitlists.entries(entry.performance_id), entry.id),
                category=uow.price_categories.get(category_id) if category_id else None,
            )

    def leave(self, token: str) -> None:
        """The visitor leaves the list; an offer they hold is declined (its seats pass on)."""
        with self.uow() as uow:
            entry = _by_token(uow, token)
        self._withdraw(entry.id, EntryStatus.LEFT)

    def offer(self, order_secret: str) -> tuple[Order, EntryView]:
        """The offer behind an offer link, still open; OfferGone or OfferUsed otherwise."""
        with self.uow() as uow:
            order = uow.orders.get_by_secret(order_secret)
            entry = uow.waitlists.by_offer_order(order.id) if order else None
            if order is None or entry is None:
                raise errors.NotFound()
            _check_open(order, self.clock.now())
            view = _entry_view(uow, entry, order)
        return order, view

    def accept(self, order_secret: str, name: str) -> uuid.UUID:
        """The visitor takes the offer: the order gets their name; pay it next (`Ordering.pay`)."""
        name = clean_name(name)
        order, _ = self.offer(order_secret)
        with self.uow() as uow:
            locked = lock_order_if_any(uow, order.id)
            assert locked is not None
            _check_open(locked, self.clock.now())
            locked.name = name
            uow.orders.update(locked)
            uow.commit()
        return order.id

    # --- the offer job -----------------------------------------------------------------------

    def offer_held_seats(self, performance_id: uuid.UUID) -> dict[str, int]:
        """Offer the seats held for the list to the entries that fit, oldest first; what no
        entry fits goes back to the public. Idempotent: a second run finds nothing held."""
        now = self.clock.now()
        with self.uow() as uow:
            performance = uow.performances.get(performance_id, for_update=True)
            if performance is None:
                return {"offered": 0, "returned": 0}
            waitlist = uow.waitlists.get(performance_id)
            held = waitlist.held
            offered = 0
            if waitlist.enabled and performance.unavailable_reason(now) not in _GONE:
                chosen = self._choose(uow, performance, held)
                for entry, category in chosen:
                    held -= self._give_offer(uow, performance, entry, category, held, now)
                offered = len(chosen)
            if held:
                uow.waitlists.unhold(performance_id, held)
            uow.commit()
        return {"offered": offered, "returned": held}

    def _choose(
        self, uow: UnitOfWork, performance: Performance, held: int
    ) -> list[tuple[WaitlistEntry, PriceCategory]]:
        categories = uow.price_categories.for_performance(performance.id)
        by_id = {c.id: c for c in categories}
        fallback = default_category(categories)
        left = {c.id: c.available for c in categories}
        picked_category: dict[uuid.UUID, PriceCategory] = {}

        def fits(entry: WaitlistEntry) -> bool:
            category = by_id.get(entry.category_id) if entry.category_id else fallback
            if category is None or not category.public:
                return False
            # Locked, and read again: a visitor may have left meanwhile.
            locked = uow.waitlists.get_entry(entry.id, for_update=True)
            if locked is None or locked.status is not EntryStatus.WAITING:
                return False
            seats_left = left[category.id]
            if seats_left is not None:
                if seats_left < entry.quantity:
                    return False
                left[category.id] = seats_left - entry.quantity
            picked_category[entry.id] = category
            return True

        waiting = uow.waitlists.entries(performance.id)
        picked = pick_entries(waiting, held + performance.available_seats, fits)
        return [(entry, picked_category[entry.id]) for entry in picked]

    def _give_offer(
        self,
        uow: UnitOfWork,
        performance: Performance,
        entry: WaitlistEntry,
        category: PriceCategory,
        held: int,
        now: datetime,
    ) -> int:
        """Hold the entry's seats in a pending order and mail the offer; returns the held
        seats it used (the rest came from the public's)."""
        used = min(held, entry.quantity)
        if used:
            uow.waitlists.unhold(performance.id, used)
        expires = min(now + timedelta(hours=self.policy.offer_hours), performance.starts_at)
        order = Order(
            email=entry.email,
            name="",
            subtotal=category.price * entry.quantity,
            discount=category.price * 0,
            created_at=now,
            expires_at=expires,
            language=entry.language,
        )
        order.tickets = [
            Ticket(
                order_id=order.id,
                performance_id=performance.id,
                category_id=category.id,
                category_name=category.name(entry.language),
                price=category.price,
            )
            for _ in range(entry.quantity)
        ]
        uow.orders.add(order)
        # Reserved seating: the best seats left, single ones when none lie side by side.
        hold(uow, order, None, SeatRequest(split_when_needed=True))
        locked = uow.waitlists.get_entry(entry.id, for_update=True)
        assert locked is not None
        locked.offer(order.id, now)
        uow.waitlists.update(locked)
        enqueue(
            uow,
            SendEmail(
                template="waitlist_offer",
                to=entry.email,
                locale=entry.language,
                order_id=order.id,
                once_key=str(order.id),
            ),
        )
        return used

    # --- staff -------------------------------------------------------------------------------

    def staff_list(self, performance_id: uuid.UUID) -> StaffList:
        with self.uow() as uow:
            performance = get_performance(uow, performance_id)
            show = uow.shows.get(performance.show_id)
            assert show is not None
            waitlist = uow.waitlists.get(performance_id)
            entries = uow.waitlists.entries(performance_id)
            orders = {
                e.offer_order_id: uow.orders.get(e.offer_order_id)
                for e in entries
                if e.offer_order_id
            }
            rows = tuple(
                StaffRow(
                    entry=e,
                    position=position(entries, e.id),
                    order=orders.get(e.offer_order_id) if e.offer_order_id else None,
                )
                for e in entries
            )
        return StaffList(
            performance=performance,
            show=show,
            enabled=waitlist.enabled,
            held=waitlist.held,
            rows=rows,
        )

    def remove(self, performance_id: uuid.UUID, entry_id: uuid.UUID) -> None:
        with self.uow() as uow:
            entry = uow.waitlists.get_entry(entry_id)
        if entry is None or entry.performance_id != performance_id:
            raise errors.NotFound()
        self._withdraw(entry_id, EntryStatus.REMOVED)

    def offer_by_hand(self, performance_id: uuid.UUID, entry_id: uuid.UUID) -> None:
        """Staff offer one waiting entry seats now, out of turn; NotEnoughSeats when the
        seats held for the list and those on sale do not cover it."""
        now = self.clock.now()
        with self.uow() as uow:
            performance = get_performance(uow, performance_id, lock=True)
            entry = uow.waitlists.get_entry(entry_id, for_update=True)
            if entry is None or entry.performance_id != performance_id:
                raise errors.NotFound()
            if entry.status is not EntryStatus.WAITING:
                raise errors.InvalidTransition(
                    "Alleen een wachtende inschrijving kan een aanbod krijgen."
                )
            if performance.unavailable_reason(now) in _GONE:
                raise errors.PerformanceUnavailable(performance_id=str(performance_id))
            held = uow.waitlists.get(performance_id).held
            category = _chosen_category(uow, performance, entry.category_id)
            if category is None:
                category = default_category(uow.price_categories.for_performance(performance_id))
            supply = held + performance.available_seats
            if (
                category is None
                or supply < entry.quantity
                or not category.has_seats(entry.quantity)
            ):
                raise errors.NotEnoughSeats(performance_id=str(performance_id))
            self._give_offer(uow, performance, entry, category, held, now)
            uow.commit()

    def set_enabled(self, performance_id: uuid.UUID, enabled: bool) -> None:
        """Turn the list on or off; off, the seats held for it go back on sale (offers out
        stay until they are used or expire)."""
        with self.uow() as uow:
            get_performance(uow, performance_id, lock=True)
            uow.waitlists.set_enabled(performance_id, enabled)
            held = uow.waitlists.get(performance_id).held
            if not enabled and held:
                uow.waitlists.unhold(performance_id, held)
            uow.commit()

    def _withdraw(self, entry_id: uuid.UUID, status: EntryStatus) -> None:
        """Take an entry off the list as `status`, declining its open offer: the order is
        locked first and closed (its seats pass on), then the entry (the lock order)."""
        now = self.clock.now()
        with self.uow() as uow:
            entry = uow.waitlists.get_entry(entry_id)
            assert entry is not None
            if entry.offer_order_id is not None and entry.status is EntryStatus.OFFERED:
                order = lock_order_if_any(uow, entry.offer_order_id)
                if order is not None and order.status is OrderStatus.PENDING:
                    close_order(uow, order, OrderStatus.CANCELLED, now)
            locked = uow.waitlists.get_entry(entry_id, for_update=True)
            assert locked is not None
            if locked.status in (EntryStatus.WAITING, EntryStatus.OFFERED, EntryStatus.EXPIRED):
                locked.status = status
                uow.waitlists.update(locked)
            uow.commit()


# Reasons no list is served: the performance cannot be sold at all any more.
_GONE = frozenset(
    {
        UnavailableReason.PAST,
        UnavailableReason.NOT_PUBLISHED,
        UnavailableReason.CANCELLED,
    }
)


def _entry_view(uow: UnitOfWork, entry: WaitlistEntry, offer: Order | None) -> EntryView:
    """The entry with its performance and show, inside an open `uow`."""
    performance = get_performance(uow, entry.performance_id)
    show = uow.shows.get(performance.show_id)
    assert show is not None
    return EntryView(entry=entry, performance=performance, show=show, offer=offer)


def _by_token(uow: UnitOfWork, token: str) -> WaitlistEntry:
    digest = hash_token(token)
    entry = uow.waitlists.by_token_hash(digest)
    if entry is None or not hmac.compare_digest(entry.token_hash, digest):
        raise errors.NotFound()
    return entry


def _chosen_category(
    uow: UnitOfWork, performance: Performance, category_id: uuid.UUID | None
) -> PriceCategory | None:
    if category_id is None:
        return None
    category = uow.price_categories.get(category_id)
    if category is None or category.performance_id != performance.id:
        raise errors.UnknownPriceCategory(category_id=str(category_id))
    if not category.public:
        raise errors.PriceCategoryNotForSale(category_id=str(category_id))
    return category


def _sold_out(performance: Performance, category: PriceCategory | None) -> bool:
    """No seat to buy: the performance has none left, or the chosen category none."""
    if performance.available_seats == 0:
        return True
    return category is not None and category.seats_left(performance.available_seats) == 0


def _check_open(order: Order, now: datetime) -> None:
    if order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
        raise errors.OfferUsed()
    if order.status is not OrderStatus.PENDING or order.is_overdue(now):
        raise errors.OfferGone()


def _joined_mail(
    uow: UnitOfWork, entry: WaitlistEntry, performance: Performance, token: str, place: int
) -> SendEmail:
    show = uow.shows.get(performance.show_id)
    return SendEmail(
        template="waitlist_joined",
        to=entry.email,
        locale=entry.language,
        context={
            "show": show.title if show else "",
            "date": performance.starts_at.isoformat(),
            "quantity": entry.quantity,
            "position": place,
            "waitlist_token": token,
        },
    )
