"""The counter against the memory fakes: sales, phone bookings, mark as paid, the day's takings."""

from __future__ import annotations

import uuid
from datetime import timedelta

import attrs
import pytest

from mierloos_adapters.email_templates import JinjaEmailTemplates
from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import (
    FixedClock,
    MemoryMailer,
    MemoryPaymentGateway,
    MemoryStore,
    MemoryUnitOfWork,
)
from mierloos_core import errors
from mierloos_core.model.accounts import Role, User
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import Performance, PerformanceStatus
from mierloos_core.model.commands import GenerateTickets, RefundOrder, SendEmail
from mierloos_core.model.money import Money
from mierloos_core.model.orders import (
    Order,
    OrderStatus,
    PaymentMethod,
    SalesChannel,
    TicketStatus,
)
from mierloos_core.model.price_categories import Visibility
from mierloos_core.model.timeutil import local
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.counter import (
    BookingExpired,
    Counter,
    CounterSale,
    PhoneBooking,
    TooLateForPhoneBooking,
)
from mierloos_core.services.notifications import EmailSender
from mierloos_core.services.payments import Payments
from mierloos_core.services.refunds import MANUAL_REFUND, Refunds
from tests.catalog_builders import CatalogBuilder

LINKS = SiteLinks("https://kaarten.example.nl")


@pytest.fixture
def staff(store: MemoryStore, clock: FixedClock) -> User:
    user = User(
        email="kassa@example.nl",
        name="Kassa Karin",
        password_hash="x",
        created_at=clock.now(),
        role=Role.ADMIN,
    )
    store.users[user.id] = user
    return user


@pytest.fixture
def counter(store: MemoryStore, clock: FixedClock) -> Counter:
    return Counter(lambda: MemoryUnitOfWork(store, clock), clock)


@pytest.fixture
def performance(catalog: CatalogBuilder) -> Performance:
    return catalog.performance(capacity=10, starts_in=timedelta(days=1))


def line(performance: Performance, catalog: CatalogBuilder, quantity: int = 2) -> CartLine:
    category = catalog.categories(performance)[0]
    return CartLine(performance_id=performance.id, category_id=category.id, quantity=quantity)


def stored(store: MemoryStore, clock: FixedClock, order_id: uuid.UUID) -> Order:
    with MemoryUnitOfWork(store, clock) as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def jobs(store: MemoryStore, clock: FixedClock, job_type: str) -> list[object]:
    with MemoryUnitOfWork(store, clock) as uow:
        return list(uow.jobs.list(job_type=job_type))


def test_a_cash_sale_is_paid_at_once_and_takes_its_seats(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    sale = CounterSale(
        lines=[line(performance, catalog, 3)], method=PaymentMethod.CASH, staff_id=staff.id
    )
    sold = counter.sell(sale)

    order = stored(store, clock, sold.order_id)
    assert order.status is OrderStatus.PAID
    assert order.sales_channel is SalesChannel.COUNTER
    assert order.payment_method is PaymentMethod.CASH
    assert order.sold_by == staff.id
    assert [t.status for t in order.tickets] == [TicketStatus.VALID] * 3
    assert order.total == performance.price * 3
    assert catalog.seats_left(performance) == 7
    # The PDF is made and stored as for any paid order; with no address, nobody is mailed.
    assert len(jobs(store, clock, GenerateTickets.job_type)) == 1
    assert jobs(store, clock, SendEmail.job_type) == []
    assert not sold.emailed


def test_a_sale_with_an_email_address_mails_the_buyer(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    sale = CounterSale(
        lines=[line(performance, catalog)],
        method=PaymentMethod.PIN,
        staff_id=staff.id,
        email="Bezoeker@Example.NL",
        name="Bea Bezoeker",
    )
    sold = counter.sell(sale)
    assert sold.emailed
    mails = jobs(store, clock, SendEmail.job_type)
    assert stored(store, clock, sold.order_id).email == "Bezoeker@example.nl"
    assert [m.data["to"] for m in mails] == ["Bezoeker@example.nl"]  # type: ignore[attr-defined]


def test_free_tickets_need_a_reason_and_cost_nothing(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    free = CounterSale(
        lines=[line(performance, catalog)], method=PaymentMethod.FREE, staff_id=staff.id
    )
    with pytest.raises(errors.ValidationError) as refused:
        counter.sell(free)
    assert "reden" in refused.value.message
    assert catalog.seats_left(performance) == 10

    sold = counter.sell(attrs.evolve(free, free_reason="  Vrijkaart  regisseur "))
    order = stored(store, clock, sold.order_id)
    assert order.total == Money(0)
    assert order.free_reason == "Vrijkaart regisseur"
    assert all(t.price == Money(0) for t in order.tickets)


@pytest.mark.parametrize("method", [PaymentMethod.TRANSFER, PaymentMethod.MOLLIE])
def test_a_sale_is_paid_in_cash_by_pin_or_free_only(
    counter: Counter, catalog: CatalogBuilder, performance: Performance, staff: User, method
) -> None:
    with pytest.raises(errors.ValidationError):
        counter.sell(
            CounterSale(lines=[line(performance, catalog)], method=method, staff_id=staff.id)
        )


@pytest.mark.parametrize("quantity", [0, -1, 51])
def test_quantities_are_bounded(
    counter: Counter, catalog: CatalogBuilder, performance: Performance, staff: User, quantity: int
) -> None:
    sale = CounterSale(
        lines=[line(performance, catalog, quantity)], method=PaymentMethod.CASH, staff_id=staff.id
    )
    with pytest.raises(errors.InvalidQuantity):
        counter.sell(sale)


def test_no_lines_is_refused(counter: Counter, staff: User) -> None:
    with pytest.raises(errors.EmptyCart):
        counter.sell(CounterSale(lines=[], method=PaymentMethod.CASH, staff_id=staff.id))


def test_a_category_of_another_performance_is_refused_and_nothing_taken(
    counter: Counter, catalog: CatalogBuilder, performance: Performance, staff: User
) -> None:
    other = catalog.performance(capacity=10)
    foreign = catalog.categories(other)[0]
    sale = CounterSale(
        lines=[
            line(performance, catalog),
            CartLine(performance_id=performance.id, category_id=foreign.id, quantity=1),
        ],
        method=PaymentMethod.CASH,
        staff_id=staff.id,
    )
    with pytest.raises(errors.UnknownPriceCategory):
        counter.sell(sale)
    assert catalog.seats_left(performance) == 10
    assert catalog.seats_left(other) == 10


def test_staff_only_categories_sell_at_the_counter_not_on_the_web(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    comp = catalog.category(performance, "Vrijkaart pers", visibility=Visibility.STAFF)
    wanted = CartLine(performance_id=performance.id, category_id=comp.id, quantity=1)
    with pytest.raises(errors.PriceCategoryNotForSale):
        checkout(
            MemoryUnitOfWork(store, clock),
            clock,
            CheckoutRequest(email="a@example.nl", name="A", lines=[wanted]),
        )
    sold = counter.sell(CounterSale(lines=[wanted], method=PaymentMethod.CASH, staff_id=staff.id))
    assert stored(store, clock, sold.order_id).tickets[0].category_id == comp.id


def test_sold_out_is_refused_with_nothing_changed(
    counter: Counter, catalog: CatalogBuilder, staff: User, store: MemoryStore
) -> None:
    small = catalog.performance(capacity=3)
    sale = CounterSale(
        lines=[line(small, catalog, 4)], method=PaymentMethod.CASH, staff_id=staff.id
    )
    orders_before = len(store.orders)
    with pytest.raises(errors.NotEnoughSeats):
        counter.sell(sale)
    assert catalog.seats_left(small) == 3
    assert len(store.orders) == orders_before


def test_the_counter_sells_until_half_an_hour_after_the_start(
    counter: Counter, catalog: CatalogBuilder, staff: User, clock: FixedClock
) -> None:
    started = catalog.performance(capacity=5, starts_in=timedelta(minutes=-29))
    long_ago = catalog.performance(capacity=5, starts_in=timedelta(minutes=-31))
    draft = catalog.performance(capacity=5, status=PerformanceStatus.DRAFT)
    counter.sell(
        CounterSale(lines=[line(started, catalog)], method=PaymentMethod.PIN, staff_id=staff.id)
    )
    for refused in (long_ago, draft):
        with pytest.raises(errors.PerformanceUnavailable):
            counter.sell(
                CounterSale(
                    lines=[line(refused, catalog)], method=PaymentMethod.PIN, staff_id=staff.id
                )
            )
    assert [p.performance.id for p in counter.for_sale()] == [started.id]


def booking(
    performance: Performance, catalog: CatalogBuilder, staff: User, **fields: str
) -> PhoneBooking:
    values = {"name": "Piet Beller", "phone": "06-12345678"} | fields
    return PhoneBooking(lines=[line(performance, catalog)], staff_id=staff.id, **values)


def test_a_phone_booking_holds_its_seats_until_its_deadline_then_they_go_back_once(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    booked = counter.reserve(booking(performance, catalog, staff))
    order = stored(store, clock, booked.order_id)
    assert order.status is OrderStatus.PENDING
    assert order.sales_channel is SalesChannel.PHONE
    assert order.payment_method is PaymentMethod.AT_COUNTER
    assert order.pay_before == performance.starts_at - timedelta(minutes=30)
    assert order.expires_at == order.pay_before
    assert order.phone == "06-12345678"
    assert order.email == ""
    assert catalog.seats_left(performance) == 8
    assert [o.id for o in counter.open_bookings()] == [order.id]

    payments = Payments(
        lambda: MemoryUnitOfWork(store, clock), clock, MemoryPaymentGateway(), LINKS
    )
    clock.advance(order.pay_before - clock.now() - timedelta(seconds=1))
    assert payments.expire_overdue() == 0
    clock.advance(timedelta(seconds=1))
    assert payments.expire_overdue() == 1
    assert payments.expire_overdue() == 0
    assert stored(store, clock, order.id).status is OrderStatus.EXPIRED
    assert catalog.seats_left(performance) == 10
    assert counter.open_bookings() == []
    # No address: no mail about the expiry.
    assert jobs(store, clock, SendEmail.job_type) == []

    with pytest.raises(BookingExpired):
        counter.mark_paid(order.id, PaymentMethod.CASH, staff.id)
    assert catalog.seats_left(performance) == 10


def test_marking_a_booking_paid_makes_and_mails_its_tickets_once(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    booked = counter.reserve(
        booking(performance, catalog, staff, email="piet@example.nl", phone="")
    )
    cashier = uuid.uuid4()
    paid = counter.mark_paid(booked.order_id, PaymentMethod.TRANSFER, cashier)
    again = counter.mark_paid(booked.order_id, PaymentMethod.TRANSFER, cashier)
    assert paid.status is again.status is OrderStatus.PAID
    order = stored(store, clock, booked.order_id)
    assert order.payment_method is PaymentMethod.TRANSFER
    assert order.sold_by == cashier
    assert [t.status for t in order.tickets] == [TicketStatus.VALID] * 2
    assert len(jobs(store, clock, GenerateTickets.job_type)) == 1
    assert mail_templates(store, clock) == ["phone_booking", "order_confirmed"]
    assert catalog.seats_left(performance) == 8


def mail_templates(store: MemoryStore, clock: FixedClock) -> list[str]:
    return [job.data["template"] for job in jobs(store, clock, SendEmail.job_type)]


def test_a_phone_booking_with_an_address_mails_what_is_held_and_until_when(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    form = booking(
        performance,
        catalog,
        staff,
        email="piet@example.nl",
        request_key="9c1b4f2e-phone-booking-form-key",
    )
    booked = counter.reserve(form)
    assert counter.reserve(form).order_id == booked.order_id  # the same form twice

    (mail,) = jobs(store, clock, SendEmail.job_type)
    assert mail.data["template"] == "phone_booking"
    assert mail.data["to"] == "piet@example.nl"
    assert mail.data["order_id"] == str(booked.order_id)

    sent = MemoryMailer()
    EmailSender(lambda: MemoryUnitOfWork(store, clock), sent, JinjaEmailTemplates(), LINKS)(
        SendEmail.from_payload(mail.data)
    )
    (email,) = sent.sent
    pay_before = local(performance.starts_at - timedelta(minutes=30))
    assert f"{pay_before:%H:%M}" in email.subject
    assert "2 kaarten" in email.text
    assert "aan de kassa" in email.text


def test_marking_paid_past_the_deadline_closes_the_booking_and_refuses(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    booked = counter.reserve(booking(performance, catalog, staff))
    assert booked.pay_before is not None
    clock.advance(booked.pay_before - clock.now())
    with pytest.raises(BookingExpired):
        counter.mark_paid(booked.order_id, PaymentMethod.PIN, staff.id)
    assert stored(store, clock, booked.order_id).status is OrderStatus.EXPIRED
    assert catalog.seats_left(performance) == 10


def test_only_phone_bookings_are_marked_paid(
    counter: Counter, catalog: CatalogBuilder, performance: Performance, staff: User, store, clock
) -> None:
    placed = checkout(
        MemoryUnitOfWork(store, clock),
        clock,
        CheckoutRequest(email="a@example.nl", name="A", lines=[line(performance, catalog)]),
    )
    with pytest.raises(errors.InvalidTransition):
        counter.mark_paid(placed.order_id, PaymentMethod.CASH, staff.id)
    with pytest.raises(errors.ValidationError):
        counter.mark_paid(placed.order_id, PaymentMethod.FREE, staff.id)
    assert stored(store, clock, placed.order_id).status is OrderStatus.PENDING


def test_a_phone_booking_needs_a_way_to_reach_the_buyer_and_time_to_pay(
    counter: Counter, catalog: CatalogBuilder, staff: User
) -> None:
    soon = catalog.performance(capacity=5, starts_in=timedelta(minutes=45))
    with pytest.raises(errors.ValidationError):
        counter.reserve(booking(soon, catalog, staff, phone=""))
    with pytest.raises(errors.ValidationError):
        counter.reserve(booking(soon, catalog, staff, phone="bel me"))
    counter.reserve(booking(soon, catalog, staff))
    late = catalog.performance(capacity=5, starts_in=timedelta(minutes=30))
    with pytest.raises(TooLateForPhoneBooking):
        counter.reserve(booking(late, catalog, staff))
    assert catalog.seats_left(late) == 5


def test_the_day_overview_groups_by_staff_member_and_method(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    def sell(method: PaymentMethod, quantity: int, **extra: str) -> None:
        counter.sell(
            CounterSale(
                lines=[line(performance, catalog, quantity)],
                method=method,
                staff_id=staff.id,
                **extra,
            )
        )

    sell(PaymentMethod.CASH, 1)
    sell(PaymentMethod.CASH, 2)
    sell(PaymentMethod.PIN, 1)
    sell(PaymentMethod.FREE, 1, free_reason="Pers")
    start = clock.now() - timedelta(hours=1)
    overview = counter.day_overview(start, start + timedelta(days=1))
    price = performance.price
    assert [
        (r.staff_name, r.payment_method, r.orders, r.tickets, r.amount) for r in overview.rows
    ] == [
        ("Kassa Karin", PaymentMethod.CASH, 2, 3, price * 3),
        ("Kassa Karin", PaymentMethod.FREE, 1, 1, Money(0)),
        ("Kassa Karin", PaymentMethod.PIN, 1, 1, price),
    ]
    assert (overview.orders, overview.tickets, overview.amount) == (4, 5, price * 4)
    assert counter.day_overview(start - timedelta(days=1), start).rows == ()


def test_a_refund_the_system_decides_on_flags_a_counter_sale_for_staff(
    counter: Counter,
    catalog: CatalogBuilder,
    performance: Performance,
    staff: User,
    store: MemoryStore,
    clock: FixedClock,
) -> None:
    """A cancelled performance refunds its orders through the provider; money taken at the
    counter never went through one, so staff are asked to give it back themselves."""
    cash = counter.sell(
        CounterSale(
            lines=[line(performance, catalog)], method=PaymentMethod.CASH, staff_id=staff.id
        )
    )
    free = counter.sell(
        CounterSale(
            lines=[line(performance, catalog)],
            method=PaymentMethod.FREE,
            free_reason="Pers",
            staff_id=staff.id,
        )
    )
    refunds = Refunds(lambda: MemoryUnitOfWork(store, clock), clock, MemoryPaymentGateway())
    for sold in (cash, free):
        refunds.refund_job(
            RefundOrder(order_id=sold.order_id, request_key=f"annulering-{sold.number}")
        )
    assert stored(store, clock, cash.order_id).needs_attention == MANUAL_REFUND
    assert stored(store, clock, free.order_id).needs_attention is None
