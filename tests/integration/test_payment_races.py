"""Payment races on real databases: duplicate webhooks and cleanup, with real row locks."""

from __future__ import annotations

import functools
import threading
from datetime import timedelta

from sqlalchemy import event, func, select, update

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy import tables as t
from mierloos_core.model.cart import CartLine
from mierloos_core.model.commands import SyncPayment
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.payments import Payments


def together(targets):
    barrier = threading.Barrier(len(targets))
    errors = []

    def run(target):
        barrier.wait()
        try:
            target()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def setup(engine, clock, sql_catalog, *, coupon=False):
    performance = sql_catalog.performance(capacity=10)
    if coupon:
        sql_catalog.coupon("RACE", max_usages=5)
    gateway = MemoryPaymentGateway()
    payments = Payments(lambda: SqlUnitOfWork(engine, clock), clock, gateway, SiteLinks("http://x"))
    placed = checkout(
        SqlUnitOfWork(engine, clock),
        clock,
        CheckoutRequest(
            email="race@example.nl",
            name="Race",
            lines=[CartLine(performance_id=performance.id, quantity=3)],
            coupon_code="RACE" if coupon else None,
        ),
    )
    payments.start(placed.order_id)
    with SqlUnitOfWork(engine, clock) as uow:
        provider_id = uow.payments.latest_for_order(placed.order_id).provider_payment_id
    return performance, gateway, payments, placed, provider_id


def count_jobs(engine, job_type, template=None):
    query = select(t.jobs.c.data).where(t.jobs.c.type == job_type)
    with engine.connect() as connection:
        rows = connection.execute(query).scalars().all()
    return len([d for d in rows if template is None or d.get("template") == template])


def test_ten_concurrent_paid_webhooks_give_one_pdf_job_and_one_mail(engine, clock, sql_catalog):
    performance, gateway, payments, placed, provider_id = setup(engine, clock, sql_catalog)
    gateway.set_status(provider_id, PaymentStatus.PAID)

    errors = together([lambda: payments.sync(provider_id)] * 10)

    assert errors == []
    with SqlUnitOfWork(engine, clock) as uow:
        order = uow.orders.get(placed.order_id)
        events = uow.payments.events(uow.payments.latest_for_order(placed.order_id).id)
    assert order.status is OrderStatus.PAID
    assert len(order.valid_tickets) == 3
    assert count_jobs(engine, "pdf_generation") == 1
    assert count_jobs(engine, "email", "order_confirmed") == 1
    assert [e.status for e in events] == [PaymentStatus.OPEN, PaymentStatus.PAID]
    assert sql_catalog.seats_left(performance) == 7


def test_duplicate_failures_racing_the_cleanup_release_once(engine, clock, sql_catalog):
    performance, gateway, payments, placed, provider_id = setup(
        engine, clock, sql_catalog, coupon=True
    )
    gateway.set_status(provider_id, PaymentStatus.EXPIRED)
    clock.advance(timedelta(hours=1))

    errors = together([lambda: payments.sync(provider_id)] * 5 + [payments.expire_overdue] * 5)

    assert errors == []
    with SqlUnitOfWork(engine, clock) as uow:
        order = uow.orders.get(placed.order_id)
        coupon = uow.coupons.get_by_code("RACE")
    assert order.status is OrderStatus.EXPIRED
    assert sql_catalog.seats_left(performance) == 10
    assert coupon.usage_count == 0
    assert count_jobs(engine, "email", "order_cancelled") == 1
    with engine.connect() as connection:
        released = connection.execute(
            select(func.count())
            .select_from(t.coupon_usages)
            .where(t.coupon_usages.c.released_at.is_not(None))
        ).scalar()
    assert released == 1


def test_a_late_failure_after_paid_changes_nothing(engine, clock, sql_catalog):
    performance, gateway, payments, _placed, provider_id = setup(engine, clock, sql_catalog)
    gateway.set_status(provider_id, PaymentStatus.PAID)
    payments.sync(provider_id)
    gateway.set_status(provider_id, PaymentStatus.FAILED)

    assert payments.sync(provider_id) is OrderStatus.PAID
    assert sql_catalog.seats_left(performance) == 7
    assert count_jobs(engine, "email", "order_cancelled") == 0


def test_staff_cancelling_a_performance_races_a_failed_payment_without_deadlock(
    engine, clock, sql_catalog
):
    """Both lock the order and the performance; both must take them in the same order."""
    from mierloos_core.services.staff_catalog import StaffCatalog

    staff = StaffCatalog(lambda: SqlUnitOfWork(engine, clock), clock)
    for _ in range(15):
        performance, gateway, payments, placed, provider_id = setup(engine, clock, sql_catalog)
        gateway.set_status(provider_id, PaymentStatus.FAILED)

        errors = together(
            [
                functools.partial(staff.cancel, performance.id),
                functools.partial(payments.sync, provider_id),
            ]
        )

        assert errors == []
        with SqlUnitOfWork(engine, clock) as uow:
            order = uow.orders.get(placed.order_id)
            stored = uow.performances.get(performance.id)
        assert order.status is OrderStatus.CANCELLED
        assert stored.available_seats == stored.capacity, "the seats came back exactly once"


def webhook_jobs(engine, provider_id):
    """(status, dedupe key) of the payment's sync jobs, sorted."""
    query = select(t.jobs.c.status, t.jobs.c.dedupe_key, t.jobs.c.data).where(
        t.jobs.c.type == "payment_webhook"
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return sorted(
        (r.status, r.dedupe_key) for r in rows if r.data["provider_payment_id"] == provider_id
    )


def worker_takes(engine, provider_id, status="processing"):
    """What the worker does when it claims (or finishes) the payment's waiting sync job."""
    with engine.begin() as connection:
        connection.execute(
            update(t.jobs)
            .where(t.jobs.c.dedupe_key == f"payment_webhook:{provider_id}")
            .values(status=status)
        )


def test_ten_concurrent_webhook_calls_queue_one_sync(engine, clock, sql_catalog):
    _, _, payments, _, provider_id = setup(engine, clock, sql_catalog)

    errors = together([lambda: payments.receive_webhook(provider_id)] * 10)

    assert errors == []
    assert webhook_jobs(engine, provider_id) == [("pending", f"payment_webhook:{provider_id}")]


def test_concurrent_webhook_calls_after_the_sync_started_queue_one_more(engine, clock, sql_catalog):
    _, _, payments, _, provider_id = setup(engine, clock, sql_catalog)
    payments.receive_webhook(provider_id)
    worker_takes(engine, provider_id)

    errors = together([lambda: payments.receive_webhook(provider_id)] * 10)

    assert errors == []
    [(waiting, key), (started, released)] = webhook_jobs(engine, provider_id)
    assert (waiting, key, started) == ("pending", f"payment_webhook:{provider_id}", "processing")
    assert released.startswith(f"payment_webhook:{provider_id}|released:")


def test_a_webhook_finds_its_sync_among_many_waiting_ones(engine, clock, sql_catalog):
    _, _, payments, _, provider_id = setup(engine, clock, sql_catalog)
    with SqlUnitOfWork(engine, clock) as uow:
        for n in range(500):  # other payments' syncs waiting for a busy worker
            enqueue(uow, SyncPayment(provider_payment_id=f"tr_other{n}"))
        uow.commit()
    statements = []
    listen = functools.partial(event.listen, engine, "before_cursor_execute")
    record = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    listen(record)
    try:
        assert payments.receive_webhook(provider_id) is True
        assert payments.receive_webhook(provider_id) is True
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert webhook_jobs(engine, provider_id) == [("pending", f"payment_webhook:{provider_id}")]
    # Keyed lookups only: no statement reads the waiting jobs by type or status.
    reads = [s for s in statements if "FROM jobs" in s]
    assert reads
    assert all("jobs.id =" in s or "dedupe_key =" in s for s in reads), reads
    worker_takes(engine, provider_id, status="completed")
    assert payments.receive_webhook(provider_id) is True
    assert [s for s, _ in webhook_jobs(engine, provider_id)] == ["completed", "pending"]
