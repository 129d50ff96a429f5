"""Staff manage a performance's price categories and a show's default set."""

from __future__ import annotations

import uuid

import attrs
import pytest

from mierloos_adapters.memory import MemoryUnitOfWork
from mierloos_core import errors
from mierloos_core.model.cart import CartLine
from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import Visibility
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.staff_price_categories import CategoryForm, StaffPriceCategories

CJP = CategoryForm(name_nl="CJP", name_en="CJP", price=Money(1500), limit=10, position=1)


@pytest.fixture
def staff(store, clock):
    return StaffPriceCategories(uow=lambda: MemoryUnitOfWork(store, clock))


def fields(refused: pytest.ExceptionInfo[errors.ValidationError]) -> set[str]:
    found = refused.value.details["fields"]
    assert isinstance(found, dict)
    return set(found)


def test_staff_add_and_edit_a_category(staff, catalog, store, clock):
    performance = catalog.performance(capacity=50, price=Money(2500))
    cjp = staff.add(performance.id, attrs.evolve(CJP, name_nl="  CJP  "))
    assert (cjp.name_nl, cjp.limit, cjp.available) == ("CJP", 10, 10)
    assert [c.name_nl for c in staff.for_performance(performance.id)] == ["Regulier", "CJP"]

    request = CheckoutRequest(
        email="an@example.nl",
        name="An",
        lines=[CartLine(performance_id=performance.id, quantity=4, category_id=cjp.id)],
    )
    checkout(MemoryUnitOfWork(store, clock), clock, request)
    with pytest.raises(errors.ValidationError) as refused:
        staff.edit(cjp.id, attrs.evolve(CJP, limit=3))
    assert fields(refused) == {"limit"}

    edited = staff.edit(cjp.id, attrs.evolve(CJP, name_en="CJP pass", price=Money(1400), limit=6))
    assert (edited.name_en, edited.price, edited.limit, edited.available) == (
        "CJP pass",
        Money(1400),
        6,
        2,
    )


def test_the_performance_price_follows_its_default_category(staff, catalog, store, clock):
    performance = catalog.performance(price=Money(2500))
    [regular] = staff.for_performance(performance.id)
    staff.edit(regular.id, CategoryForm(name_nl="Regulier", name_en="Regular", price=Money(2200)))
    with MemoryUnitOfWork(store, clock) as uow:
        assert uow.performances.get(performance.id).price == Money(2200)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name_nl": " "}, "name_nl"),
        ({"name_en": "x" * 101}, "name_en"),
        ({"price": Money(-1)}, "price"),
        ({"limit": -1}, "limit"),
        ({"position": 5000}, "position"),
        ({"name_nl": "regulier"}, "name_nl"),  # the performance has one already
    ],
)
def test_bad_categories_are_refused_per_field(staff, catalog, changes, field):
    performance = catalog.performance()
    with pytest.raises(errors.ValidationError) as refused:
        staff.add(performance.id, attrs.evolve(CJP, **changes))
    assert fields(refused) == {field}


def test_a_shows_default_set_goes_into_its_new_performances(staff, catalog):
    show = catalog.show()
    press = CategoryForm(
        name_nl="Pers", name_en="Press", price=Money(0), visibility=Visibility.STAFF, position=0
    )
    regular = CategoryForm(name_nl="Regulier", name_en="Regular", price=Money(1), position=1)
    staff.set_show_defaults(show.id, [press, regular, attrs.evolve(CJP, position=2)])
    assert [t.name_nl for t in staff.show_defaults(show.id)] == ["Pers", "Regulier", "CJP"]

    performance = catalog.performance(show, price=Money(2400))
    copied = staff.for_performance(performance.id)
    assert [(c.name_nl, c.price, c.limit) for c in copied] == [
        ("Pers", Money(0), None),
        ("Regulier", Money(2400), None),  # the default category costs the performance's price
        ("CJP", Money(1500), 10),
    ]
    with pytest.raises(errors.ValidationError):
        staff.set_show_defaults(show.id, [CJP, CJP])
    with pytest.raises(errors.NotFound):
        staff.set_show_defaults(uuid.uuid4(), [CJP])
