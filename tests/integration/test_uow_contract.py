"""One set of assertions for the memory fake and the SQL unit of work on SQLite and Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from mierloos_adapters.memory import MemoryStore, MemoryUnitOfWork
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core import errors
from mierloos_core.model.accounts import PasswordResetToken, Role, User
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.coupons import Coupon, CouponUsage, DiscountKind
from mierloos_core.model.files import Image, ImageStatus
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketsPdf, TicketStatus
from mierloos_core.model.payments import Payment, PaymentEvent, PaymentStatus
from mierloos_core.model.price_categories import PriceCategory
from mierloos_core.ports import NewJob, UnitOfWork

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_uow(request: pytest.FixtureRequest, clock) -> MakeUow:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store, clock)
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return lambda: SqlUnitOfWork(engine, clock)


def stored(make_uow: MakeUow, *items) -> None:
    with make_uow() as uow:
        for item in items:
            repository = {
                Show: uow.shows,
                Performance: uow.performances,
                PriceCategory: uow.price_categories,
                Coupon: uow.coupons,
                Order: uow.orders,
                User: uow.users,
                Payment: uow.payments,
                Image: uow.images,
                PasswordResetToken: uow.reset_tokens,
            }[type(item)]
            repository.add(item)
        uow.commit()


@pytest.fixture
def show_and_performance(make_uow, clock):
    show = Show(
        title="Het Zwanenmeer", slug="zwanenmeer", description="Ballet", created_at=clock.now()
    )
    performance = Performance(
        show_id=show.id,
        starts_at=clock.now() + timedelta(days=3),
        price=Money(2750),
        capacity=10,
        available_seats=10,
        status=PerformanceStatus.PUBLISHED,
        hall="Grote zaal",
    )
    stored(make_uow, show, performance, regular(performance))
    return show, performance


def regular(performance: Performance) -> PriceCategory:
    """The performance's one category, with an id derived from the performance's."""
    category = PriceCategory.regular(performance.id, performance.price)
    category.id = uuid.uuid5(performance.id, "Regulier")
    return category


def pending_order(clock, performance, seats=2, email="an@example.nl") -> Order:
    order = Order(
        email=email,
        name="An",
        subtotal=performance.price * seats,
        discount=Money(0),
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(minutes=15),
    )
    order.tickets = [
        Ticket(
            order_id=order.id,
            performance_id=performance.id,
            category_id=regular(performance).id,
            category_name="Regulier",
            price=performance.price,
        )
        for _ in range(seats)
    ]
    return order


def test_what_is_stored_comes_back_equal(make_uow, show_and_performance, clock):
    show, performance = show_and_performance
    with make_uow() as uow:
        assert uow.shows.get(show.id) == show
        assert uow.shows.get_by_slug("zwanenmeer") == show
        assert uow.performances.get(performance.id) == performance
        assert uow.performances.get_many([performance.id, uuid.uuid4()]) == {
            performance.id: performance
        }
        assert uow.performances.get_many_with_shows([performance.id, uuid.uuid4()]) == {
            performance.id: (performance, show)
        }
        assert uow.performances.for_show(show.id) == [performance]
        assert uow.performances.upcoming(clock.now()) == [performance]
        assert uow.performances.upcoming(performance.starts_at) == []
        assert uow.shows.get(uuid.uuid4()) is None


def test_leaving_without_commit_rolls_back(make_uow, clock):
    show = Show(title="Weg", slug="weg")
    with make_uow() as uow:
        uow.shows.add(show)
    # The error must escape the unit of work's block: that is what rolls it back.
    with pytest.raises(RuntimeError), make_uow() as uow:  # noqa: PT012
        uow.shows.add(show)
        uow.commit()
        uow.shows.add(Show(title="Ook weg", slug="ook-weg"))
        raise RuntimeError("boom")
    with make_uow() as uow:
        assert [s.slug for s in uow.shows.list()] == ["weg"]


def test_seats_are_taken_all_or_nothing(make_uow, show_and_performance, clock):
    _, small = show_and_performance
    big = Performance(
        show_id=small.show_id,
        starts_at=small.starts_at,
        price=Money(1000),
        capacity=50,
        available_seats=50,
        status=PerformanceStatus.PUBLISHED,
    )
    stored(make_uow, big)
    with pytest.raises(errors.NotEnoughSeats), make_uow() as uow:  # noqa: PT012
        uow.seats.reserve({big.id: 5, small.id: 11})
        uow.commit()
    with make_uow() as uow:
        uow.seats.reserve({big.id: 5, small.id: 10})
        uow.commit()
    with make_uow() as uow:
        assert uow.performances.get(big.id).available_seats == 45
        assert uow.performances.get(small.id).available_seats == 0
        uow.seats.release({small.id: 4})
        uow.commit()
    with make_uow() as uow:
        assert uow.performances.get(small.id).available_seats == 4
        with pytest.raises(ValueError, match="give back"):
            uow.seats.release({small.id: 7})


def test_unpublished_or_unknown_performances_give_no_seats(make_uow, show_and_performance):
    _, performance = show_and_performance
    with make_uow() as uow:
        performance.status = PerformanceStatus.CANCELLED
        uow.performances.update(performance)
        uow.commit()
    with make_uow() as uow, pytest.raises(errors.PerformanceUnavailable):
        uow.seats.reserve({performance.id: 1})
    with make_uow() as uow, pytest.raises(errors.UnknownPerformance):
        uow.seats.reserve({uuid.uuid4(): 1})


def test_performance_update_keeps_seats_and_moves_them_with_capacity(
    make_uow, show_and_performance
):
    _, performance = show_and_performance
    with make_uow() as uow:
        uow.seats.reserve({performance.id: 3})
        uow.commit()
    with make_uow() as uow:
        # A stale copy must not write back the seat count it read.
        performance.price = Money(3000)
        uow.performances.update(performance)
        uow.commit()
    with make_uow() as uow:
        found = uow.performances.get(performance.id)
    assert (found.price, found.available_seats) == (Money(3000), 7)


def test_coupon_uses_are_claimed_within_the_limit_and_released_once(
    make_uow, show_and_performance, clock
):
    _, performance = show_and_performance
    coupon = Coupon(
        code="twee",
        kind=DiscountKind.PERCENTAGE,
        value=Decimal("12.5"),
        max_usages=2,
        minimum_order=Money(500),
        valid_until=clock.now() + timedelta(days=1),
    )
    orders = [pending_order(clock, performance, 1, f"k{i}@example.nl") for i in range(3)]
    stored(make_uow, coupon, *orders)
    with make_uow() as uow:
        assert uow.coupons.get_by_code(" TWEE ") == coupon
        claims = [
            uow.coupons.claim_usage(
                CouponUsage(
                    coupon_id=coupon.id, order_id=o.id, discount=Money(344), created_at=clock.now()
                )
            )
            for o in orders
        ]
        uow.commit()
    assert claims == [True, True, False]
    with make_uow() as uow:
        assert uow.coupons.get(coupon.id).usage_count == 2
        assert uow.coupons.usage_for_order(orders[0].id).discount == Money(344)
        assert uow.coupons.release_usage(orders[0].id, clock.now())
        assert not uow.coupons.release_usage(orders[0].id, clock.now())
        assert not uow.coupons.release_usage(orders[2].id, clock.now())
        uow.commit()
    with make_uow() as uow:
        assert uow.coupons.get(coupon.id).usage_count == 1
        assert uow.coupons.usage_for_order(orders[0].id).released_at == clock.now()


def test_orders_keep_their_tickets_and_state_changes(make_uow, show_and_performance, clock):
    _, performance = show_and_performance
    order = pending_order(clock, performance, 3)
    stored(make_uow, order)
    with make_uow() as uow:
        found = uow.orders.get(order.id, for_update=True)
        assert found == order
        assert uow.orders.get_by_secret(order.secret) == order
        assert uow.orders.get_by_number(order.number) == order
        assert uow.orders.get_by_secret("geraden") is None
        assert uow.orders.seats_held(performance.id) == 3
        found.mark_paid(clock.now())
        found.tickets_pdf = TicketsPdf(
            key=f"orders/{order.id}/tickets-1.pdf", pages=3, size=12345, created_at=clock.now()
        )
        uow.orders.update(found)
        uow.commit()
    with make_uow() as uow:
        paid = uow.orders.get(order.id)
    assert paid.status is OrderStatus.PAID
    assert paid.tickets_pdf.key == f"orders/{order.id}/tickets-1.pdf"
    assert (paid.tickets_pdf.pages, paid.tickets_pdf.size) == (3, 12345)
    assert [t.status for t in paid.tickets] == [TicketStatus.VALID] * 3
    assert [t.secret for t in paid.tickets] == [t.secret for t in order.tickets]


def test_overdue_lists_pending_orders_past_expiry_oldest_first(
    make_uow, show_and_performance, clock
):
    _, performance = show_and_performance
    late = pending_order(clock, performance)
    later = pending_order(clock, performance)
    later.expires_at = clock.now() + timedelta(minutes=20)
    paid = pending_order(clock, performance)
    paid.mark_paid(clock.now())
    stored(make_uow, later, late, paid)
    with make_uow() as uow:
        assert uow.orders.overdue(clock.now() + timedelta(minutes=14), 10) == []
        assert uow.orders.overdue(clock.now() + timedelta(minutes=15), 10) == [late.id]
        assert uow.orders.overdue(clock.now() + timedelta(hours=1), 10) == [late.id, later.id]
        assert uow.orders.overdue(clock.now() + timedelta(hours=1), 1) == [late.id]


def test_jobs_are_enqueued_once_per_dedupe_key(make_uow, clock):
    with make_uow() as uow:
        first = uow.jobs.enqueue(NewJob("email", {"to": "a@b.nl", "n": [1, 2]}, priority=5))
        periodic = uow.jobs.enqueue(
            NewJob("orphaned_order_cleanup", {}, dedupe_key="cleanup:2026-03-01T12:00")
        )
        again = uow.jobs.enqueue(
            NewJob("orphaned_order_cleanup", {}, dedupe_key="cleanup:2026-03-01T12:00")
        )
        uow.commit()
    assert periodic == again
    with make_uow() as uow:
        job = uow.jobs.get(first)
        assert (job.type, job.data, job.priority, job.status, job.execution_count) == (
            "email",
            {"to": "a@b.nl", "n": [1, 2]},
            5,
            "pending",
            0,
        )
        assert job.created_at == clock.now()
        assert [j.id for j in uow.jobs.list(job_type="orphaned_order_cleanup")] == [periodic]
        assert len(uow.jobs.list(status="pending")) == 2


def test_a_pending_job_is_completed_unrun_by_its_key(make_uow, clock):
    with make_uow() as uow:
        waiting = uow.jobs.enqueue(NewJob("payment_creation", {"n": 1}, dedupe_key="create:1"))
        other = uow.jobs.enqueue(NewJob("payment_creation", {"n": 2}, dedupe_key="create:2"))
        uow.commit()
    with make_uow() as uow:
        assert uow.jobs.skip_pending("create:1", "order settled")
        assert not uow.jobs.skip_pending("create:1", "again")  # completed now
        assert not uow.jobs.skip_pending("create:3", "order settled")  # no such job
        uow.commit()
    with make_uow() as uow:
        done = uow.jobs.get(waiting)
        assert (done.status, done.result, done.completed_at) == (
            "completed",
            {"skipped": "order settled"},
            clock.now(),
        )
        # the key stays with the completed job
        assert uow.jobs.enqueue(NewJob("payment_creation", {}, dedupe_key="create:1")) == waiting
        assert uow.jobs.get(other).status == "pending"


def test_a_job_skipped_in_a_rolled_back_unit_of_work_still_waits(make_uow):
    with make_uow() as uow:
        job_id = uow.jobs.enqueue(NewJob("payment_creation", {}, dedupe_key="create:1"))
        uow.commit()
    with make_uow() as uow:
        assert uow.jobs.skip_pending("create:1", "order settled")
    with make_uow() as uow:
        assert uow.jobs.get(job_id).status == "pending"


def test_enqueue_in_a_rolled_back_unit_of_work_leaves_no_job(make_uow):
    with make_uow() as uow:
        uow.jobs.enqueue(NewJob("email", {"to": "a@b.nl"}))
    with make_uow() as uow:
        assert uow.jobs.list() == []


def test_users_are_found_by_email_whatever_its_case(make_uow, clock):
    user = User(
        email="Staff@Example.NL",
        name="Staf",
        password_hash="h",
        created_at=clock.now(),
        role=Role.ADMIN,
    )
    stored(make_uow, user)
    with make_uow() as uow:
        assert uow.users.get_by_email("staff@example.nl ") == user
        assert uow.users.get(user.id).is_staff
        with pytest.raises(ValueError, match="duplicate"):
            uow.users.add(
                User(
                    email="STAFF@example.nl",
                    name="Dubbel",
                    password_hash="h",
                    created_at=clock.now(),
                )
            )


def test_users_are_listed_by_role_and_every_role_is_stored(make_uow, clock):
    users = [
        User(
            email=f"{role.value}@example.nl",
            name=name,
            password_hash="h",
            created_at=clock.now(),
            role=role,
        )
        for role, name in [
            (Role.VISITOR, "Bezoeker"),
            (Role.DOOR, "Bram"),
            (Role.COUNTER, "Anna"),
            (Role.ADMIN, "Anna"),
        ]
    ]
    stored(make_uow, *users)
    with make_uow() as uow:
        staff = uow.users.with_roles([Role.ADMIN, Role.COUNTER, Role.DOOR])
        assert [(u.name, u.role) for u in staff] == [
            ("Anna", Role.ADMIN),
            ("Anna", Role.COUNTER),
            ("Bram", Role.DOOR),
        ]
        assert uow.users.with_roles([Role.DOOR]) == [users[1]]


def test_reset_tokens_are_voided_and_counted(make_uow, clock):
    user = User(email="a@example.nl", name="A", password_hash="h", created_at=clock.now())
    tokens = [
        PasswordResetToken(
            user_id=user.id,
            token_hash=f"hash{i}",
            created_at=clock.now() - timedelta(minutes=i * 30),
            expires_at=clock.now() + timedelta(hours=1),
        )
        for i in range(3)
    ]
    stored(make_uow, user, *tokens)
    with make_uow() as uow:
        assert uow.reset_tokens.get_by_hash("hash1", for_update=True) == tokens[1]
        assert uow.reset_tokens.count_since(user.id, clock.now() - timedelta(minutes=45)) == 2
        uow.reset_tokens.void_all(user.id, clock.now())
        uow.commit()
    with make_uow() as uow:
        assert all(
            not uow.reset_tokens.get_by_hash(f"hash{i}").usable(clock.now()) for i in range(3)
        )


def test_payments_and_their_events(make_uow, show_and_performance, clock):
    _, performance = show_and_performance
    order = pending_order(clock, performance)
    older = Payment(
        order_id=order.id,
        provider="mollie",
        amount=order.total,
        created_at=clock.now() - timedelta(minutes=1),
        provider_payment_id="tr_old",
        status=PaymentStatus.EXPIRED,
    )
    newer = Payment(
        order_id=order.id,
        provider="mollie",
        amount=order.total,
        created_at=clock.now(),
        provider_payment_id="tr_new",
        checkout_url="https://pay.example/tr_new",
        expires_at=clock.now() + timedelta(minutes=15),
    )
    stored(make_uow, order, older, newer)
    with make_uow() as uow:
        assert uow.payments.latest_for_order(order.id) == newer
        assert uow.payments.get_by_provider_id("tr_old") == older
        newer.status = PaymentStatus.PAID
        uow.payments.update(newer)
        uow.payments.add_event(
            PaymentEvent(
                payment_id=newer.id, status=PaymentStatus.OPEN, at=clock.now(), source="create"
            )
        )
        uow.payments.add_event(
            PaymentEvent(
                payment_id=newer.id,
                status=PaymentStatus.PAID,
                at=clock.now() + timedelta(seconds=1),
                source="webhook",
            )
        )
        uow.commit()
    with make_uow() as uow:
        assert uow.payments.get_by_provider_id("tr_new").status is PaymentStatus.PAID
        assert [e.status for e in uow.payments.events(newer.id)] == [
            PaymentStatus.OPEN,
            PaymentStatus.PAID,
        ]


def test_images_keep_their_variants(make_uow, show_and_performance, clock):
    show, _ = show_and_performance
    image = Image(
        show_id=show.id,
        original_key="images/x/original.jpg",
        content_type="image/jpeg",
        created_at=clock.now(),
    )
    stored(make_uow, image)
    with make_uow() as uow:
        image.status = ImageStatus.READY
        image.variants = {"lg": "images/x/lg.jpg", "sm": "images/x/sm.jpg"}
        uow.images.update(image)
        uow.commit()
    with make_uow() as uow:
        assert uow.images.get(image.id) == image
