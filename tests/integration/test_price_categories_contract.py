# ruff: noqa: F811 (the fixtures, imported, are test parameters here)
"""One set of assertions for price categories on the memory fake and SQL (SQLite, Postgres)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, PerformanceStatus, Show
from mierloos_core.model.coupons import Coupon, DiscountKind
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import CategoryTemplate, PriceCategory, Visibility
from mierloos_core.ports import UnitOfWork
from tests.integration.test_uow_contract import (
    make_uow,  # noqa: F401  (the fixture)
    pending_order,
)
from tests.integration.test_uow_contract import regular as regular_of

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture
def performance(make_uow, clock) -> Performance:
    show = Show(title="Carmen", slug="carmen")
    performance = Performance(
        show_id=show.id,
        starts_at=clock.now() + timedelta(days=3),
        price=Money(2500),
        capacity=50,
        available_seats=50,
        status=PerformanceStatus.PUBLISHED,
    )
    with make_uow() as uow:
        uow.shows.add(show)
        uow.performances.add(performance)
        uow.commit()
    return performance


def categories_of(performance: Performance) -> tuple[PriceCategory, PriceCategory, PriceCategory]:
    regular = regular_of(performance)  # the category of `pending_order`'s tickets
    cjp = PriceCategory(
        performance_id=performance.id,
        name_nl="CJP",
        name_en="CJP",
        price=Money(1500),
        limit=5,
        position=1,
    )
    press = PriceCategory(
        performance_id=performance.id,
        name_nl="Pers",
        name_en="Press",
        price=Money(0),
        visibility=Visibility.STAFF,
        position=2,
    )
    return regular, cjp, press


def stored(make_uow: MakeUow, *categories: PriceCategory) -> None:
    with make_uow() as uow:
        for category in categories:
            uow.price_categories.add(category)
        uow.commit()


def test_what_is_stored_comes_back_equal_and_in_position_order(make_uow, performance):
    regular, cjp, press = categories_of(performance)
    stored(make_uow, press, cjp, regular)
    with make_uow() as uow:
        assert uow.price_categories.get(cjp.id) == cjp
        assert uow.price_categories.get(uuid.uuid4()) is None
        assert uow.price_categories.for_performance(performance.id) == [regular, cjp, press]
        other = uuid.uuid4()
        assert uow.price_categories.for_performances([performance.id, other]) == {
            performance.id: [regular, cjp, press],
            other: [],
        }
        assert uow.price_categories.get_many([press.id, uuid.uuid4()]) == {press.id: press}
    assert cjp.available == 5
    assert (regular.limit, regular.available) == (None, None)


def test_update_keeps_the_limit_and_the_seats_left(make_uow, performance):
    _, cjp, _ = categories_of(performance)
    stored(make_uow, cjp)
    with make_uow() as uow:
        uow.seats.reserve_in_categories({cjp.id: 2})
        uow.commit()
    changed = PriceCategory(
        id=cjp.id,
        performance_id=performance.id,
        name_nl="CJP-pas",
        name_en="CJP pass",
        price=Money(1400),
        limit=50,
        visibility=Visibility.STAFF,
        position=4,
    )
    with make_uow() as uow:
        uow.price_categories.update(changed)
        uow.commit()
    with make_uow() as uow:
        found = uow.price_categories.get(cjp.id)
    assert found is not None
    assert (found.name_nl, found.name_en, found.price, found.visibility, found.position) == (
        "CJP-pas",
        "CJP pass",
        Money(1400),
        Visibility.STAFF,
        4,
    )
    assert (found.limit, found.available) == (5, 3)


def test_category_seats_are_taken_all_or_nothing_under_the_limit(make_uow, performance):
    regular, cjp, _ = categories_of(performance)
    stored(make_uow, regular, cjp)
    with pytest.raises(errors.PriceCategorySoldOut), make_uow() as uow:  # noqa: PT012
        uow.seats.reserve_in_categories({regular.id: 40, cjp.id: 6})
        uow.commit()
    with make_uow() as uow:
        assert uow.price_categories.get(cjp.id).available == 5  # type: ignore[union-attr]
        uow.seats.reserve_in_categories({regular.id: 40, cjp.id: 5})
        uow.commit()
    with make_uow() as uow:
        assert uow.price_categories.get(cjp.id).available == 0  # type: ignore[union-attr]
        # Without a limit of its own a category counts nothing: the performance is the bound.
        assert uow.price_categories.get(regular.id).available is None  # type: ignore[union-attr]
        uow.seats.release_in_categories({cjp.id: 2, regular.id: 3})
        uow.commit()
    with make_uow() as uow:
        assert uow.price_categories.get(cjp.id).available == 2  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="give back"), make_uow() as uow:
        uow.seats.release_in_categories({cjp.id: 4})  # more than were taken


def test_an_unknown_category_gives_no_seats(make_uow, performance):
    with pytest.raises(errors.UnknownPriceCategory), make_uow() as uow:
        uow.seats.reserve_in_categories({uuid.uuid4(): 1})


def test_a_shows_default_set_is_replaced_whole(make_uow, performance):
    show_id = performance.show_id

    def template(name: str, position: int, limit: int | None = None) -> CategoryTemplate:
        return CategoryTemplate(
            show_id=show_id,
            name_nl=name,
            name_en=name,
            price=Money(1000 + position),
            limit=limit,
            position=position,
        )

    first = [template("Kind", 1, limit=20), template("Regulier", 0)]
    with make_uow() as uow:
        assert uow.price_categories.templates(show_id) == []
        uow.price_categories.replace_templates(show_id, first)
        uow.commit()
    with make_uow() as uow:
        assert uow.price_categories.templates(show_id) == [first[1], first[0]]
        second = [template("65+", 2)]
        uow.price_categories.replace_templates(show_id, second)
        uow.commit()
    with make_uow() as uow:
        assert uow.price_categories.templates(show_id) == second
        with pytest.raises(ValueError, match="another show"):
            uow.price_categories.replace_templates(uuid.uuid4(), second)


def test_a_coupon_keeps_the_categories_it_discounts(make_uow):
    chosen = Coupon(code="CJP5", kind=DiscountKind.FIXED, value=500, category_names=["CJP"])
    everything = Coupon(code="ALLES", kind=DiscountKind.PERCENTAGE, value=10)
    with make_uow() as uow:
        uow.coupons.add(chosen)
        uow.coupons.add(everything)
        uow.commit()
    with make_uow() as uow:
        assert uow.coupons.get(chosen.id) == chosen
        assert uow.coupons.get_by_code("alles") == everything
    assert (chosen.category_names, everything.category_names) == (("cjp",), None)


def test_a_limit_moves_the_seats_left_with_it(make_uow, performance, clock):
    regular, cjp, _ = categories_of(performance)
    stored(make_uow, regular, cjp)
    order = pending_order(clock, performance, seats=3)
    with make_uow() as uow:
        uow.orders.add(order)
        uow.seats.reserve_in_categories({cjp.id: 2})
        uow.commit()

    def limit_and_left(category: PriceCategory) -> tuple[int | None, int | None]:
        with make_uow() as uow:
            found = uow.price_categories.get(category.id)
        assert found is not None
        return found.limit, found.available

    with make_uow() as uow:
        assert not uow.price_categories.change_limit(regular.id, 2)  # 3 tickets hold seats
        assert not uow.price_categories.change_limit(cjp.id, 1)  # 2 taken
        assert not uow.price_categories.change_limit(uuid.uuid4(), 5)
        assert uow.price_categories.change_limit(regular.id, 10)
        assert uow.price_categories.change_limit(cjp.id, 8)
        uow.commit()
    assert limit_and_left(regular) == (10, 7)
    assert limit_and_left(cjp) == (8, 6)
    with make_uow() as uow:
        assert uow.price_categories.change_limit(cjp.id, None)
        uow.commit()
    assert limit_and_left(cjp) == (None, None)
