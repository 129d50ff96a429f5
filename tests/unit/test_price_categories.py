"""Price categories: their rules, and checkout by category against the memory fakes."""

from __future__ import annotations

import uuid
from decimal import Decimal

import attrs
import pytest

from mierloos_adapters.memory import FixedClock, MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.price_categories import (
    CategoryTemplate,
    PriceCategory,
    Visibility,
    default_category,
)
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.order_lifecycle import close_order, lock_order
from mierloos_core.services.price_categories import (
    add_categories,
    change_limit,
    keep_base_price,
)
from mierloos_core.services.staff_coupons import CouponForm, StaffCoupons
from tests.catalog_builders import CatalogBuilder

PERFORMANCE = uuid.uuid4()


def category(**changes: object) -> PriceCategory:
    values: dict[str, object] = {
        "performance_id": PERFORMANCE,
        "name_nl": "Kind",
        "name_en": "Child",
        "price": Money(1200),
    }
    values.update(changes)
    return PriceCategory(**values)  # type: ignore[arg-type]


def test_a_limited_category_counts_its_seats_and_an_unlimited_one_does_not():
    child = category(limit=3)
    assert child.available == 3
    child.reserve(2)
    assert child.available == 1
    assert child.seats_left(performance_seats=50) == 1
    with pytest.raises(errors.PriceCategorySoldOut):
        child.reserve(2)
    assert child.available == 1  # nothing taken
    child.release(2)
    assert child.available == 3
    with pytest.raises(ValueError, match="more seats than were taken"):
        child.release(1)

    regular = category(name_nl="Regulier", name_en="Regular")
    regular.reserve(500)
    regular.release(500)
    assert regular.available is None
    assert regular.seats_left(performance_seats=7) == 7


@pytest.mark.parametrize(
    "changes",
    [
        {"price": Money(-1)},
        {"limit": -1},
        {"limit": 2, "available": 3},
        {"available": 1},  # counting without a limit
        {"name_nl": " "},
        {"name_en": ""},
    ],
)
def test_impossible_categories_are_refused(changes):
    with pytest.raises(ValueError, match=r"\w"):
        category(**changes)


def test_names_follow_the_language_and_the_default_is_the_first_public_one():
    press = category(name_nl="Pers", name_en="Press", visibility=Visibility.STAFF, position=0)
    child = category(position=2)
    regular = category(name_nl="Regulier", name_en="Regular", position=1)
    assert (child.name("en"), child.name("nl"), child.name("de")) == ("Child", "Kind", "Kind")
    assert default_category([child, press, regular]) == regular
    assert default_category([press]) is None
    assert PriceCategory.regular(PERFORMANCE, Money(2000)).name_nl == "Regulier"


def test_a_new_performance_copies_its_shows_default_set(catalog: CatalogBuilder, uow):
    show = catalog.show()
    templates = [
        CategoryTemplate(show_id=show.id, name_nl="Regulier", name_en="Regular", price=Money(1)),
        CategoryTemplate(
            show_id=show.id, name_nl="CJP", name_en="CJP", price=Money(1500), limit=20, position=1
        ),
    ]
    with uow:
        uow.price_categories.replace_templates(show.id, templates)
        uow.commit()
    performance = catalog.performance(show, price=Money(2500))
    copied = catalog.categories(performance)
    assert [(c.name_nl, c.price, c.limit, c.available) for c in copied] == [
        ("Regulier", Money(2500), None, None),  # the first costs the performance's price
        ("CJP", Money(1500), 20, 20),
    ]
    assert all(c.performance_id == performance.id for c in copied)

    performance.price = Money(2750)
    with uow:
        keep_base_price(uow, performance)
        uow.commit()
    assert catalog.categories(performance)[0].price == Money(2750)


def test_a_show_without_a_default_set_sells_regulier(catalog: CatalogBuilder, uow):
    performance = catalog.performance(price=Money(1950))
    [regular] = catalog.categories(performance)
    assert (regular.name_nl, regular.price, regular.public) == ("Regulier", Money(1950), True)
    with uow:
        assert add_categories(uow, performance)[0].name_en == "Regular"


def buy(uow, clock: FixedClock, *lines: CartLine, language: str = "nl"):
    request = CheckoutRequest(
        email="an@example.nl", name="An", lines=list(lines), language=language
    )
    return checkout(uow, clock, request)


def test_checkout_by_category_prices_and_names_each_ticket(catalog, store, clock):
    performance = catalog.performance(capacity=30, price=Money(2500))
    cjp = catalog.category(performance, "CJP", price=Money(1500), limit=5)
    placed = buy(
        MemoryUnitOfWork(store, clock),
        clock,
        CartLine(performance_id=performance.id, quantity=2, category_id=cjp.id),
        CartLine(performance_id=performance.id, quantity=1),  # no category: "Regulier"
        language="en",
    )
    assert placed.subtotal == Money(2 * 1500 + 2500)
    with MemoryUnitOfWork(store, clock) as uow:
        order = uow.orders.get(placed.order_id)
    assert order is not None
    assert sorted((t.category_name, t.price) for t in order.tickets) == [
        ("CJP", Money(1500)),
        ("CJP", Money(1500)),
        ("Regular", Money(2500)),
    ]
    assert catalog.seats_left(performance) == 27
    assert catalog.categories(performance)[1].available == 3

    with MemoryUnitOfWork(store, clock) as uow:
        locked = lock_order(uow, placed.order_id)
        assert close_order(uow, locked, OrderStatus.CANCELLED, clock.now())
        uow.commit()
    assert catalog.seats_left(performance) == 30
    assert catalog.categories(performance)[1].available == 5


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("unknown", errors.UnknownPriceCategory),
        ("other performance", errors.UnknownPriceCategory),
        ("staff only", errors.PriceCategoryNotForSale),
        ("limit reached", errors.PriceCategorySoldOut),
    ],
)
def test_a_category_a_visitor_cannot_buy_is_refused_and_nothing_is_taken(
    catalog, store, clock, kind, error
):
    performance = catalog.performance(capacity=30)
    other = catalog.performance(capacity=30)
    categories = {
        "unknown": uuid.uuid4(),
        "other performance": catalog.categories(other)[0].id,
        "staff only": catalog.category(performance, "Pers", visibility=Visibility.STAFF).id,
        "limit reached": catalog.category(performance, "CJP", limit=2).id,
    }
    with pytest.raises(error) as refused:
        buy(
            MemoryUnitOfWork(store, clock),
            clock,
            CartLine(performance_id=performance.id, quantity=1),
            CartLine(performance_id=performance.id, quantity=3, category_id=categories[kind]),
        )
    assert refused.value.code == error.code
    assert refused.value.message  # Dutch, for the visitor
    assert catalog.seats_left(performance) == 30
    assert [c.available for c in catalog.categories(performance) if c.limited] == [2]


def test_a_performance_without_a_public_category_sells_nothing_to_visitors(
    catalog, store, clock, uow
):
    performance = catalog.performance()
    [regular] = catalog.categories(performance)
    regular.visibility = Visibility.STAFF
    with uow:
        uow.price_categories.update(regular)
        uow.commit()
    with pytest.raises(errors.UnknownPriceCategory):
        buy(uow, clock, CartLine(performance_id=performance.id, quantity=1))


def test_a_coupon_for_chosen_categories_discounts_only_their_tickets(catalog, store, clock):
    performance = catalog.performance(capacity=30, price=Money(2500))
    cjp = catalog.category(performance, "CJP", price=Money(1500))
    catalog.coupon("HALF", value=50)
    with MemoryUnitOfWork(store, clock) as uow:
        coupon = uow.coupons.get_by_code("HALF")
        assert coupon is not None
        coupon.category_names = (" cjp ",)  # names match whatever their case and spacing
        uow.coupons.update(coupon)
        uow.commit()
    cart = [
        CartLine(performance_id=performance.id, quantity=2, category_id=cjp.id),
        CartLine(performance_id=performance.id, quantity=1),
    ]
    request = CheckoutRequest(email="an@example.nl", name="An", lines=cart, coupon_code="half")
    placed = checkout(MemoryUnitOfWork(store, clock), clock, request)
    assert (placed.subtotal, placed.discount) == (Money(5500), Money(1500))

    regular_only = attrs.evolve(request, lines=cart[1:])
    with pytest.raises(errors.CouponNotForTheseTickets):
        checkout(MemoryUnitOfWork(store, clock), clock, regular_only)


def test_a_coupon_names_its_categories_or_applies_to_all():
    everything = Coupon(code="a", kind=DiscountKind.FIXED, value=500)
    chosen = Coupon(code="b", kind=DiscountKind.FIXED, value=500, category_names=["CJP", "65+"])
    assert everything.applies_to("Regulier")
    assert chosen.category_names == ("65+", "cjp")
    assert chosen.applies_to("CJP")
    assert not chosen.applies_to("Regulier")
    with pytest.raises(ValueError, match="at least one"):
        Coupon(code="c", kind=DiscountKind.FIXED, value=500, category_names=[])


def test_staff_choose_the_categories_a_coupon_discounts(uow, clock):
    staff = StaffCoupons(uow=lambda: uow, clock=clock)
    form = CouponForm(code="CJP5", kind=DiscountKind.FIXED, value=Decimal(500))
    coupon = staff.create(attrs.evolve(form, category_names=("CJP", "Student")))
    assert coupon.category_names == ("cjp", "student")
    assert staff.edit(coupon.id, form).category_names is None
    with pytest.raises(errors.ValidationError) as refused:
        staff.create(attrs.evolve(form, code="LEEG", category_names=(" ",)))
    assert set(refused.value.details["fields"]) == {"category_names"}  # type: ignore[call-overload]


def test_staff_set_a_limit_no_lower_than_what_is_taken(catalog, store, clock, uow):
    performance = catalog.performance(capacity=30)
    [regular] = catalog.categories(performance)
    buy(MemoryUnitOfWork(store, clock), clock, CartLine(performance_id=performance.id, quantity=4))
    with uow:
        with pytest.raises(errors.ValidationError) as refused:
            change_limit(uow, regular.id, 3)
        assert set(refused.value.details["fields"]) == {"limit"}  # type: ignore[call-overload]
        changed = change_limit(uow, regular.id, 6)
        uow.commit()
    assert (changed.limit, changed.available) == (6, 2)
    with pytest.raises(errors.PriceCategorySoldOut):
        buy(
            MemoryUnitOfWork(store, clock),
            clock,
            CartLine(performance_id=performance.id, quantity=3),
        )
    with uow, pytest.raises(errors.UnknownPriceCategory):
        change_limit(uow, uuid.uuid4(), 3)
