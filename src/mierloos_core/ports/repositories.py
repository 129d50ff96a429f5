"""The unit of work and its repositories: one transaction over everything the shop stores."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import attrs

from mierloos_core.model.accounts import PasswordResetToken, Role, User
from mierloos_core.model.catalog import Performance, Show
from mierloos_core.model.coupons import Coupon, CouponUsage
from mierloos_core.model.files import Image
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, PaymentMethod
from mierloos_core.model.pages import Page
from mierloos_core.model.payments import Payment, PaymentEvent, Refund
from mierloos_core.model.price_categories import CategoryTemplate, PriceCategory
from mierloos_core.model.sessions import LoginSession
from mierloos_core.model.waitlist import Waitlist, WaitlistEntry
from mierloos_core.ports.door import AdmissionRepository, DeviceTokenRepository
from mierloos_core.ports.jobs import JobQueue
from mierloos_core.ports.seating import SeatingRepository


class ShowRepository(Protocol):
    def add(self, show: Show) -> None: ...
    def get(self, show_id: uuid.UUID) -> Show | None: ...
    def get_by_slug(self, slug: str) -> Show | None: ...
    def list(self) -> list[Show]: ...
    def update(self, show: Show) -> None: ...


class PerformanceRepository(Protocol):
    def add(self, performance: Performance) -> None: ...
    def get(self, performance_id: uuid.UUID, *, for_update: bool = False) -> Performance | None:
        """With `for_update`, the row stays locked until the unit of work ends."""
        ...

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Performance]: ...
    def get_many_with_shows(
        self, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[Performance, Show]]:
        """Each performance found with its show, read together (one query where it can)."""
        ...

    def for_show(self, show_id: uuid.UUID) -> list[Performance]: ...
    def upcoming(self, after: datetime) -> list[Performance]:
        """Published performances starting after `after`, soonest first."""
        ...

    def update(self, performance: Performance) -> None:
        """Store everything but `available_seats`, which only SeatInventory changes."""
        ...

    def change_capacity(self, performance_id: uuid.UUID, capacity: int) -> bool:
        """Set the capacity and move `available_seats` by the same amount, atomically.

        False (and nothing changed) when fewer seats than are taken (held or sold) remain, or
        the performance does not exist. One conditional update: a concurrent checkout either
        took its seats before (and counts) or finds the new number of seats after.
        """
        ...


class PriceCategoryRepository(Protocol):
    """The price categories of performances, and the default set of each show."""

    def add(self, category: PriceCategory) -> None: ...
    def get(self, category_id: uuid.UUID, *, for_update: bool = False) -> PriceCategory | None:
        """With `for_update`, the row stays locked until the unit of work ends."""
        ...

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PriceCategory]: ...
    def for_performance(self, performance_id: uuid.UUID) -> list[PriceCategory]:
        """The performance's categories by position."""
        ...

    def for_performances(
        self, performance_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[PriceCategory]]:
        """Each performance's categories by position (an empty list for one without)."""
        ...

    def update(self, category: PriceCategory) -> None:
        """Store everything but `limit` and `available`, which only `change_limit` and the seat
        inventory change."""
        ...

    def change_limit(self, category_id: uuid.UUID, limit: int | None) -> bool:
        """Set the category's own limit (None: none), its seats left moving with it.

        False (and nothing changed) when its tickets hold more seats than `limit`, or there is
        no such category. Call with the performance locked (see `order_lifecycle`): a checkout
        for it then either counted before or meets the new limit after.
        """
        ...

    def templates(self, show_id: uuid.UUID) -> list[CategoryTemplate]:
        """The show's default set, by position."""
        ...

    def replace_templates(self, show_id: uuid.UUID, templates: Sequence[CategoryTemplate]) -> None:
        """Make `templates` the show's default set (performances already made keep theirs)."""
        ...


class SeatInventory(Protocol):
    def reserve(self, seats: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, uuid.UUID]:
        """Take the seats of every performance, or none: raises NotEnoughSeats.

        Only published performances give seats (PerformanceUnavailable otherwise), checked in
        the same atomic step, so a performance cancelled meanwhile sells nothing.
        Performances are taken in sorted id order so concurrent callers never deadlock.
        Returns the seat plan of each of them that sells numbered seats, read in that same
        step (under the row's lock): a plan put on a moment before counts.
        """
        ...

    def release(self, seats: Mapping[uuid.UUID, int]) -> None: ...

    def reserve_in_categories(self, seats: Mapping[uuid.UUID, int]) -> None:
        """Take the seats of every price category under its own limit, or none.

        Raises PriceCategorySoldOut when a limited category has fewer left, and
        UnknownPriceCategory when there is no such category. A category without a limit gives
        any number (the performance's capacity is its only bound). In sorted id order; call
        after `reserve`, so the performances are locked first.
        """
        ...

    def release_in_categories(self, seats: Mapping[uuid.UUID, int]) -> None: ...


class CouponRepository(Protocol):
    def add(self, coupon: Coupon) -> None: ...
    def get(self, coupon_id: uuid.UUID, *, for_update: bool = False) -> Coupon | None:
        """With `for_update`, the row stays locked until the unit of work ends."""
        ...

    def get_by_code(self, code: str) -> Coupon | None: ...
    def list(self) -> list[Coupon]: ...
    def update(self, coupon: Coupon) -> None:
        """Store everything but `usage_count`, which only claim/release change."""
        ...

    def claim_usage(self, usage: CouponUsage) -> bool:
        """Record a use if the coupon has uses left, atomically; False when exhausted."""
        ...

    def release_usage(self, order_id: uuid.UUID, at: datetime) -> bool:
        """Give back the order's use of a coupon, once; False when there was none to give."""
        ...

    def usage_for_order(self, order_id: uuid.UUID) -> CouponUsage | None: ...


@attrs.frozen(kw_only=True)
class OrderSearch:
    """Staff's order search: `text` is an order number (whole), or part of an e-mail or name.

    Case-insensitive; wildcard characters in `text` match only themselves.
    """

    text: str = ""
    status: OrderStatus | None = None
    needs_attention: bool = False
    page: int = 1
    per_page: int = 25


@attrs.frozen(kw_only=True)
class OrderSummary:
    """One row of the search results."""

    id: uuid.UUID
    number: str
    email: str
    name: str
    status: OrderStatus
    total: Money
    created_at: datetime
    needs_attention: str | None = None


@attrs.frozen(kw_only=True)
class SalesTotal:
    """The orders one staff member (None: the web shop) took by one payment method."""

    sold_by: uuid.UUID | None
    staff_name: str | None  # the staff user's name (None for the web shop or a removed user)
    payment_method: PaymentMethod
    orders: int
    tickets: int
    amount: Money

    def sort_key(self) -> tuple[bool, str, str, str]:
        """Totals are listed by staff name, the web shop (no seller) last, then by method."""
        return (
            self.sold_by is None,
            (self.staff_name or "").lower(),
            str(self.sold_by),
            self.payment_method.value,
        )


@attrs.frozen(kw_only=True)
class OrderSearchPage(Page):
    orders: tuple[OrderSummary, ...]


class OrderRepository(Protocol):
    def add(self, order: Order) -> None: ...
    def unpaid_tickets(
        self, performance_id: uuid.UUID, *, email: str, client_address: str | None
    ) -> tuple[int, int]:
        """Tickets for the performance in pending orders: (by this e-mail, by this client)."""
        ...

    def get(self, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
        """With `for_update`, the order stays locked until the unit of work ends."""
        ...

    def get_by_secret(self, secret: str) -> Order | None: ...
    def get_by_number(self, number: str) -> Order | None: ...
    def add_once(self, order: Order) -> bool:
        """Add the order unless one with its `request_key` exists (False: nothing added). A
        concurrent add of the same key waits for the first to end, then adds nothing."""
        ...

    def get_by_request_key(self, request_key: str) -> Order | None:
        """The order a counter form with this key made, if any."""
        ...

    def update(self, order: Order) -> None:
        """Store the order's state and its tickets' states."""
        ...

    def overdue(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Ids of pending orders whose expiry has passed."""
        ...

    def seats_held(self, performance_id: uuid.UUID) -> int:
        """Tickets that hold a seat for the performance (reserved or valid)."""
        ...

    def ids_for_performance(
        self, performance_id: uuid.UUID, statuses: Collection[OrderStatus]
    ) -> list[uuid.UUID]:
        """Ids of the orders in one of `statuses` with a ticket for the performance."""
        ...

    def for_user(self, user_id: uuid.UUID, *, limit: int) -> list[Order]:
        """The user's own orders (placed while logged in), newest first."""
        ...

    def search(self, query: OrderSearch) -> OrderSearchPage:
        """Orders matching `query`, newest first, one page of them."""
        ...

    def sales_totals(self, start: datetime, end: datetime) -> list[SalesTotal]:
        """The orders paid from `start` until `end` (sold then, refunded later or not), per
        staff member and payment method: how many, their tickets and their total. Sorted by
        staff name (the web shop last), then payment method."""
        ...

    def open_phone_bookings(self, now: datetime, limit: int) -> list[Order]:
        """Pending phone bookings whose seats are still held at `now`, soonest deadline first."""
        ...


class PaymentRepository(Protocol):
    def add(self, payment: Payment) -> None: ...
    def latest_for_order(self, order_id: uuid.UUID) -> Payment | None: ...
    def paid_for_order(self, order_id: uuid.UUID) -> Payment | None:
        """The order's payment with status paid (the newest, should there be two), or None.

        Not always the latest: a visitor may open a second payment and then pay the first.
        """
        ...

    def get_by_provider_id(
        self, provider_payment_id: str, *, for_update: bool = False
    ) -> Payment | None: ...
    def update(self, payment: Payment) -> None: ...
    def add_event(self, event: PaymentEvent) -> None: ...
    def events(self, payment_id: uuid.UUID) -> list[PaymentEvent]: ...


class RefundRepository(Protocol):
    def add(self, refund: Refund) -> None: ...
    def get(self, refund_id: uuid.UUID) -> Refund | None: ...
    def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        """The order's refunds, oldest first."""
        ...

    def update(self, refund: Refund) -> None: ...
    def orders_with_open_refunds(self, limit: int) -> list[uuid.UUID]:
        """Orders with a refund not yet refunded, failed or canceled; oldest refund first."""
        ...


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...
    def get(self, user_id: uuid.UUID) -> User | None: ...
    def get_by_email(self, email: str) -> User | None: ...
    def update(self, user: User) -> None: ...
    def with_roles(self, roles: Collection[Role]) -> list[User]:
        """The users with one of `roles`, by name then e-mail."""
        ...


class PasswordResetTokenRepository(Protocol):
    def add(self, token: PasswordResetToken) -> None: ...
    def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> PasswordResetToken | None: ...
    def update(self, token: PasswordResetToken) -> None: ...
    def void_all(self, user_id: uuid.UUID, at: datetime) -> None:
        """Mark every unused token of the user used."""
        ...

    def count_since(self, user_id: uuid.UUID, since: datetime) -> int: ...


class LoginSessionRepository(Protocol):
    """Server-side login sessions, found by the hash of the id the browser holds."""

    def add(self, session: LoginSession) -> None: ...
    def get(self, id_hash: str) -> LoginSession | None: ...
    def touch(self, id_hash: str, at: datetime) -> None: ...
    def delete(self, id_hash: str) -> None: ...
    def delete_for_user(self, user_id: uuid.UUID) -> int:
        """Ends every session of the user; returns how many there were."""
        ...

    def delete_idle(self, before: datetime) -> int:
        """Removes sessions last seen before `before` (housekeeping)."""
        ...


class ImageRepository(Protocol):
    def add(self, image: Image) -> None: ...
    def get(self, image_id: uuid.UUID) -> Image | None: ...
    def update(self, image: Image) -> None: ...
    def latest_for_show(self, show_id: uuid.UUID) -> Image | None:
        """The show's most recent upload, whatever its processing status."""
        ...


class WaitlistRepository(Protocol):
    """Performances' waiting lists and their entries.

    The seats held for a list move with one conditional update each, like the seat inventory's:
    call them with the performance locked (`order_lifecycle`), after its seats were released.
    """

    def get(self, performance_id: uuid.UUID) -> Waitlist:
        """The performance's list (enabled, nothing held, when never stored)."""
        ...

    def set_enabled(self, performance_id: uuid.UUID, enabled: bool) -> None: ...
    def hold(self, performance_id: uuid.UUID, seats: int) -> bool:
        """Move `seats` of the performance's available seats to its list; False (nothing
        moved) when fewer are available."""
        ...

    def unhold(self, performance_id: uuid.UUID, seats: int) -> bool:
        """Move `seats` held for the list back to the available seats; False (nothing moved)
        when fewer are held."""
        ...

    def add(self, entry: WaitlistEntry) -> None: ...
    def get_entry(self, entry_id: uuid.UUID, *, for_update: bool = False) -> WaitlistEntry | None:
        """With `for_update`, the row stays locked until the unit of work ends."""
        ...

    def find(self, performance_id: uuid.UUID, email: str) -> WaitlistEntry | None:
        """The entry of that e-mail (as stored, compared case-insensitively) on the list."""
        ...

    def by_token_hash(self, token_hash: str) -> WaitlistEntry | None: ...
    def by_offer_order(
        self, order_id: uuid.UUID, *, for_update: bool = False
    ) -> WaitlistEntry | None: ...
    def entries(self, performance_id: uuid.UUID) -> list[WaitlistEntry]:
        """Every entry of the performance's list, oldest first."""
        ...

    def has_waiting(self, performance_id: uuid.UUID) -> bool: ...
    def update(self, entry: WaitlistEntry) -> None: ...
    def forget_started_before(self, moment: datetime) -> int:
        """Delete every entry of the performances that started before `moment`, whatever its
        status; how many went. The lists' own rows (seats held) stay."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the block without commit rolls back."""

    shows: ShowRepository
    performances: PerformanceRepository
    price_categories: PriceCategoryRepository
    seats: SeatInventory
    seating: SeatingRepository
    coupons: CouponRepository
    orders: OrderRepository
    payments: PaymentRepository
    refunds: RefundRepository
    users: UserRepository
    reset_tokens: PasswordResetTokenRepository
    sessions: LoginSessionRepository
    images: ImageRepository
    admissions: AdmissionRepository
    devices: DeviceTokenRepository
    waitlists: WaitlistRepository
    jobs: JobQueue

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
