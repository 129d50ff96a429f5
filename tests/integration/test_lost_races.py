"""A write the services checked but a concurrent change beat: Busy ("try again"), never a 500.

Two staff members saving the same new slug or coupon code at the same moment both pass the
service's "is it free?" check; the database's unique constraint stops the second. The unit
of work turns that refusal into Busy, and the retry meets the service's own clear message.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from mierloos_adapters.memory import FixedClock
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core import errors
from mierloos_core.model.catalog import Show
from mierloos_core.model.coupons import Coupon, DiscountKind


def test_a_duplicate_slug_written_behind_the_check_is_busy(
    engine: Engine, clock: FixedClock
) -> None:
    with SqlUnitOfWork(engine, clock) as uow:
        uow.shows.add(Show(title="Eerste", slug="zelfde-naam"))
        uow.commit()

    with pytest.raises(errors.Busy), SqlUnitOfWork(engine, clock) as uow:  # noqa: PT012
        uow.shows.add(Show(title="Tweede", slug="zelfde-naam"))
        uow.commit()

    with SqlUnitOfWork(engine, clock) as uow:
        assert [show.title for show in uow.shows.list()] == ["Eerste"]


def test_two_simultaneous_coupons_with_one_code_leave_one_and_a_busy(
    engine: Engine, clock: FixedClock
) -> None:
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def save(value: int) -> None:
        coupon = Coupon(
            code="LENTE",
            kind=DiscountKind.PERCENTAGE,
            value=Decimal(value),
        )
        try:
            with SqlUnitOfWork(engine, clock) as uow:
                start.wait()
                uow.coupons.add(coupon)
                uow.commit()
            outcomes.append("saved")
        except errors.Busy:
            outcomes.append("busy")

    threads = [threading.Thread(target=save, args=(value,)) for value in (10, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["busy", "saved"]
    with SqlUnitOfWork(engine, clock) as uow:
        assert [coupon.code for coupon in uow.coupons.list()] == ["LENTE"]
