"""The per-aggregate repositories over a `MemoryStore`, and the unit of work that holds them."""

from __future__ import annotations

import copy
import hmac
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

import attrs

from mierloos_adapters.clock import SystemClock
from mierloos_adapters.memory.door import MemoryAdmissions, MemoryDeviceTokens
from mierloos_adapters.memory.jobs import MemoryJobQueue
from mierloos_adapters.memory.price_categories import (
    MemoryPriceCategories,
    release_in_categories,
    reserve_in_categories,
)
from mierloos_adapters.memory.seating import MemorySeating
from mierloos_adapters.memory.store import MemoryStore, TableRepository, detached_copy
from mierloos_adapters.memory.waitlists import MemoryWaitlists
from mierloos_core.errors import PerformanceUnavailable, UnknownPerformance
from mierloos_core.model.accounts import PasswordResetToken, Role, User, normalize_email
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.coupons import Coupon, CouponUsage, normalize_code
from mierloos_core.model.files import Image
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, PaymentMethod, SalesChannel
from mierloos_core.model.payments import Payment, PaymentEvent, PaymentStatus, Refund
from mierloos_core.model.sessions import LoginSession
from mierloos_core.ports import Clock, OrderSearch, OrderSearchPage, OrderSummary, SalesTotal


class MemoryShows(TableRepository[Show]):
    _table = "shows"

    def get_by_slug(self, slug: str) -> Show | None:
        return self._find(lambda show: show.slug == slug)


class MemoryPerformances(TableRepository[Performance]):
    _table = "performances"

    def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Performance]:
        return {i: detached_copy(self._rows[i]) for i in ids if i in self._rows}

    def get_many_with_shows(
        self, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[Performance, Show]]:
        shows = self._store.shows
        return {
            i: (performance, detached_copy(shows[performance.show_id]))
            for i, performance in self.get_many(ids).items()
            if performance.show_id in shows
        }

    def for_show(self, show_id: uuid.UUID) -> list[Performance]:
        found = [p for p in self._rows.values() if p.show_id == show_id]
        return [detached_copy(p) for p in sorted(found, key=lambda p: p.starts_at)]

    def upcoming(self, after: datetime) -> list[Performance]:
        found = [
            p
            for p in self._rows.values()
            if p.status is PerformanceStatus.PUBLISHED and p.starts_at > after
        ]
        return [detached_copy(p) for p in sorted(found, key=lambda p: p.starts_at)]

    def update(self, item: Performance) -> None:
        stored = self._rows[item.id]
        self._rows[item.id] = attrs.evolve(
            detached_copy(item), available_seats=stored.available_seats
        )

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

    def reserve(self, seats: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, uuid.UUID]:
        for performance_id in sorted(seats):
            performance = self._store.performances.get(performance_id)
            if performance is None:
                raise UnknownPerformance(performance_id=str(performance_id))
            if performance.status is not PerformanceStatus.PUBLISHED:
                raise PerformanceUnavailable(performance_id=str(performance_id))
            # The unit of work rolls back seats taken earlier in the loop.
            performance.reserve(seats[performance_id])
        plans = self._store.performance_plans
        return {p: plans[p] for p in sorted(seats) if p in plans}

    def release(self, seats: Mapping[uuid.UUID, int]) -> None:
        for performance_id in sorted(seats):
            self._store.performances[performance_id].release(seats[performance_id])

    def reserve_in_categories(self, seats: Mapping[uuid.UUID, int]) -> None:
        reserve_in_categories(self._store, seats)

    def release_in_categories(self, seats: Mapping[uuid.UUID, int]) -> None:
        release_in_categories(self._store, seats)


class MemoryCoupons(TableRepository[Coupon]):
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
        self._rows[item.id] = attrs.evolve(detached_copy(item), usage_count=stored.usage_count)

    def claim_usage(self, usage: CouponUsage) -> bool:
        coupon = self._rows[usage.coupon_id]
        if coupon.exhausted:
            return False
        coupon.usage_count += 1
        self._store.coupon_usages[usage.id] = detached_copy(usage)
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
                return detached_copy(usage)
        return None


class MemoryOrders(TableRepository[Order]):
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

    def add_once(self, order: Order) -> bool:
        key = order.request_key
        if key is not None and self.get_by_request_key(key) is not None:
            return False
        self.add(order)
        return True

    def get_by_request_key(self, request_key: str) -> Order | None:
        return self._find(lambda order: order.request_key == request_key)

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
        return [detached_copy(order) for order in mine[:limit]]

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
                or text in (order.phone or "").lower()
            )

        found = sorted(
            (o for o in self._rows.values() if matches(o)),
            key=lambda o: (o.created_at, str(o.id)),
            reverse=True,
        )
        start = (query.page - 1) * query.per_page
        return OrderSearchPage(
            orders=tuple(_summary(o) for o in found[start : start + query.per_page]),
            total=len(found),
            page=query.page,
            per_page=query.per_page,
        )

    def sales_totals(self, start: datetime, end: datetime) -> list[SalesTotal]:
        groups: dict[tuple[uuid.UUID | None, PaymentMethod], list[Order]] = {}
        for order in self._rows.values():
            sold = order.status in (OrderStatus.PAID, OrderStatus.REFUNDED)
            if sold and order.paid_at is not None and start <= order.paid_at < end:
                groups.setdefault((order.sold_by, order.payment_method), []).append(order)
        users = self._store.users
        totals = [
            SalesTotal(
                sold_by=sold_by,
                staff_name=users[sold_by].name if sold_by in users else None,
                payment_method=method,
                orders=len(orders),
                tickets=sum(len(order.tickets) for order in orders),
                amount=sum((order.total for order in orders), Money.zero()),
            )
            for (sold_by, method), orders in groups.items()
        ]
        return sorted(totals, key=SalesTotal.sort_key)

    def open_phone_bookings(self, now: datetime, limit: int) -> list[Order]:
        found = sorted(
            (
                order
                for order in self._rows.values()
                if order.sales_channel is SalesChannel.PHONE
                and order.status is OrderStatus.PENDING
                and order.expires_at > now
            ),
            key=lambda order: (order.expires_at, order.number),
        )
        return [detached_copy(order) for order in found[:limit]]


def _summary(order: Order) -> OrderSummary:
    # Each field of a summary is the order's attribute of the same name.
    return OrderSummary(**{f.name: getattr(order, f.name) for f in attrs.fields(OrderSummary)})


class MemoryPayments(TableRepository[Payment]):
    _table = "payments"

    def latest_for_order(self, order_id: uuid.UUID) -> Payment | None:
        found = [p for p in self._rows.values() if p.order_id == order_id]
        return detached_copy(max(found, key=lambda p: p.created_at)) if found else None

    def paid_for_order(self, order_id: uuid.UUID) -> Payment | None:
        found = [
            p
            for p in self._rows.values()
            if p.order_id == order_id and p.status is PaymentStatus.PAID
        ]
        return detached_copy(max(found, key=lambda p: p.created_at)) if found else None

    def get_by_provider_id(
        self, provider_payment_id: str, *, for_update: bool = False
    ) -> Payment | None:
        return self._find(lambda p: p.provider_payment_id == provider_payment_id)

    def add_event(self, event: PaymentEvent) -> None:
        self._store.payment_events.append(event)

    def events(self, payment_id: uuid.UUID) -> list[PaymentEvent]:
        return [e for e in self._store.payment_events if e.payment_id == payment_id]


class MemoryRefunds(TableRepository[Refund]):
    _table = "refunds"

    def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        found = [r for r in self._rows.values() if r.order_id == order_id]
        return [detached_copy(r) for r in sorted(found, key=lambda r: (r.created_at, r.id))]

    def orders_with_open_refunds(self, limit: int) -> list[uuid.UUID]:
        open_refunds = sorted(
            (r for r in self._rows.values() if not r.status.is_final),
            key=lambda r: r.created_at,
        )
        return list(dict.fromkeys(r.order_id for r in open_refunds))[:limit]


class MemoryUsers(TableRepository[User]):
    _table = "users"

    def add(self, item: User) -> None:
        if self.get_by_email(item.email) is not None:
            raise ValueError("duplicate e-mail")
        super().add(item)

    def get_by_email(self, email: str) -> User | None:
        wanted = normalize_email(email)
        return self._find(lambda user: user.email == wanted)

    def with_roles(self, roles: Collection[Role]) -> list[User]:
        found = [u for u in self._rows.values() if u.role in roles]
        return [detached_copy(u) for u in sorted(found, key=lambda u: (u.name, u.email))]


class MemoryResetTokens(TableRepository[PasswordResetToken]):
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
        self._store.login_sessions[session.id_hash] = detached_copy(session)

    def get(self, id_hash: str) -> LoginSession | None:
        found = self._store.login_sessions.get(id_hash)
        return detached_copy(found) if found is not None else None

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


class MemoryImages(TableRepository[Image]):
    _table = "images"

    def latest_for_show(self, show_id: uuid.UUID) -> Image | None:
        mine = [image for image in self._rows.values() if image.show_id == show_id]
        return detached_copy(max(mine, key=lambda image: image.created_at)) if mine else None


class MemoryUnitOfWork:
    """A unit of work over a MemoryStore, serialised by its lock and rolled back by snapshot."""

    def __init__(self, store: MemoryStore, clock: Clock | None = None) -> None:
        self.store = store
        self.shows = MemoryShows(store)
        self.performances = MemoryPerformances(store)
        self.price_categories = MemoryPriceCategories(store)
        self.seats = MemorySeatInventory(store)
        self.coupons = MemoryCoupons(store)
        self.orders = MemoryOrders(store)
        self.payments = MemoryPayments(store)
        self.refunds = MemoryRefunds(store)
        self.users = MemoryUsers(store)
        self.reset_tokens = MemoryResetTokens(store)
        self.sessions = MemoryLoginSessions(store)
        self.images = MemoryImages(store)
        self.admissions = MemoryAdmissions(store)
        self.devices = MemoryDeviceTokens(store)
        self.waitlists = MemoryWaitlists(store)
        self.seating = MemorySeating(store)
        self.jobs = MemoryJobQueue(store, clock or SystemClock())
        self._snapshot: dict[str, Any] | None = None

    def __enter__(self) -> Self:
        self.store.lock.acquire()
        self._snapshot = self.store.snapshot()
        return self

    def __exit__(self, *exc_info: object) -> None:
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
