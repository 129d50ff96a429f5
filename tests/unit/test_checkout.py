import threading
import uuid
from datetime import timedelta

import attrs
import pytest

from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.coupons import DiscountKind
from mierloos_core.model.jobs import JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus, TicketStatus
from mierloos_core.services.checkout import CheckoutPolicy, CheckoutRequest, checkout


def request_for(*lines, coupon=None, email="bezoeker@example.nl", name="An Bezoeker"):
    return CheckoutRequest(
        email=email,
        name=name,
        lines=[CartLine(performance_id=p.id, quantity=q) for p, q in lines],
        coupon_code=coupon,
    )


def test_checkout_places_a_pending_order_holding_its_seats(catalog, clock, uow):
    a = catalog.performance(capacity=50, price=Money(2000))
    b = catalog.performance(capacity=50, price=Money(1250))

    placed = checkout(uow, clock, request_for((a, 2), (b, 1)))

    with uow:
        order = uow.orders.get(placed.order_id)
        jobs = uow.jobs.list(job_type=JobType.PAYMENT_CREATION)
    assert order.status is OrderStatus.PENDING
    assert order.total == Money(5250) == placed.total
    assert order.expires_at == clock.now() + timedelta(minutes=15)
    assert sorted(t.performance_id for t in order.tickets) == sorted([a.id, a.id, b.id])
    assert {t.status for t in order.tickets} == {TicketStatus.RESERVED}
    assert (catalog.seats_left(a), catalog.seats_left(b)) == (48, 49)
    assert [job.data for job in jobs] == [{"order_id": str(order.id)}]


def test_checkout_applies_a_coupon_and_records_its_use(catalog, clock, uow):
    performance = catalog.performance(price=Money(2500))
    coupon = catalog.coupon("ZOMER", kind=DiscountKind.PERCENTAGE, value=20, max_usages=5)

    placed = checkout(uow, clock, request_for((performance, 2), coupon=" zomer "))

    assert (placed.subtotal, placed.discount, placed.total) == (
        Money(5000),
        Money(1000),
        Money(4000),
    )
    assert catalog.coupon_usage_count(coupon) == 1
    with uow:
        usage = uow.coupons.usage_for_order(placed.order_id)
    assert usage.discount == Money(1000)


def test_fixed_coupon_with_minimum_order(catalog, clock, uow):
    performance = catalog.performance(price=Money(1500))
    catalog.coupon("VIJF", kind=DiscountKind.FIXED, value=500, minimum_order=Money(3000))
    with pytest.raises(errors.CouponMinimumNotMet):
        checkout(uow, clock, request_for((performance, 1), coupon="VIJF"))
    assert checkout(uow, clock, request_for((performance, 2), coupon="VIJF")).total == Money(2500)


def test_a_coupon_is_refused_once_its_uses_are_gone(catalog, clock, uow):
    performance = catalog.performance()
    coupon = catalog.coupon("EENMALIG", max_usages=1)
    checkout(uow, clock, request_for((performance, 1), coupon="EENMALIG"))
    with pytest.raises(errors.CouponExhausted):
        checkout(uow, clock, request_for((performance, 1), coupon="EENMALIG"))
    assert catalog.coupon_usage_count(coupon) == 1
    assert catalog.seats_left(performance) == 99


@pytest.mark.parametrize(
    ("make_request", "error"),
    [
        (lambda p: request_for((p, 0)), errors.InvalidQuantity),
        (lambda p: request_for((p, -2)), errors.InvalidQuantity),
        (lambda p: request_for((p, 11)), errors.InvalidQuantity),
        (lambda p: request_for((p, 6), (p, 6)), errors.InvalidQuantity),
        (lambda p: request_for(), errors.EmptyCart),
        (lambda p: request_for((p, 1), email="geen-adres"), errors.InvalidEmail),
        (lambda p: request_for((p, 1), email="a@b"), errors.InvalidEmail),
        (lambda p: request_for((p, 1), email="a b@c.nl"), errors.InvalidEmail),
        (lambda p: request_for((p, 1), email="x@" + "a" * 260 + ".nl"), errors.InvalidEmail),
        (lambda p: request_for((p, 1), name="   "), errors.InvalidName),
        (lambda p: request_for((p, 1), coupon="BESTAATNIET"), errors.CouponUnknown),
        (lambda p: request_for((p, 1), coupon="VERLOPEN"), errors.CouponExpired),
        (lambda p: request_for((p, 1), coupon="OP"), errors.CouponExhausted),
    ],
    ids=[
        "quantity-0",
        "negative",
        "above-limit",
        "merged-above-limit",
        "empty-cart",
        "malformed-email",
        "email-without-dot",
        "email-with-space",
        "email-too-long",
        "blank-name",
        "unknown-coupon",
        "expired-coupon",
        "exhausted-coupon",
    ],
)
def test_bad_input_gets_a_domain_error_and_changes_nothing(
    catalog, clock, uow, make_request, error
):
    performance = catalog.performance(capacity=20)
    catalog.coupon("VERLOPEN", valid_until=clock.now() - timedelta(days=1))
    catalog.coupon("OP", max_usages=0)
    before = uow.store.snapshot()

    with pytest.raises(error) as raised:
        checkout(uow, clock, make_request(performance))

    assert raised.value.message  # a sentence a visitor can read
    assert uow.store.snapshot() == before


def test_unknown_performance_is_refused_and_changes_nothing(catalog, clock, uow):
    known = catalog.performance()
    ghost = CheckoutRequest(
        email="a@b.nl",
        name="A",
        lines=[
            CartLine(performance_id=known.id, quantity=1),
            CartLine(performance_id=uuid.uuid4(), quantity=1),
        ],
    )
    with pytest.raises(errors.UnknownPerformance):
        checkout(uow, clock, ghost)
    assert catalog.seats_left(known) == 100


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (dict(starts_in=timedelta(0)), errors.PerformanceUnavailable),
        (dict(status=PerformanceStatus.CANCELLED), errors.PerformanceUnavailable),
        (dict(available=0), errors.NotEnoughSeats),
        (dict(available=1), errors.NotEnoughSeats),
    ],
    ids=["starts-now", "cancelled", "sold-out", "too-few"],
)
def test_one_unsellable_line_refuses_the_whole_order(catalog, clock, uow, setup, error):
    good = catalog.performance()
    bad = catalog.performance(**setup)
    with pytest.raises(error):
        checkout(uow, clock, request_for((good, 1), (bad, 2)))
    assert catalog.seats_left(good) == 100
    with uow:
        assert uow.jobs.list() == []


class _SeatsThenCrash:
    """Seat inventory that takes the seats and then fails, as a dropped connection would."""

    def __init__(self, inner):
        self.inner = inner

    def reserve(self, seats):
        self.inner.reserve(seats)
        raise ConnectionError("database went away")

    def release(self, seats):
        self.inner.release(seats)


def test_a_failing_last_step_rolls_back_order_tickets_coupon_job_and_seats(catalog, clock, uow):
    performance = catalog.performance(capacity=10)
    coupon = catalog.coupon("HALF", value=50, max_usages=3)
    uow.seats = _SeatsThenCrash(uow.seats)
    before = uow.store.snapshot()

    with pytest.raises(ConnectionError):
        checkout(uow, clock, request_for((performance, 2), coupon="HALF"))

    assert uow.store.snapshot() == before
    assert catalog.seats_left(performance) == 10
    assert catalog.coupon_usage_count(coupon) == 0


def test_buyers_on_many_threads_one_transaction_at_a_time_never_oversell(catalog, clock, store):
    from mierloos_adapters.memory import MemoryUnitOfWork

    performance = catalog.performance(capacity=30)
    outcomes = []

    def buy(quantity, n):
        request = request_for((performance, quantity), email=f"koper{n}@example.nl")
        try:
            checkout(MemoryUnitOfWork(store, clock), clock, request)
            outcomes.append(quantity)
        except errors.NotEnoughSeats:
            outcomes.append(0)

    threads = [threading.Thread(target=buy, args=(1 + i % 4, i)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 60
    assert sum(outcomes) + catalog.seats_left(performance) == 30
    with MemoryUnitOfWork(store, clock) as uow:
        assert uow.orders.seats_held(performance.id) == sum(outcomes)


def with_client(request, client):
    return attrs.evolve(request, client_address=client)


def test_unpaid_tickets_per_performance_are_capped_by_email_and_by_client(catalog, clock, uow):
    a = catalog.performance(capacity=55)
    b = catalog.performance(capacity=55)
    checkout(uow, clock, with_client(request_for((a, 6)), "10.0.0.1"))
    checkout(uow, clock, with_client(request_for((a, 4)), "10.0.0.1"))

    # Another e-mail from the same client, and the same e-mail from another client: refused.
    other_email = with_client(request_for((a, 1), email="ander@example.nl"), "10.0.0.1")
    other_client = with_client(request_for((a, 1)), "10.0.0.2")
    for refused in (other_email, other_client):
        with pytest.raises(errors.TooManyUnpaidTickets) as caught:
            checkout(uow, clock, refused)
        assert caught.value.code == "too_many_unpaid_tickets"
    assert catalog.seats_left(a) == 45  # refusals took nothing

    # Another performance, and someone else entirely, still buy.
    checkout(uow, clock, with_client(request_for((b, 10)), "10.0.0.1"))
    checkout(uow, clock, with_client(request_for((a, 10), email="x@example.nl"), "10.0.0.3"))


def test_paid_and_expired_orders_do_not_count_and_zero_turns_the_cap_off(catalog, clock, uow):
    a = catalog.performance(capacity=55)
    first = checkout(uow, clock, with_client(request_for((a, 10)), "10.0.0.1"))
    with uow:
        order = uow.orders.get(first.order_id)
        order.mark_paid(clock.now())
        uow.orders.update(order)
        uow.commit()
    checkout(uow, clock, with_client(request_for((a, 10)), "10.0.0.1"))
    with pytest.raises(errors.TooManyUnpaidTickets):
        checkout(uow, clock, with_client(request_for((a, 1)), "10.0.0.1"))

    no_cap = CheckoutPolicy(max_unpaid_per_performance=0)
    checkout(uow, clock, with_client(request_for((a, 10)), "10.0.0.1"), no_cap)
    assert catalog.seats_left(a) == 25
