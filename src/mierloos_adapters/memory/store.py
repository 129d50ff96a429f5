"""`MemoryStore`, the tables the memory repositories share, and the base of each repository.

The store keeps copies, as a database would: a change to an object read from a repository
reaches the store only through `add`/`update`.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from mierloos_core.model.accounts import PasswordResetToken, User
from mierloos_core.model.admissions import Admission, DeviceToken, Scan
from mierloos_core.model.catalog import Performance, Show
from mierloos_core.model.coupons import Coupon, CouponUsage
from mierloos_core.model.files import Image
from mierloos_core.model.jobs import Job
from mierloos_core.model.orders import Order
from mierloos_core.model.payments import Payment, PaymentEvent, Refund
from mierloos_core.model.price_categories import CategoryTemplate, PriceCategory
from mierloos_core.model.seating import Hall, PerformanceSeat, SeatPlan
from mierloos_core.model.sessions import LoginSession
from mierloos_core.model.waitlist import Waitlist, WaitlistEntry

_T = TypeVar("_T")


@attrs.define
class MemoryStore:
    """Every table of the memory fakes, and the lock a unit of work holds over them."""

    shows: dict[uuid.UUID, Show] = attrs.Factory(dict)
    performances: dict[uuid.UUID, Performance] = attrs.Factory(dict)
    price_categories: dict[uuid.UUID, PriceCategory] = attrs.Factory(dict)
    category_templates: dict[uuid.UUID, CategoryTemplate] = attrs.Factory(dict)
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
    admissions: dict[uuid.UUID, Admission] = attrs.Factory(dict)  # by ticket id
    door_scans: list[Scan] = attrs.Factory(list)
    device_tokens: dict[uuid.UUID, DeviceToken] = attrs.Factory(dict)
    waitlists: dict[uuid.UUID, Waitlist] = attrs.Factory(dict)
    waitlist_entries: dict[uuid.UUID, WaitlistEntry] = attrs.Factory(dict)
    halls: dict[uuid.UUID, Hall] = attrs.Factory(dict)
    seat_plans: dict[uuid.UUID, SeatPlan] = attrs.Factory(dict)  # immutable versions
    performance_plans: dict[uuid.UUID, uuid.UUID] = attrs.Factory(dict)  # reserved ones only
    performance_seats: dict[uuid.UUID, dict[uuid.UUID, PerformanceSeat]] = attrs.Factory(dict)
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


def detached_copy(obj: _T) -> _T:
    return copy.deepcopy(obj)


class TableRepository(Generic[_T]):
    """A repository over one of the store's tables, named by `_table`, keyed by `id`."""

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
        self._rows[key] = detached_copy(item)

    def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> _T | None:
        # The unit of work holds the store's lock, which is as strong as any row lock.
        item = self._rows.get(item_id)
        return detached_copy(item) if item is not None else None

    def update(self, item: _T) -> None:
        key = item.id  # type: ignore[attr-defined]
        if key not in self._rows:
            raise KeyError(key)
        self._rows[key] = detached_copy(item)

    def list(self) -> list[_T]:
        return [detached_copy(item) for item in self._rows.values()]

    def _find(self, predicate: Callable[[_T], bool]) -> _T | None:
        for item in self._rows.values():
            if predicate(item):
                return detached_copy(item)
        return None
