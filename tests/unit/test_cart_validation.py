import uuid
from datetime import timedelta

import pytest

from mierloos_core.errors import InvalidQuantity
from mierloos_core.model.cart import CartLine
from mierloos_core.model.catalog import PerformanceStatus, UnavailableReason
from mierloos_core.model.money import Money
from mierloos_core.services.cart import validate_cart


def line(performance, quantity=1):
    return CartLine(performance_id=performance.id, quantity=quantity)


def test_cart_splits_valid_lines_from_unavailable_ones_with_reasons(catalog, clock):
    ok = catalog.performance(price=Money(1500))
    past = catalog.performance(starts_in=timedelta(hours=-1))
    cancelled = catalog.performance(status=PerformanceStatus.CANCELLED)
    draft = catalog.performance(status=PerformanceStatus.DRAFT)
    sold_out = catalog.performance(available=0)
    few = catalog.performance(available=2)
    unknown = CartLine(performance_id=uuid.uuid4(), quantity=1)

    result = validate_cart(
        catalog.make_uow(),
        clock.now(),
        [
            line(ok, 2),
            line(past),
            line(cancelled),
            line(draft),
            line(sold_out),
            line(few, 3),
            unknown,
        ],
    )

    assert [v.performance.id for v in result.valid] == [ok.id]
    assert {u.line.performance_id: u.reason for u in result.unavailable} == {
        past.id: UnavailableReason.PAST,
        cancelled.id: UnavailableReason.CANCELLED,
        draft.id: UnavailableReason.NOT_PUBLISHED,
        sold_out.id: UnavailableReason.SOLD_OUT,
        few.id: UnavailableReason.NOT_ENOUGH_SEATS,
        unknown.performance_id: UnavailableReason.UNKNOWN,
    }
    assert result.subtotal == Money(3000)
    assert result.can_check_out


def test_unavailable_lines_are_left_out_of_the_total(catalog, clock):
    past = catalog.performance(starts_in=timedelta(minutes=-5), price=Money(9900))
    result = validate_cart(catalog.make_uow(), clock.now(), [line(past, 2)])
    assert result.subtotal == Money(0)
    assert not result.can_check_out


def test_a_line_expires_when_its_performance_starts(catalog, clock):
    performance = catalog.performance(starts_in=timedelta(minutes=30))
    assert validate_cart(catalog.make_uow(), clock.now(), [line(performance)]).valid
    clock.advance(timedelta(minutes=30))
    result = validate_cart(catalog.make_uow(), clock.now(), [line(performance)])
    assert [u.reason for u in result.unavailable] == [UnavailableReason.PAST]


def test_lines_for_the_same_performance_are_merged(catalog, clock):
    performance = catalog.performance(available=3)
    result = validate_cart(
        catalog.make_uow(), clock.now(), [line(performance, 2), line(performance, 2)]
    )
    assert result.valid == []
    assert result.unavailable[0].line.quantity == 4
    assert result.unavailable[0].reason is UnavailableReason.NOT_ENOUGH_SEATS


@pytest.mark.parametrize("quantity", [0, -1, 11, True])
def test_quantities_outside_one_to_the_maximum_are_refused(catalog, clock, quantity):
    performance = catalog.performance()
    with pytest.raises(InvalidQuantity):
        validate_cart(catalog.make_uow(), clock.now(), [line(performance, quantity)])
