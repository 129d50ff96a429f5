"""In-memory fakes of every port, for unit tests and for embedders who want no I/O at all."""

from __future__ import annotations

import copy
import hmac
import json
import struct
import threading
import uuid
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import attrs

from mierloos_adapters.object_keys import check_content_type, check_expiry, check_key
from mierloos_core.errors import (
    DependencyUnavailable,
    ImageTooLarge,
    InvalidImage,
    NotFound,
    PerformanceUnavailable,
    PermanentFailure,
    UnknownPerformance,
)
from mierloos_core.model.accounts import PasswordResetToken, User, normalize_email
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.coupons import Coupon, CouponUsage, normalize_code
from mierloos_core.model.files import Image, ImageInfo, TicketDocument, fit_within
from mierloos_core.model.ids import new_secret
from mierloos_core.model.jobs import Job, JobStatus
from mierloos_core.model.mail import OutgoingEmail
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.model.payments import (
    Payment,
    PaymentEvent,
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    Refund,
    RefundRequest,
    RefundStatus,
)
from mierloos_core.model.sessions import LoginSession
from mierloos_core.ports import (
    Clock,
    JobDetails,
    JobPage,
    JobSummary,
    OrderSearch,
    OrderSearchPage,
    OrderSummary,
)

_T = TypeVar("_T")


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class MemoryRateLimiter:
    """Sliding-window counts in this process's memory."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._hits: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: timedelta) -> bool:
        now = self._clock.now()
        with self._lock:
            recent = [t for t in self._hits.get(key, []) if t > now - window]
            allowed = len(recent) < limit
            if allowed:
                recent.append(now)
            self._hits[key] = recent
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without bound
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - window}
            return allowed


class MemoryThrottleStore:
    """Throttle counters in this process's memory (a single process, or tests)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._windows: dict[str, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: timedelta) -> int:
        now = self._clock.now()
        with self._lock:
            ends, count = self._windows.get(key, (now, 0))
            if ends <= now:
                ends, count = now + window, 0
            self._windows[key] = (ends, count + 1)
            if len(self._windows) > 100_000:  # forget closed windows rather than grow
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            return count + 1

    def count(self, key: str) -> int:
        with self._lock:
            ends, count = self._windows.get(key, (self._clock.now(), 0))
        return count if ends > self._clock.now() else 0

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


class MemoryStorage:
    """Objects in a dict; the same key rules as the real adapters."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.down = False

    def _check(self, key: str) -> None:
        if self.down:
            raise DependencyUnavailable("storage is down")
        check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._check(key)
        check_content_type(content_type)
        self.objects[key] = (bytes(data), content_type)

    def get(self, key: str) -> bytes:
        return self.get_with_content_type(key)[0]

    def get_with_content_type(self, key: str) -> tuple[bytes, str]:
        self._check(key)
        try:
            return self.objects[key]
        except KeyError:
            raise NotFound(key=key) from None

    def content_type(self, key: str) -> str:
        return self.get_with_content_type(key)[1]

    def delete(self, key: str) -> None:
        self._check(key)
        self.objects.pop(key, None)

    def exists(self, key: str) -> bool:
        self._check(key)
        return key in self.objects

    def url_for(self, key: str, expires_in: timedelta) -> str | None:
        self._check(key)
        check_expiry(expires_in)
        return None


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.down = False

    def send(self, email: OutgoingEmail) -> None:
        if self.down:
            raise DependencyUnavailable("mail server is down")
        self.sent.append(email)

    def to(self, address: str) -> list[OutgoingEmail]:
        return [m for m in self.sent if m.to == address]


class PlainEmailTemplates:
    """Templates as plain text: the subject is the template name, the body lists the context."""

    def render(self, template: str, *, to: str, context: Any, locale: str = "nl") -> OutgoingEmail:
        body = "\n".join(f"{key}: {value}" for key, value in sorted(dict(context).items()))
        return OutgoingEmail(to=to, subject=template, text=body)


class TextTicketRenderer:
    """Renders tickets as text, one form feed-separated page per ticket."""

    def render(self, tickets: Sequence[TicketDocument]) -> bytes:
        pages = [
            f"{t.theatre_name}\n{t.show_title}\n{t.starts_at.isoformat()}\n"
            f"{t.order_number} {t.position}/{t.count}\n{t.holder_name}\n{t.secret}"
            for t in tickets
        ]
        return "\f".join(pages).encode()


class PlainPasswordHasher:
    """Reversible 'hashing' for tests only: fast, and tells which parameters made it."""

    def __init__(self, version: int = 1) -> None:
        self.version = version

    def hash(self, password: str) -> str:
        return f"plain${self.version}${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash.split("$", 2)[-1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"plain${self.version}$")


@attrs.define
class _FakePayment:
    payment: ProviderPayment
    request: PaymentRequest


class MemoryPaymentGateway:
    """A payment provider in memory. Tests steer it: `set_status`, `down`, `refuse`."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.payments: dict[str, _FakePayment] = {}
        self._by_key: dict[str, str] = {}
        self.down = False
        self.refuse = False
        self.create_calls = 0
        self.get_calls = 0
        self.refunds: dict[str, ProviderRefund] = {}
        self._refund_keys: dict[str, str] = {}
        self.refund_calls = 0
        self.cancel_calls = 0

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        with self._lock:
            self.create_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            if self.refuse:
                raise PermanentFailure("payment refused by provider")
            known = self._by_key.get(request.idempotency_key)
            if known is not None:
                return self.payments[known].payment
            provider_id = "tr_" + new_secret()[:10]
            payment = ProviderPayment(
                provider_payment_id=provider_id,
                status=PaymentStatus.OPEN,
                amount=request.amount,
                order_id=request.order_id,
                checkout_url=f"https://pay.example/{provider_id}",
                cancelable=True,
            )
            self.payments[provider_id] = _FakePayment(payment, request)
            self._by_key[request.idempotency_key] = provider_id
            return payment

    def get_payment(self, provider_payment_id: str) -> ProviderPayment:
        with self._lock:
            self.get_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            try:
                return self.payments[provider_payment_id].payment
            except KeyError:
                raise NotFound(provider_payment_id=provider_payment_id) from None

    def set_status(self, provider_payment_id: str, status: PaymentStatus) -> None:
        with self._lock:
            fake = self.payments[provider_payment_id]
            cancelable = status is PaymentStatus.OPEN
            fake.payment = attrs.evolve(fake.payment, status=status, cancelable=cancelable)

    def charge_back(self, provider_payment_id: str, amount: Money) -> None:
        """The buyer's bank took `amount` of a paid payment back."""
        with self._lock:
            fake = self.payments[provider_payment_id]
            fake.payment = attrs.evolve(fake.payment, amount_charged_back=amount)

    def cancel_payment(self, provider_payment_id: str) -> ProviderPayment:
        """Open payments become `canceled`; any other is returned as it stands, like Mollie's."""
        with self._lock:
            self.cancel_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            fake = self.payments.get(provider_payment_id)
            if fake is None:
                raise NotFound(provider_payment_id=provider_payment_id)
            if fake.payment.cancelable:
                fake.payment = attrs.evolve(
                    fake.payment,
                    status=PaymentStatus.CANCELED,
                    cancelable=False,
                    checkout_url=None,
                )
            return fake.payment

    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        """Refunds start `pending`, like Mollie's; tests move them with `set_refund_status`."""
        with self._lock:
            self.refund_calls += 1
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            known = self._refund_keys.get(request.idempotency_key)
            if known is not None:
                return self.refunds[known]
            fake = self.payments.get(request.provider_payment_id)
            if self.refuse or fake is None or fake.payment.status is not PaymentStatus.PAID:
                raise PermanentFailure("refund refused by provider")
            refunded = sum(
                r.amount.cents
                for r in self.refunds.values()
                if r.provider_payment_id == request.provider_payment_id and r.status.counts
            )
            if not 0 < request.amount.cents <= fake.payment.amount.cents - refunded:
                raise PermanentFailure("refund amount exceeds what is refundable")
            refund = ProviderRefund(
                provider_refund_id="re_" + new_secret()[:10],
                provider_payment_id=request.provider_payment_id,
                status=RefundStatus.PENDING,
                amount=request.amount,
            )
            self.refunds[refund.provider_refund_id] = refund
            self._refund_keys[request.idempotency_key] = refund.provider_refund_id
            return refund

    def get_refund(self, provider_payment_id: str, provider_refund_id: str) -> ProviderRefund:
        with self._lock:
            if self.down:
                raise DependencyUnavailable("payment provider is down")
            refund = self.refunds.get(provider_refund_id)
            if refund is None or refund.provider_payment_id != provider_payment_id:
                raise NotFound(provider_refund_id=provider_refund_id)
            return refund

    def set_refund_status(self, provider_refund_id: str, status: RefundStatus) -> None:
        with self._lock:
            refund = self.refunds[provider_refund_id]
            self.refunds[provider_refund_id] = attrs.evolve(refund, status=status)


# --- Persistence -------------------------------------------------------------------------------
# The store keeps copies, as a database would: a change to an object read from a repository
# reaches the store only through `add`/`update`.


@attrs.define
class MemoryStore:
    shows: dict[uuid.UUID, Show] = attrs.Factory(dict)
    performances: dict[uuid.UUID, Performance] = attrs.Factory(dict)
    coupons: dict[uuid.UUID, Coupon] = attrs.Factory(dict)
    coupon_usages: dict[uuid.UUID, CouponUsage] = attrs.Factory(dict)
    orders: dict[uuid.UUID, Order] = attrs.Factory(dict)
    payments: dict[uuid.UUID, Payment] = attrs.Factory(dict)
    payment_events: list[PaymentEvent] = attrs.Factory(list)
    refunds: dict[uuid.UUID, Refund] = attrs.Factory(dict)
    users: dict[uuid.UUID, User] = attrs.Factory(dict)
    reset_tokens: dict[uuid.UUID, PasswordResetToken] = attrs.Factory(dict)
    login_sessions: dict[str, LoginSession] = attrs.Factory(dict)
    images: dict[uuid.UUID, Image] = attrs.Factory(dict)
    jobs: dict[uuid.UUID, Job] = attrs.Factory(dict)
    lock: threading.RLock = attrs.field(factory=threading.RLock, eq=False)

    def snapshot(self) -> dict[str, Any]:
        return {
            field.name: copy.deepcopy(getattr(self, field.name))
            for field in attrs.fields(MemoryStore)
            if field.name != "lock"
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, value in snapshot.items():
            setattr(self, name, value)


def _copy(obj: _T) -> _T:
    return copy.deepcopy(obj)


class _Repository(Generic[_T]):
    _table: str

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    @property
    def _rows(self) -> dict[uuid.UUID, _T]:
        rows: dict[uuid.UUID, _T] = getattr(self._store, self._table)
        return rows

    def add(self, item: _T) -> None:
        key = item.id  # type: ignore[attr-defined]
        if key in self._rows:
            raise ValueError(f"duplicate id {key}")
        self._rows[key] = _copy(item)

    def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> _T | None:
        # The unit of work holds the store's lock, which is as strong as any row lock.
        item = self._rows.get(item_id)
        return _copy(item) if item is not None else None

    def update(self, item: _T) -> None:
        key = item.id  # type: ignore[attr-defined]
        if key not in self._rows:
            raise KeyError(key)
        self._rows[key] = _copy(item)

    def list(self) -> list[_T]:
        return [_copy(item) for item in self._rows.values()]

    def _find(self, predicate: Callable[[_T], bool]) -> _T | None:
        for item in self._rows.values():
            if predicate(item):
                return _copy(item)
        return None


class MemoryShows(_Repository[Show]):
    _table = "shows"

    def get_by_slug(self, slug: str) -> Show | None:
        return self._find(lambda show: show.slug == slug)


class MemoryPerformances(_Repository[Performance]):
    _table = "performances"

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Performance]:
        return {i: _copy(self._rows[i]) for i in ids if i in self._rows}

    def for_show(self, show_id: uuid.UUID) -> list[Performance]:
        found = [p for p in self._rows.values() if p.show_id == show_id]
        return [_copy(p) for p in sorted(found, key=lambda p: p.starts_at)]

    def upcoming(self, after: datetime) -> list[Performance]:
        found = [
            p
            for p in self._rows.values()
            if p.status is PerformanceStatus.PUBLISHED and p.starts_at > after
        ]
        return [_copy(p) for p in sorted(found, key=lambda p: p.starts_at)]

    def update(self, item: Performance) -> None:
        stored = self._rows[item.id]
        self._rows[item.id] = attrs.evolve(_copy(item), available_seats=stored.available_seats)

    def change_capacity(self, performance_id: uuid.UUID, capacity: int) -> bool:
        stored = self._rows.get(performance_id)
        if stored is None or capacity < stored.seats_taken:
            return False
        stored.available_seats += capacity - stored.capacity
        stored.capacity = capacity
        return True


class MemorySeatInventory:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def reserve(self, seats: Mapping[uuid.UUID, int]) -> None:
        for performance_id in sorted(seats):
            performance = self._store.performances.get(performance_id)
            if performance is None:
                raise UnknownPerformance(performance_id=str(performance_id))
            if performance.status is not PerformanceStatus.PUBLISHED:
                raise PerformanceUnavailable(performance_id=str(performance_id))
            # The unit of work rolls back seats taken earlier in the loop.
            performance.reserve(seats[performance_id])

    def release(self, seats: Mapping[uuid.UUID, int]) -> None:
        for performance_id in sorted(seats):
            self._store.performances[performance_id].release(seats[performance_id])


class MemoryCoupons(_Repository[Coupon]):
    _table = "coupons"

    def get_by_code(self, code: str) -> Coupon | None:
        wanted = normalize_code(code)
        return self._find(lambda coupon: coupon.code == wanted)

    def add(self, item: Coupon) -> None:
        if self.get_by_code(item.code) is not None:
            raise ValueError(f"duplicate coupon code {item.code}")
        super().add(item)

    def update(self, item: Coupon) -> None:
        stored = self._rows[item.id]
        self._rows[item.id] = attrs.evolve(_copy(item), usage_count=stored.usage_count)

    def claim_usage(self, usage: CouponUsage) -> bool:
        coupon = self._rows[usage.coupon_id]
        if coupon.exhausted:
            return False
        coupon.usage_count += 1
        self._store.coupon_usages[usage.id] = _copy(usage)
        return True

    def release_usage(self, order_id: uuid.UUID, at: datetime) -> bool:
        for usage in self._store.coupon_usages.values():
            if usage.order_id == order_id and usage.released_at is None:
                usage.released_at = at
                self._rows[usage.coupon_id].usage_count -= 1
                return True
        return False

    def usage_for_order(self, order_id: uuid.UUID) -> CouponUsage | None:
        for usage in self._store.coupon_usages.values():
            if usage.order_id == order_id:
                return _copy(usage)
        return None


class MemoryOrders(_Repository[Order]):
    _table = "orders"

    def unpaid_tickets(
        self, performance_id: uuid.UUID, *, email: str, client_address: str | None
    ) -> tuple[int, int]:
        by_email = by_client = 0
        for order in self._rows.values():
            if order.status is not OrderStatus.PENDING:
                continue
            held = sum(1 for t in order.tickets if t.performance_id == performance_id)
            by_email += held if order.email == email else 0
            by_client += held if client_address and order.client_address == client_address else 0
        return by_email, by_client

    def get_by_secret(self, secret: str) -> Order | None:
        return self._find(lambda order: hmac.compare_digest(order.secret, secret))

    def get_by_number(self, number: str) -> Order | None:
        return self._find(lambda order: order.number == number)

    def overdue(self, now: datetime, limit: int) -> list[uuid.UUID]:
        due = sorted(
            (o for o in self._rows.values() if o.is_overdue(now)), key=lambda o: o.expires_at
        )
        return [o.id for o in due[:limit]]

    def seats_held(self, performance_id: uuid.UUID) -> int:
        return sum(order.seats_held()[performance_id] for order in self._rows.values())

    def ids_for_performance(
        self, performance_id: uuid.UUID, statuses: Collection[OrderStatus]
    ) -> list[uuid.UUID]:
        return [
            order.id
            for order in self._rows.values()
            if order.status in statuses
            and any(ticket.performance_id == performance_id for ticket in order.tickets)
        ]

    def for_user(self, user_id: uuid.UUID, *, limit: int) -> list[Order]:
        mine = [order for order in self._rows.values() if order.user_id == user_id]
        mine.sort(key=lambda order: (order.created_at, order.number), reverse=True)
        return [_copy(order) for order in mine[:limit]]

    def search(self, query: OrderSearch) -> OrderSearchPage:
        if query.page < 1 or query.per_page < 1:
            raise ValueError("pages count from 1 and hold at least one order")
        text = query.text.strip().lower()

        def matches(order: Order) -> bool:
            if query.status is not None and order.status is not query.status:
                return False
            if query.needs_attention and not order.needs_attention:
                return False
            return not text or (
                order.number.lower() == text
                or text in order.email.lower()
                or text in order.name.lower()
            )

        found = sorted(
            (o for o in self._rows.values() if matches(o)),
            key=lambda o: (o.created_at, str(o.id)),
            reverse=True,
        )
        start = (query.page - 1) * query.per_page
        return OrderSearchPage(
            orders=tuple(
                OrderSummary(
                    id=o.id,
                    number=o.number,
                    email=o.email,
                    name=o.name,
                    status=o.status,
                    total=o.total,
                    created_at=o.created_at,
                    needs_attention=o.needs_attention,
                )
                for o in found[start : start + query.per_page]
            ),
            total=len(found),
            page=query.page,
            per_page=query.per_page,
        )


class MemoryPayments(_Repository[Payment]):
    _table = "payments"

    def latest_for_order(self, order_id: uuid.UUID) -> Payment | None:
        found = [p for p in self._rows.values() if p.order_id == order_id]
        return _copy(max(found, key=lambda p: p.created_at)) if found else None

    def paid_for_order(self, order_id: uuid.UUID) -> Payment | None:
        found = [
            p
            for p in self._rows.values()
            if p.order_id == order_id and p.status is PaymentStatus.PAID
        ]
        return _copy(max(found, key=lambda p: p.created_at)) if found else None

    def get_by_provider_id(
        self, provider_payment_id: str, *, for_update: bool = False
    ) -> Payment | None:
        return self._find(lambda p: p.provider_payment_id == provider_payment_id)

    def add_event(self, event: PaymentEvent) -> None:
        self._store.payment_events.append(event)

    def events(self, payment_id: uuid.UUID) -> list[PaymentEvent]:
        return [e for e in self._store.payment_events if e.payment_id == payment_id]


class MemoryRefunds(_Repository[Refund]):
    _table = "refunds"

    def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        found = [r for r in self._rows.values() if r.order_id == order_id]
        return [_copy(r) for r in sorted(found, key=lambda r: (r.created_at, r.id))]

    def orders_with_open_refunds(self, limit: int) -> list[uuid.UUID]:
        open_refunds = sorted(
            (r for r in self._rows.values() if not r.status.is_final),
            key=lambda r: r.created_at,
        )
        return list(dict.fromkeys(r.order_id for r in open_refunds))[:limit]


class MemoryUsers(_Repository[User]):
    _table = "users"

    def add(self, item: User) -> None:
        if self.get_by_email(item.email) is not None:
            raise ValueError("duplicate e-mail")
        super().add(item)

    def get_by_email(self, email: str) -> User | None:
        wanted = normalize_email(email)
        return self._find(lambda user: user.email == wanted)


class MemoryResetTokens(_Repository[PasswordResetToken]):
    _table = "reset_tokens"

    def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> PasswordResetToken | None:
        return self._find(lambda token: hmac.compare_digest(token.token_hash, token_hash))

    def void_all(self, user_id: uuid.UUID, at: datetime) -> None:
        for token in self._rows.values():
            if token.user_id == user_id and token.used_at is None:
                token.used_at = at

    def count_since(self, user_id: uuid.UUID, since: datetime) -> int:
        return sum(1 for t in self._rows.values() if t.user_id == user_id and t.created_at >= since)


class MemoryLoginSessions:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add(self, session: LoginSession) -> None:
        if session.id_hash in self._store.login_sessions:
            raise ValueError("duplicate session id")
        self._store.login_sessions[session.id_hash] = _copy(session)

    def get(self, id_hash: str) -> LoginSession | None:
        found = self._store.login_sessions.get(id_hash)
        return _copy(found) if found is not None else None

    def touch(self, id_hash: str, at: datetime) -> None:
        found = self._store.login_sessions.get(id_hash)
        if found is not None:
            found.last_seen_at = at

    def delete(self, id_hash: str) -> None:
        self._store.login_sessions.pop(id_hash, None)

    def delete_for_user(self, user_id: uuid.UUID) -> int:
        return self._delete_where(lambda session: session.user_id == user_id)

    def delete_idle(self, before: datetime) -> int:
        return self._delete_where(lambda session: session.last_seen_at < before)

    def _delete_where(self, predicate: Callable[[LoginSession], bool]) -> int:
        doomed = [key for key, row in self._store.login_sessions.items() if predicate(row)]
        for key in doomed:
            del self._store.login_sessions[key]
        return len(doomed)


class MemoryImages(_Repository[Image]):
    _table = "images"

    def latest_for_show(self, show_id: uuid.UUID) -> Image | None:
        mine = [image for image in self._rows.values() if image.show_id == show_id]
        return _copy(max(mine, key=lambda image: image.created_at)) if mine else None


class MemoryJobQueue(_Repository[Job]):
    _table = "jobs"

    def __init__(self, store: MemoryStore, clock: Clock) -> None:
        super().__init__(store)
        self._clock = clock

    def enqueue(
        self,
        job_type: str,
        data: Mapping[str, Any],
        *,
        priority: int = 0,
        run_at: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> uuid.UUID:
        if dedupe_key is not None:
            existing = self._find(lambda job: job.dedupe_key == dedupe_key)
            if existing is not None:
                return existing.id
        now = self._clock.now()
        job = Job(
            type=job_type,
            data=json.loads(json.dumps(dict(data))),  # payloads must survive JSON, as in SQL
            priority=priority,
            created_at=now,
            updated_at=now,
            next_retry_at=run_at,
            dedupe_key=dedupe_key,
        )
        self._rows[job.id] = job
        return job.id

    def list(self, *, job_type: str | None = None, status: str | None = None) -> list[Job]:
        return [
            _copy(job)
            for job in sorted(self._rows.values(), key=lambda j: j.created_at)
            if (job_type is None or job.type == job_type)
            and (status is None or job.status == status)
        ]


class MemoryUnitOfWork:
    """A unit of work over a MemoryStore, serialised by its lock and rolled back by snapshot."""

    def __init__(self, store: MemoryStore, clock: Clock | None = None) -> None:
        self.store = store
        self.shows = MemoryShows(store)
        self.performances = MemoryPerformances(store)
        self.seats = MemorySeatInventory(store)
        self.coupons = MemoryCoupons(store)
        self.orders = MemoryOrders(store)
        self.payments = MemoryPayments(store)
        self.refunds = MemoryRefunds(store)
        self.users = MemoryUsers(store)
        self.reset_tokens = MemoryResetTokens(store)
        self.sessions = MemoryLoginSessions(store)
        self.images = MemoryImages(store)
        self.jobs = MemoryJobQueue(store, clock or SystemClock())
        self._snapshot: dict[str, Any] | None = None

    def __enter__(self) -> Self:
        self.store.lock.acquire()
        self._snapshot = self.store.snapshot()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._snapshot = None
            self.store.lock.release()

    def commit(self) -> None:
        if self._snapshot is None:
            raise RuntimeError("commit outside the unit of work")
        self._snapshot = self.store.snapshot()

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.store.restore(copy.deepcopy(self._snapshot))


# --- Images ------------------------------------------------------------------------------------


class MemoryImageProcessor:
    """An ImageProcessor in pure Python: reads headers and structure, never pixels.

    It knows JPEG, PNG, GIF and WebP as well as the Pillow adapter does for the port's purpose:
    the same sizes, EXIF orientation, pixel limit, and refusal of other files and of truncated
    ones. Its variants are uniform grey JPEGs (real, decodable files) of the right size.
    """

    def __init__(self, *, max_pixels: int = 50_000_000) -> None:
        self.max_pixels = max_pixels

    def inspect(self, data: bytes) -> ImageInfo:
        data = bytes(data)
        for signature, reader in _IMAGE_READERS:
            if data.startswith(signature):
                return reader(data, self._check_size)
        raise InvalidImage(reason="not a JPEG, PNG, GIF or WebP file")

    def variants(self, data: bytes, sizes: Mapping[str, int]) -> dict[str, bytes]:
        if not sizes or any(box < 1 for box in sizes.values()):
            raise ValueError("sizes must map names to positive sizes")
        info = self.inspect(data)
        return {
            name: _grey_jpeg(*fit_within(info.width, info.height, box))
            for name, box in sizes.items()
        }

    def _check_size(self, width: int, height: int) -> None:
        if width < 1 or height < 1:
            raise InvalidImage(reason="empty image")
        if width * height > self.max_pixels:
            raise ImageTooLarge(
                f"Deze afbeelding heeft te veel pixels (hoogstens {self.max_pixels / 1e6:g} "
                "megapixel). Kies een kleinere afbeelding.",
                max_pixels=self.max_pixels,
            )


_SizeCheck = Callable[[int, int], None]


def _broken(what: str) -> InvalidImage:
    return InvalidImage(reason=what)


def _oriented(fmt: str, width: int, height: int, orientation: int) -> ImageInfo:
    if orientation in (5, 6, 7, 8):  # turned a quarter: shown with its sides swapped
        width, height = height, width
    return ImageInfo(format=fmt, width=width, height=height)


def _exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (1..8) of EXIF data (a TIFF structure); 1 when absent or unreadable."""
    if tiff.startswith(b"Exif\x00\x00"):
        tiff = tiff[6:]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return 1
    try:
        if struct.unpack_from(order + "H", tiff, 2)[0] != 42:
            return 1
        ifd = struct.unpack_from(order + "I", tiff, 4)[0]
        for index in range(struct.unpack_from(order + "H", tiff, ifd)[0]):
            entry = ifd + 2 + 12 * index
            tag, kind = struct.unpack_from(order + "HH", tiff, entry)
            if tag == 0x0112 and kind == 3:  # Orientation, a SHORT
                value = int(struct.unpack_from(order + "H", tiff, entry + 8)[0])
                return value if 1 <= value <= 8 else 1
    except struct.error:
        return 1
    return 1


_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE})


def _read_jpeg(data: bytes, check: _SizeCheck) -> ImageInfo:
    pos, size, orientation = 2, None, 1
    while True:
        if pos >= len(data) or data[pos] != 0xFF:
            raise _broken("JPEG: bad marker")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos + 3 > len(data):
            raise _broken("JPEG: truncated")
        marker = data[pos]
        pos += 1
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue  # markers without a segment
        if marker == 0xD9:
            raise _broken("JPEG: ends before its image data")
        length = struct.unpack_from(">H", data, pos)[0]
        if length < 2 or pos + length > len(data):
            raise _broken("JPEG: truncated segment")
        payload = data[pos + 2 : pos + length]
        pos += length
        if marker in _JPEG_SOF:
            if len(payload) < 6:
                raise _broken("JPEG: short frame header")
            height, width = struct.unpack_from(">HH", payload, 1)
            check(width, height)
            size = (width, height)
        elif marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            orientation = _exif_orientation(payload)
        elif marker == 0xDA:
            if size is None:
                raise _broken("JPEG: image data before the frame header")
            # Entropy-coded data never holds FF D9 (an FF in it is followed by 00 or a RST
            # marker), so the end marker after the first scan means the file is complete.
            if data.find(b"\xff\xd9", pos) < 0:
                raise _broken("JPEG: truncated image data")
            return _oriented("jpeg", *size, orientation)


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _read_png(data: bytes, check: _SizeCheck) -> ImageInfo:
    pos, header, orientation = 8, b"", 1
    inflater = zlib.decompressobj()
    inflated = 0
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            raise _broken("PNG: truncated chunk")
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack_from(">I", data, pos + 8 + length)[0]:
            raise _broken("PNG: damaged chunk")
        pos = end
        if not header:
            if kind != b"IHDR" or length != 13:
                raise _broken("PNG: no header")
            header = body
            check(*struct.unpack_from(">II", header))
        elif kind == b"eXIf":
            orientation = _exif_orientation(body)
        elif kind == b"IDAT":
            try:  # inflate in bounded steps, counting only: a bomb never sits in memory
                chunk = inflater.decompress(body, 1 << 16)
                inflated += len(chunk)
                while inflater.unconsumed_tail:
                    chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 16)
                    inflated += len(chunk)
            except zlib.error:
                raise _broken("PNG: damaged image data") from None
        elif kind == b"IEND":
            width, height, depth, color, _, _, interlaced = struct.unpack(">IIBBBBB", header)
            channels = _PNG_CHANNELS.get(color)
            if channels is None:
                raise _broken("PNG: unknown colour type")
            needed = height * (1 + (width * channels * depth + 7) // 8)
            if inflated == 0 or (not interlaced and inflated < needed):
                raise _broken("PNG: truncated image data")
            return _oriented("png", width, height, orientation)
    raise _broken("PNG: truncated")


def _skip_gif_blocks(data: bytes, pos: int) -> int:
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    raise _broken("GIF: truncated")


def _read_gif(data: bytes, check: _SizeCheck) -> ImageInfo:
    if len(data) < 13:
        raise _broken("GIF: truncated")
    width, height = struct.unpack_from("<HH", data, 6)
    check(width, height)
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    frames = 0
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            if not frames:
                break
            return ImageInfo(format="gif", width=width, height=height)
        if block == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_gif_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor
            if pos + 10 > len(data):
                break
            local = data[pos + 9]
            pos += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0) + 1
            pos = _skip_gif_blocks(data, pos)
            frames += 1
        else:
            raise _broken("GIF: unknown block")
    raise _broken("GIF: truncated")


def _read_webp(data: bytes, check: _SizeCheck) -> ImageInfo:
    if len(data) < 30 or data[8:12] != b"WEBP":
        raise _broken("not WebP")
    if struct.unpack_from("<I", data, 4)[0] + 8 > len(data):
        raise _broken("WebP: truncated")
    kind = data[12:16]
    if kind == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
    elif kind == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width = struct.unpack_from("<H", data, 26)[0] & 0x3FFF
        height = struct.unpack_from("<H", data, 28)[0] & 0x3FFF
    else:
        raise _broken("WebP: unknown kind")
    check(width, height)
    orientation, pos = 1, 12
    while pos + 8 <= len(data):
        fourcc, length = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if fourcc == b"EXIF":
            orientation = _exif_orientation(data[pos + 8 : pos + 8 + length])
        pos += 8 + length + (length & 1)
    return _oriented("webp", width, height, orientation)


_IMAGE_READERS: tuple[tuple[bytes, Callable[[bytes, _SizeCheck], ImageInfo]], ...] = (
    (b"\xff\xd8\xff", _read_jpeg),
    (b"\x89PNG\r\n\x1a\n", _read_png),
    (b"GIF87a", _read_gif),
    (b"GIF89a", _read_gif),
    (b"RIFF", _read_webp),
)


def _grey_jpeg(width: int, height: int) -> bytes:
    """A valid baseline JPEG, one grey channel, every pixel mid-grey.

    Every 8x8 block codes "no change, end of block" with one-bit Huffman codes: two zero bits.
    """

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload

    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # a single code of length 1, for symbol 0
    blocks = -(-width // 8) * -(-height // 8)
    whole, bits = divmod(2 * blocks, 8)
    scan = b"\x00" * whole + (bytes(((1 << (8 - bits)) - 1,)) if bits else b"")
    return b"".join(
        (
            b"\xff\xd8",
            segment(0xDB, b"\x00" + b"\x01" * 64),
            segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
            segment(0xC4, b"\x00" + one_code + b"\x10" + one_code),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        )
    )


class MemoryJobLedger:
    """The JobLedger over a MemoryStore's jobs. No worker runs here, so no attempt errors."""

    def __init__(self, store: MemoryStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def summary(self) -> JobSummary:
        now = self._clock.now()
        with self._store.lock:
            jobs = list(self._store.jobs.values())
        by_status = {status.value: 0 for status in JobStatus}
        by_type: dict[str, dict[str, int]] = {}
        for job in jobs:
            by_status[job.status.value] += 1
            counts = by_type.setdefault(job.type, {})
            counts[job.status.value] = counts.get(job.status.value, 0) + 1
        pending = [job.created_at for job in jobs if job.status is JobStatus.PENDING]
        hour_ago = now - timedelta(hours=1)
        return JobSummary(
            by_status=by_status,
            by_type=by_type,
            total=len(jobs),
            oldest_pending_age=max(now - min(pending), timedelta(0)) if pending else None,
            failed_last_hour=sum(
                1
                for job in jobs
                if job.status is JobStatus.FAILED and (job.updated_at or job.created_at) >= hour_ago
            ),
        )

    def page(
        self,
        *,
        status: str | None = None,
        job_type: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> JobPage:
        if page < 1 or per_page < 1:
            raise ValueError("pages count from 1 and hold at least one job")
        with self._store.lock:
            found = [
                _copy(job)
                for job in self._store.jobs.values()
                if (status is None or job.status == status)
                and (job_type is None or job.type == job_type)
            ]
        found.sort(key=lambda job: (job.created_at, str(job.id)), reverse=True)
        start = (page - 1) * per_page
        return JobPage(
            jobs=tuple(found[start : start + per_page]),
            total=len(found),
            page=page,
            per_page=per_page,
        )

    def get(self, job_id: uuid.UUID) -> JobDetails | None:
        with self._store.lock:
            job = self._store.jobs.get(job_id)
            return JobDetails(job=_copy(job)) if job is not None else None

    def retry(self, job_id: uuid.UUID) -> bool:
        now = self._clock.now()
        with self._store.lock:
            job = self._store.jobs.get(job_id)
            if job is None or job.status is not JobStatus.FAILED:
                return False
            job.status = JobStatus.PENDING
            job.next_retry_at = now
            job.max_attempts = job.execution_count + 1
            job.lease_owner = None
            job.lease_expires_at = None
            job.updated_at = now
            return True

    def purge_completed(self, finished_before: datetime) -> int:
        with self._store.lock:
            markers: dict[str, datetime] = {}  # the newest deduplicated job per type stays
            for job in self._store.jobs.values():
                if job.dedupe_key is not None and job.created_at > markers.get(
                    job.type, job.created_at - timedelta(seconds=1)
                ):
                    markers[job.type] = job.created_at
            doomed = [
                job.id
                for job in self._store.jobs.values()
                if job.status is JobStatus.COMPLETED
                and (job.completed_at or job.updated_at or job.created_at) < finished_before
                and not (job.dedupe_key is not None and job.created_at >= markers[job.type])
            ]
            for job_id in doomed:
                del self._store.jobs[job_id]
        return len(doomed)
