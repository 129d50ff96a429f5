from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mierloos_core import errors
from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.money import Money

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def percent(value, **kwargs):
    return Coupon(code="p", kind=DiscountKind.PERCENTAGE, value=Decimal(value), **kwargs)


def fixed(cents, **kwargs):
    return Coupon(code="f", kind=DiscountKind.FIXED, value=Decimal(cents), **kwargs)


@pytest.mark.parametrize(
    ("value", "subtotal", "discount"),
    [
        ("10", 5000, 500),
        ("15", 3333, 500),  # 499.95 rounds half up to 500
        ("12.5", 1001, 125),  # 125.125 -> 125
        ("33.33", 100, 33),
        ("100", 2750, 2750),
    ],
)
def test_percentage_discount_in_whole_cents(value, subtotal, discount):
    assert percent(value).discount_for(Money(subtotal)) == Money(discount)


def test_fixed_discount_never_exceeds_the_subtotal():
    assert fixed(1000).discount_for(Money(2500)) == Money(1000)
    assert fixed(1000).discount_for(Money(750)) == Money(750)


def test_codes_are_case_and_space_insensitive():
    assert Coupon(code="  welkom ", kind=DiscountKind.FIXED, value=Decimal(100)).code == "WELKOM"


def test_validity_window_is_from_inclusive_until_exclusive():
    coupon = percent(10, valid_from=NOW, valid_until=NOW + timedelta(days=1))
    with pytest.raises(errors.CouponNotActive):
        coupon.check(NOW - timedelta(seconds=1), Money(100))
    coupon.check(NOW, Money(100))
    with pytest.raises(errors.CouponExpired):
        coupon.check(NOW + timedelta(days=1), Money(100))


def test_inactive_coupon_is_refused():
    with pytest.raises(errors.CouponNotActive):
        percent(10, active=False).check(NOW, Money(100))


def test_exhausted_coupon_is_refused():
    with pytest.raises(errors.CouponExhausted):
        percent(10, max_usages=3, usage_count=3).check(NOW, Money(100))
    percent(10, max_usages=3, usage_count=2).check(NOW, Money(100))


def test_minimum_order_applies_to_the_subtotal():
    coupon = fixed(500, minimum_order=Money(2000))
    with pytest.raises(errors.CouponMinimumNotMet):
        coupon.check(NOW, Money(1999))
    coupon.check(NOW, Money(2000))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (DiscountKind.PERCENTAGE, 0),
        (DiscountKind.PERCENTAGE, 101),
        (DiscountKind.FIXED, 0),
        (DiscountKind.FIXED, "1.5"),
    ],
)
def test_nonsensical_coupons_cannot_be_made(kind, value):
    with pytest.raises(ValueError, match=r"percentage|fixed"):
        Coupon(code="x", kind=kind, value=Decimal(value))
