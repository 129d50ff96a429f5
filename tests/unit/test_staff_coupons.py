"""Staff's coupon service: create, edit, deactivate, and the rules on every field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.coupons import DiscountKind
from mierloos_core.model.money import Money
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.staff_coupons import CouponForm, StaffCoupons
from tests.catalog_builders import CatalogBuilder


@pytest.fixture
def staff(store: MemoryStore, clock: FixedClock) -> StaffCoupons:
    return StaffCoupons(lambda: MemoryUnitOfWork(store, clock), clock)


def a_coupon(**changes: object) -> CouponForm:
    values: dict[str, object] = {
        "code": "lente-26",
        "kind": DiscountKind.PERCENTAGE,
        "value": Decimal(15),
        "valid_from": datetime(2026, 3, 20, 0, 0),
        "valid_until": datetime(2026, 6, 21, 0, 0),
        "max_usages": 100,
        "minimum_order": Money(2000),
        "description": "Lentekorting",
    }
    values.update(changes)
    return CouponForm(**values)  # type: ignore[arg-type]


def fields(error: pytest.ExceptionInfo[errors.ValidationError]) -> set[str]:
    found = error.value.details["fields"]
    assert isinstance(found, dict)
    return set(found)


def use(store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder, code: str) -> None:
    performance = catalog.performance()
    checkout(
        MemoryUnitOfWork(store, clock),
        clock,
        CheckoutRequest(
            email="jan@example.nl",
            name="Jan",
            coupon_code=code,
            lines=[CartLine(performance_id=performance.id, quantity=1, added_at=clock.now())],
        ),
    )


def test_a_new_coupon_has_an_upper_case_code_and_utc_validity(staff: StaffCoupons) -> None:
    created = staff.create(a_coupon())

    stored = staff.get(created.id)
    assert stored.code == "LENTE-26"
    assert stored.valid_from == datetime(2026, 3, 19, 23, 0, tzinfo=UTC)
    assert stored.valid_until == datetime(2026, 6, 20, 22, 0, tzinfo=UTC)  # summer time
    assert (stored.kind, stored.value, stored.max_usages) == (
        DiscountKind.PERCENTAGE,
        Decimal(15),
        100,
    )
    assert (stored.minimum_order, stored.description, stored.active) == (
        Money(2000),
        "Lentekorting",
        True,
    )


def test_a_fixed_coupon_without_limits(staff: StaffCoupons) -> None:
    created = staff.create(
        a_coupon(
            kind=DiscountKind.FIXED,
            value=Decimal(500),
            valid_from=None,
            valid_until=None,
            max_usages=None,
            minimum_order=Money(0),
        )
    )

    stored = staff.get(created.id)
    assert stored.discount_for(Money(2000)) == Money(500)
    assert (stored.valid_from, stored.valid_until, stored.max_usages) == (None, None, None)


def test_a_duplicate_code_is_refused_whatever_its_case(staff: StaffCoupons) -> None:
    staff.create(a_coupon(code="WELKOM"))

    with pytest.raises(errors.ValidationError) as refused:
        staff.create(a_coupon(code=" welkom "))

    assert fields(refused) == {"code"}
    assert [c.code for c in staff.list()] == ["WELKOM"]


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"code": "x"}, {"code"}),
        ({"code": "met spatie"}, {"code"}),
        ({"code": "C" * 51}, {"code"}),
        ({"code": "ÉÉN"}, {"code"}),
        ({"value": Decimal(0)}, {"value"}),
        ({"value": Decimal("0.5")}, {"value"}),
        ({"value": Decimal(101)}, {"value"}),
        ({"value": Decimal("12.345")}, {"value"}),
        ({"value": Decimal("NaN")}, {"value"}),
        ({"kind": DiscountKind.FIXED, "value": Decimal(0)}, {"value"}),
        ({"kind": DiscountKind.FIXED, "value": Decimal(-100)}, {"value"}),
        ({"kind": DiscountKind.FIXED, "value": Decimal("10.5")}, {"value"}),
        ({"kind": DiscountKind.FIXED, "value": Decimal(100_001)}, {"value"}),
        ({"valid_until": datetime(2026, 3, 20, 0, 0)}, {"valid_until"}),
        ({"valid_from": datetime(2026, 3, 29, 2, 30)}, {"valid_from"}),
        ({"max_usages": 0}, {"max_usages"}),
        ({"max_usages": -1}, {"max_usages"}),
        ({"minimum_order": Money(-1)}, {"minimum_order"}),
        ({"description": "d" * 201}, {"description"}),
        ({"code": "", "value": Decimal(0), "max_usages": 0}, {"code", "value", "max_usages"}),
    ],
)
def test_coupon_input_is_checked_field_by_field(
    staff: StaffCoupons, changes: dict[str, object], bad: set[str]
) -> None:
    with pytest.raises(errors.ValidationError) as refused:
        staff.create(a_coupon(**changes))

    assert fields(refused) == bad
    assert staff.list() == []


def test_editing_keeps_usage_and_active_state(
    staff: StaffCoupons, store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder
) -> None:
    created = staff.create(a_coupon(valid_from=None, minimum_order=Money(0)))
    use(store, clock, catalog, "lente-26")

    edited = staff.edit(created.id, a_coupon(code="zomer", value=Decimal(20), valid_from=None))

    stored = staff.get(created.id)
    assert stored == edited
    assert (stored.code, stored.value, stored.usage_count, stored.active) == (
        "ZOMER",
        Decimal(20),
        1,
        True,
    )


def test_the_limit_cannot_go_below_the_uses(
    staff: StaffCoupons, store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder
) -> None:
    created = staff.create(a_coupon(valid_from=None, minimum_order=Money(0)))
    use(store, clock, catalog, "LENTE-26")
    use(store, clock, catalog, "LENTE-26")

    with pytest.raises(errors.ValidationError) as refused:
        staff.edit(created.id, a_coupon(max_usages=1))

    assert fields(refused) == {"max_usages"}
    assert staff.get(created.id).max_usages == 100
    assert staff.edit(created.id, a_coupon(max_usages=2)).max_usages == 2


def test_editing_to_another_coupons_code_is_refused(staff: StaffCoupons) -> None:
    staff.create(a_coupon(code="WELKOM"))
    other = staff.create(a_coupon(code="ZOMER"))

    with pytest.raises(errors.ValidationError):
        staff.edit(other.id, a_coupon(code="welkom"))

    assert staff.get(other.id).code == "ZOMER"


def test_a_deactivated_coupon_no_longer_applies(
    staff: StaffCoupons, store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder
) -> None:
    created = staff.create(a_coupon(valid_from=None, minimum_order=Money(0)))

    staff.deactivate(created.id)

    assert staff.get(created.id).active is False
    with pytest.raises(errors.CouponNotActive):
        use(store, clock, catalog, "LENTE-26")
    staff.activate(created.id)
    use(store, clock, catalog, "LENTE-26")
    assert staff.get(created.id).usage_count == 1


def test_the_list_is_by_code_with_usage_counts(
    staff: StaffCoupons, store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder
) -> None:
    staff.create(a_coupon(code="ZOMER", valid_from=None, minimum_order=Money(0)))
    staff.create(a_coupon(code="AVOND"))
    use(store, clock, catalog, "zomer")

    assert [(c.code, c.usage_count) for c in staff.list()] == [("AVOND", 0), ("ZOMER", 1)]


def test_unknown_coupons_are_not_found(staff: StaffCoupons) -> None:
    with pytest.raises(errors.NotFound):
        staff.get(uuid.uuid4())
    with pytest.raises(errors.NotFound):
        staff.edit(uuid.uuid4(), a_coupon())
    with pytest.raises(errors.NotFound):
        staff.deactivate(uuid.uuid4())
