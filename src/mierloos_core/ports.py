"""The ports: what the core needs from the outside world, as small typing.Protocols.

Every port has a memory fake in `mierloos_adapters.memory` and a contract test that runs the
same assertions against the fake and the real adapter.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

import attrs

from mierloos_core.model.accounts import PasswordResetToken, User
from mierloos_core.model.catalog import Performance, Show
from mierloos_core.model.coupons import Coupon, CouponUsage
from mierloos_core.model.files import Image, ImageInfo, TicketDocument
from mierloos_core.model.jobs import Job
from mierloos_core.model.mail import OutgoingEmail
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.model.payments import (
    Payment,
    PaymentEvent,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    Refund,
    RefundRequest,
)
from mierloos_core.model.sessions import LoginSession


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


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


class SeatInventory(Protocol):
    def reserve(self, seats: Mapping[uuid.UUID, int]) -> None:
        """Take the seats of every performance, or none: raises NotEnoughSeats.

        Only published performances give seats (PerformanceUnavailable otherwise), checked in
        the same atomic step, so a performance cancelled meanwhile sells nothing.
        Performances are taken in sorted id order so concurrent callers never deadlock.
        """
        ...

    def release(self, seats: Mapping[uuid.UUID, int]) -> None: ...


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
class OrderSearchPage:
    orders: tuple[OrderSummary, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


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


class JobQueue(Protocol):
    """Jobs enqueued here are written in the caller's unit of work: they exist iff it commits."""

    def enqueue(
        self,
        job_type: str,
        data: Mapping[str, Any],
        *,
        priority: int = 0,
        run_at: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> uuid.UUID:
        """Add a job; with a `dedupe_key` already present, return that job's id instead."""
        ...

    def get(self, job_id: uuid.UUID) -> Job | None: ...
    def list(self, *, job_type: str | None = None, status: str | None = None) -> list[Job]: ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the block without commit rolls back."""

    shows: ShowRepository
    performances: PerformanceRepository
    seats: SeatInventory
    coupons: CouponRepository
    orders: OrderRepository
    payments: PaymentRepository
    refunds: RefundRepository
    users: UserRepository
    reset_tokens: PasswordResetTokenRepository
    sessions: LoginSessionRepository
    images: ImageRepository
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


class Links(Protocol):
    """Absolute URLs of the site, for payment providers and e-mails."""

    def order_page(self, order_secret: str) -> str: ...
    def payment_webhook(self) -> str: ...
    def password_reset(self, token: str) -> str: ...
    def tickets_download(self, order_secret: str) -> str: ...
    def login(self) -> str: ...
    def admin_order(self, order_id: uuid.UUID) -> str:
        """The order's page in the staff pages (behind a staff login)."""
        ...


class PaymentGateway(Protocol):
    """A payment provider. Raises DependencyUnavailable when down, PermanentFailure on refusal."""

    name: str

    def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...
    def get_payment(self, provider_payment_id: str) -> ProviderPayment: ...
    def cancel_payment(self, provider_payment_id: str) -> ProviderPayment:
        """Cancel the payment while the provider still allows it (an open payment), so it can
        no longer be paid; a payment that cannot be cancelled (paid, pending at the bank, or
        already closed) is left alone. Returns the payment as it stands afterwards: the caller
        applies its status like any other. Raises NotFound for an unknown payment.
        """
        ...

    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        """Refund (part of) a paid payment; the same idempotency key gives the same refund."""
        ...

    def get_refund(self, provider_payment_id: str, provider_refund_id: str) -> ProviderRefund:
        """Raises NotFound for an unknown refund."""
        ...


class ObjectStorage(Protocol):
    """Bytes under keys. Raises DependencyUnavailable when the store cannot be reached."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes:
        """Raises NotFound for a missing key."""
        ...

    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def url_for(self, key: str, expires_in: timedelta) -> str | None:
        """A URL anyone holding it can GET until it expires, or None when the app must serve it."""
        ...


class EmailTemplates(Protocol):
    def render(
        self, template: str, *, to: str, context: Mapping[str, Any], locale: str = "nl"
    ) -> OutgoingEmail:
        """The named e-mail (subject, text and HTML parts) for `to`; KeyError if unknown."""
        ...


class Mailer(Protocol):
    """Delivers the text, the HTML and every attachment intact, byte for byte.

    Raises DependencyUnavailable when the mail server is down or refuses for now.
    """

    def send(self, email: OutgoingEmail) -> None: ...


class TicketRenderer(Protocol):
    def render(self, tickets: Sequence[TicketDocument]) -> bytes:
        """One PDF with one page per ticket."""
        ...


class RateLimiter(Protocol):
    def allow(self, key: str, limit: int, window: timedelta) -> bool:
        """Count one attempt under `key`; False once `limit` attempts fell within `window`."""
        ...


class ThrottleStore(Protocol):
    """Counters shared by every process (database or Redis), for throttling failures.

    A key's window starts at its first hit and lasts `window`; after it the count starts over.
    `hit` is atomic: concurrent hits from many processes are all counted.
    """

    def hit(self, key: str, window: timedelta) -> int:
        """Counts one under `key` and returns the count in the current window."""
        ...

    def count(self, key: str) -> int:
        """The count in the key's current window (0 when none is open)."""
        ...

    def clear(self, key: str) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


class ImageProcessor(Protocol):
    """Reads uploaded images and makes the resized copies the site shows.

    Accepts JPEG, PNG, GIF and WebP. Raises InvalidImage for anything else (another kind of
    file, a corrupt or truncated image) and ImageTooLarge for an image with more pixels than
    the processor's limit (decompression bombs), before decoding its pixels.
    """

    def inspect(self, data: bytes) -> ImageInfo:
        """Format and size (EXIF orientation applied) of a complete, decodable image."""
        ...

    def variants(self, data: bytes, sizes: Mapping[str, int]) -> dict[str, bytes]:
        """For each name -> box in `sizes`, a JPEG of the image fitting a box x box square.

        Orientation applied, aspect ratio kept (`fit_within`), never scaled up, transparency
        on white, and no metadata at all (EXIF, GPS, XMP, comments, ICC profiles) left.
        """
        ...


@attrs.frozen(kw_only=True)
class JobSummary:
    """The job dashboard's numbers, counted over the whole jobs table."""

    by_status: Mapping[str, int]
    """Every JobStatus, with 0 for those that have no job."""
    by_type: Mapping[str, Mapping[str, int]]
    """Job type -> status -> count, for the types that have jobs."""
    total: int
    oldest_pending_age: timedelta | None
    """How long the oldest pending job has existed; None when nothing is pending."""
    failed_last_hour: int
    """Jobs that ended `failed` within the last hour."""


@attrs.frozen(kw_only=True)
class JobAttemptError:
    """What one failed (or lost) attempt of a job left behind."""

    attempt: int
    at: datetime
    error: str
    worker: str | None = None


@attrs.frozen(kw_only=True)
class JobDetails:
    job: Job
    errors: tuple[JobAttemptError, ...] = ()


@attrs.frozen(kw_only=True)
class JobPage:
    jobs: tuple[Job, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class JobLedger(Protocol):
    """The jobs table as staff see it: the dashboard's summary, pages of jobs, and retries."""

    def summary(self) -> JobSummary: ...
    def page(
        self,
        *,
        status: str | None = None,
        job_type: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> JobPage:
        """Newest first, filtered by status and/or type; `page` counts from 1."""
        ...

    def get(self, job_id: uuid.UUID) -> JobDetails | None: ...
    def retry(self, job_id: uuid.UUID) -> bool:
        """Put a `failed` job back to pending, due now, with one more attempt allowed.

        False (and nothing changed) when the job does not exist or is not failed.
        """
        ...

    def purge_completed(self, finished_before: datetime) -> int:
        """Delete `completed` jobs that completed before that moment; how many went.

        A completed job without `completed_at` (written by hand) counts from its last update.

        Pending, processing and failed jobs are never touched, however old; nor is the newest
        job of each type with a dedupe key, which keeps recurring work to once per period.
        """
        ...
