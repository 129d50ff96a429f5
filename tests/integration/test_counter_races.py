"""The counter racing the web shop for the last seats, and "mark as paid" racing the expiry of
phone bookings, on real threads against SQLite and Postgres: nothing is oversold, each booking
has one winner, and the counters equal what the ticket rows say."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import FixedClock, MemoryPaymentGateway
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.accounts import Role, User
from mierloos_core.model.cart import CartLine
from mierloos_core.model.commands import GenerateTickets
from mierloos_core.model.orders import OrderStatus, PaymentMethod, SalesChannel
from mierloos_core.model.price_categories import Visibility
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.counter import BookingExpired, Counter, CounterSale, PhoneBooking
from mierloos_core.services.payments import Payments
from tests.integration.test_category_races import SEATS_REFUSED, available, tickets_holding_seats
from tests.integration.test_checkout_concurrency import run_at_once

STAFF = "00000000-0000-4000-8000-00000000000a"


def staff_id(engine, clock):
    """A staff user row for the sales to point at."""
    user = User(
        email="kassa@example.nl",
        name="Kassa",
        password_hash="x",
        created_at=clock.now(),
        role=Role.ADMIN,
        id=uuid.UUID(STAFF),
    )
    with SqlUnitOfWork(engine, clock) as uow:
        uow.users.add(user)
        uow.commit()
    return user.id


def test_the_counter_and_the_web_shop_racing_for_the_last_seats(engine, sql_catalog, clock):
    capacity, comp_limit = 40, 8
    performance = sql_catalog.performance(capacity=capacity)
    [regular] = sql_catalog.categories(performance)
    comp = sql_catalog.category(
        performance, "Vrijkaart", visibility=Visibility.STAFF, limit=comp_limit
    )
    cashier = staff_id(engine, clock)
    counter = Counter(lambda: SqlUnitOfWork(engine, clock), clock)
    wanted = [random.Random(i).randint(1, 4) for i in range(60)]

    def buy(i: int) -> tuple[str, bool, int]:
        n = wanted[i]
        if i % 2 == 0:
            line = CartLine(performance_id=performance.id, quantity=n, category_id=regular.id)
            request = CheckoutRequest(email=f"web{i}@example.nl", name="Web", lines=[line])
            checkout(SqlUnitOfWork(engine, clock), clock, request)
            return "web", False, n
        free = i % 3 == 0
        category = comp if free else regular
        line = CartLine(performance_id=performance.id, quantity=n, category_id=category.id)
        sale = CounterSale(
            lines=[line],
            method=PaymentMethod.FREE if free else PaymentMethod.CASH,
            free_reason="Pers" if free else "",
            staff_id=cashier,
        )
        counter.sell(sale)
        return "kassa", free, n

    outcomes = run_at_once(60, buy)

    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, SEATS_REFUSED)
    ]
    assert unexpected == []
    placed = [o for o in outcomes if isinstance(o, tuple)]
    sold = sum(n for _, _, n in placed)
    sold_comp = sum(n for _, free, n in placed if free)
    assert {channel for channel, _, _ in placed} == {"web", "kassa"}
    assert any(isinstance(o, SEATS_REFUSED) for o in outcomes)  # the last seats ran out
    assert sold <= capacity
    assert sold_comp <= comp_limit
    assert sql_catalog.seats_left(performance) == capacity - sold
    assert available(engine, comp.id) == comp_limit - sold_comp
    assert tickets_holding_seats(engine, t.tickets.c.performance_id, performance.id) == sold
    assert tickets_holding_seats(engine, t.tickets.c.category_id, comp.id) == sold_comp
    with engine.connect() as connection:
        counter_orders = connection.execute(
            select(func.count())
            .select_from(t.orders)
            .where(t.orders.c.sales_channel == SalesChannel.COUNTER.value)
        ).scalar_one()
    assert counter_orders == sum(1 for channel, _, _ in placed if channel == "kassa")


def test_mark_as_paid_racing_the_expiry_has_one_winner_per_booking(engine, sql_catalog, clock):
    performance = sql_catalog.performance(capacity=100, starts_in=timedelta(days=1))
    cashier = staff_id(engine, clock)
    counter = Counter(lambda: SqlUnitOfWork(engine, clock), clock)
    bookings = [
        counter.reserve(
            PhoneBooking(
                lines=[CartLine(performance_id=performance.id, quantity=2)],
                staff_id=cashier,
                name=f"Beller {i}",
                phone="0492 123 456",
            )
        )
        for i in range(12)
    ]
    deadline = bookings[0].pay_before
    assert deadline is not None
    # The counter's clock a moment before the deadline, the worker's a moment after.
    at_counter = FixedClock(deadline - timedelta(milliseconds=5))
    at_worker = FixedClock(deadline + timedelta(milliseconds=5))
    cashier_desk = Counter(lambda: SqlUnitOfWork(engine, at_counter), at_counter)
    worker = Payments(
        lambda: SqlUnitOfWork(engine, at_worker),
        at_worker,
        MemoryPaymentGateway(),
        SiteLinks("https://kaarten.example.nl"),
    )

    def act(i: int) -> object:
        if i < len(bookings):
            return cashier_desk.mark_paid(bookings[i].order_id, PaymentMethod.PIN, cashier)
        return worker.expire_overdue()

    outcomes = run_at_once(len(bookings) + 4, act)

    marked = outcomes[: len(bookings)]
    assert [
        o for o in marked if isinstance(o, Exception) and not isinstance(o, BookingExpired)
    ] == []
    assert [o for o in outcomes[len(bookings) :] if isinstance(o, Exception)] == []
    expired_by_worker = sum(o for o in outcomes[len(bookings) :] if isinstance(o, int))
    with SqlUnitOfWork(engine, clock) as uow:
        orders = [uow.orders.get(b.order_id) for b in bookings]
        pdf_jobs = uow.jobs.list(job_type=GenerateTickets.job_type)
    statuses = [o.status for o in orders if o is not None]
    paid = statuses.count(OrderStatus.PAID)
    assert statuses.count(OrderStatus.EXPIRED) == expired_by_worker == len(bookings) - paid
    for order, outcome in zip(orders, marked, strict=True):
        assert order is not None
        # Whoever won, the other saw it: a refusal exactly for the expired ones.
        assert isinstance(outcome, BookingExpired) == (order.status is OrderStatus.EXPIRED)
    assert len(pdf_jobs) == paid
    assert sql_catalog.seats_left(performance) == 100 - 2 * paid
    assert tickets_holding_seats(engine, t.tickets.c.performance_id, performance.id) == 2 * paid


def test_the_same_counter_form_sent_at_once_sells_once(engine, sql_catalog, clock):
    performance = sql_catalog.performance(capacity=20)
    cashier = staff_id(engine, clock)
    counter = Counter(lambda: SqlUnitOfWork(engine, clock), clock)
    sale = CounterSale(
        lines=[CartLine(performance_id=performance.id, quantity=3)],
        method=PaymentMethod.CASH,
        staff_id=cashier,
        request_key="dubbelklik-kassa-0001",
    )

    outcomes = run_at_once(6, lambda _: counter.sell(sale))

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert len({o.order_id for o in outcomes}) == 1  # type: ignore[attr-defined]
    assert sql_catalog.seats_left(performance) == 17
    assert tickets_holding_seats(engine, t.tickets.c.performance_id, performance.id) == 3
    with SqlUnitOfWork(engine, clock) as uow:
        assert len(uow.jobs.list(job_type=GenerateTickets.job_type)) == 1
