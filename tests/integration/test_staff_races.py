"""Staff changes racing each other on real databases: a stale form never undoes a decision.

Each pair runs many times at once; whichever commits first, the cancellation or the
deactivation stands, because the edit reads the row under a lock and sees it.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core import errors
from mierloos_core.model.catalog import PerformanceStatus
from mierloos_core.model.coupons import DiscountKind
from mierloos_core.model.money import Money
from mierloos_core.model.timeutil import local
from mierloos_core.services.staff_catalog import PerformanceForm, StaffCatalog
from mierloos_core.services.staff_coupons import CouponForm, StaffCoupons
from tests.integration.test_payment_races import together

ROUNDS = 12


def test_an_edit_racing_a_cancel_never_brings_the_performance_back(engine, clock, sql_catalog):
    staff = StaffCatalog(lambda: SqlUnitOfWork(engine, clock), clock)
    for _ in range(ROUNDS):
        performance = sql_catalog.performance(capacity=50)
        form = PerformanceForm(
            starts_at=local(performance.starts_at).replace(tzinfo=None),
            price=Money(3000),
            capacity=60,
            hall="Grote zaal",
        )

        problems = together(
            [
                functools.partial(staff.edit_performance, performance.id, form),
                functools.partial(staff.cancel, performance.id),
            ]
        )

        # The edit either went first (and the cancel followed) or found it cancelled and
        # changed nothing: never "saved" and lost.
        assert all(isinstance(problem, errors.InvalidTransition) for problem in problems)
        with SqlUnitOfWork(engine, clock) as uow:
            stored = uow.performances.get(performance.id)
        assert stored.status is PerformanceStatus.CANCELLED
        if problems:
            assert (stored.capacity, stored.price) == (50, performance.price)
        else:
            assert (stored.capacity, stored.price) == (60, Money(3000))
        assert stored.available_seats == stored.capacity


def test_an_edit_racing_a_deactivation_never_reactivates_the_coupon(engine, clock, sql_catalog):
    staff = StaffCoupons(lambda: SqlUnitOfWork(engine, clock), clock)
    for round_number in range(ROUNDS):
        coupon = sql_catalog.coupon(f"LEK{round_number}")
        form = CouponForm(
            code=coupon.code,
            kind=DiscountKind.PERCENTAGE,
            value=Decimal(15),
            description="Iets minder korting",
        )

        problems = together(
            [
                functools.partial(staff.edit, coupon.id, form),
                functools.partial(staff.deactivate, coupon.id),
            ]
        )

        assert problems == []
        with SqlUnitOfWork(engine, clock) as uow:
            stored = uow.coupons.get(coupon.id)
        assert stored.active is False
