"""The counter's repository methods (`sales_totals`, `open_phone_bookings`) and the new order
columns: the same assertions for the memory fake, SQLite and Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core.model.accounts import Role, User
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, PaymentMethod, SalesChannel
from mierloos_core.ports import OrderSearch, UnitOfWork
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.counter import Counter, CounterSale, PhoneBooking
from mierloos_core.services.payments import Payments
from tests.catalog_builders import CatalogBuilder

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_uow(request: pytest.FixtureRequest, clock: FixedClock) -> MakeUow:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store, clock)
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return lambda: SqlUnitOfWork(engine, clock)


def staff_user(make_uow: MakeUow, clock: FixedClock, name: str) -> User:
    user = User(
        email=f"{name.split()[0].lower()}@example.nl",
        name=name,
        password_hash="x",
        created_at=clock.now(),
        role=Role.ADMIN,
    )
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
    return user


def regular(catalog: CatalogBuilder, performance: Performance, quantity: int) -> CartLine:
    category = catalog.categories(performance)[0]
    return CartLine(performance_id=performance.id, category_id=category.id, quantity=quantity)


def test_sales_totals_group_per_staff_member_and_method(make_uow: MakeUow, clock: FixedClock):
    catalog = CatalogBuilder(make_uow, clock)
    performance = catalog.performance(capacity=50, price=Money(2000))
    karin = staff_user(make_uow, clock, "Karin Kassa")
    bram = staff_user(make_uow, clock, "Bram Balie")
    counter = Counter(make_uow, clock)

    def sell(user: User, method: PaymentMethod, quantity: int) -> uuid.UUID:
        sale = CounterSale(
            lines=[regular(catalog, performance, quantity)],
            method=method,
            staff_id=user.id,
            free_reason="Pers" if method is PaymentMethod.FREE else "",
        )
        return counter.sell(sale).order_id

    sell(karin, PaymentMethod.CASH, 2)
    sell(karin, PaymentMethod.CASH, 1)
    sell(karin, PaymentMethod.FREE, 3)
    sell(bram, PaymentMethod.PIN, 4)
    # A web order paid online counts under the web shop; one still pending does not count.
    web = checkout(
        make_uow(),
        clock,
        CheckoutRequest(email="w@example.nl", name="W", lines=[regular(catalog, performance, 2)]),
    )
    with make_uow() as uow:
        order = uow.orders.get(web.order_id, for_update=True)
        assert order is not None
        order.mark_paid(clock.now(), method=PaymentMethod.MOLLIE)
        uow.orders.update(order)
        uow.commit()
    checkout(
        make_uow(),
        clock,
        CheckoutRequest(email="p@example.nl", name="P", lines=[regular(catalog, performance, 1)]),
    )
    clock.advance(timedelta(days=1))
    sell(bram, PaymentMethod.PIN, 1)  # the next day

    day = clock.now() - timedelta(days=1, hours=1)
    with make_uow() as uow:
        rows = uow.orders.sales_totals(day, day + timedelta(days=1))
    assert [
        (r.sold_by, r.staff_name, r.payment_method, r.orders, r.tickets, r.amount) for r in rows
    ] == [
        (bram.id, "Bram Balie", PaymentMethod.PIN, 1, 4, Money(8000)),
        (karin.id, "Karin Kassa", PaymentMethod.CASH, 2, 3, Money(6000)),
        (karin.id, "Karin Kassa", PaymentMethod.FREE, 1, 3, Money(0)),
        (None, None, PaymentMethod.MOLLIE, 1, 2, Money(4000)),
    ]
    with make_uow() as uow:
        assert uow.orders.sales_totals(day - timedelta(days=1), day) == []


def test_open_phone_bookings_are_the_pending_ones_still_held(make_uow: MakeUow, clock: FixedClock):
    catalog = CatalogBuilder(make_uow, clock)
    soon = catalog.performance(capacity=10, starts_in=timedelta(hours=5))
    later = catalog.performance(capacity=10, starts_in=timedelta(days=2))
    karin = staff_user(make_uow, clock, "Karin Kassa")
    counter = Counter(make_uow, clock)

    def book(performance: Performance, name: str) -> uuid.UUID:
        booking = PhoneBooking(
            lines=[regular(catalog, performance, 2)],
            staff_id=karin.id,
            name=name,
            phone="040 123 45 67",
        )
        return counter.reserve(booking).order_id

    first_later = book(later, "Later")
    first_soon = book(soon, "Eerst")
    paid = book(later, "Betaald")
    counter.mark_paid(paid, PaymentMethod.TRANSFER, karin.id)

    with make_uow() as uow:
        found = uow.orders.open_phone_bookings(clock.now(), 10)
        stored = uow.orders.get(first_soon)
    assert [o.id for o in found] == [first_soon, first_later]
    assert stored is not None
    assert stored.sales_channel is SalesChannel.PHONE
    assert stored.payment_method is PaymentMethod.AT_COUNTER
    assert stored.pay_before == soon.starts_at - timedelta(minutes=30)
    assert stored.phone == "040 123 45 67"
    assert stored.sold_by == karin.id

    # Past the first deadline the expiry job gives those seats back, once.
    clock.advance(timedelta(hours=4, minutes=30))
    with make_uow() as uow:
        assert [o.id for o in uow.orders.open_phone_bookings(clock.now(), 10)] == [first_later]
    payments = Payments(make_uow, clock, gateway=None, links=None)  # type: ignore[arg-type]
    assert payments.expire_overdue() == 1
    assert payments.expire_overdue() == 0
    with make_uow() as uow:
        expired = uow.orders.get(first_soon)
        assert expired is not None
        assert expired.status is OrderStatus.EXPIRED
        assert uow.orders.seats_held(soon.id) == 0
    assert catalog.seats_left(soon) == 10
    assert catalog.seats_left(later) == 6


def test_an_order_with_a_taken_request_key_is_not_added(make_uow: MakeUow, clock: FixedClock):
    def order(key: str | None) -> Order:
        return Order(
            email="",
            name="",
            subtotal=Money(0),
            discount=Money(0),
            created_at=clock.now(),
            expires_at=clock.now(),
            request_key=key,
        )

    first, same, other, keyless = (
        order("kassa-0001"),
        order("kassa-0001"),
        order("kassa-0002"),
        order(None),
    )
    with make_uow() as uow:
        assert uow.orders.add_once(first)
        assert not uow.orders.add_once(same)
        assert uow.orders.add_once(other)
        assert uow.orders.add_once(keyless)
        uow.commit()
    with make_uow() as uow:
        found = uow.orders.get_by_request_key("kassa-0001")
        assert found is not None
        assert found.id == first.id
        assert uow.orders.get(same.id) is None
        assert uow.orders.get(keyless.id) is not None
        assert uow.orders.get_by_request_key("kassa-0003") is None


def test_staff_find_a_phone_booking_by_part_of_its_number(make_uow: MakeUow, clock: FixedClock):
    catalog = CatalogBuilder(make_uow, clock)
    performance = catalog.performance(capacity=10)
    karin = staff_user(make_uow, clock, "Karin Kassa")
    booking = PhoneBooking(
        lines=[regular(catalog, performance, 1)],
        staff_id=karin.id,
        name="Mevr. Van Dijk",
        phone="06-1234 5678",
    )
    booked = Counter(make_uow, clock).reserve(booking)
    with make_uow() as uow:
        found = uow.orders.search(OrderSearch(text="1234 56"))
        assert [o.id for o in found.orders] == [booked.order_id]
        assert uow.orders.search(OrderSearch(text="9999")).orders == ()
