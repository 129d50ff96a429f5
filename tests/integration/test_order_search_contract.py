"""OrderRepository.search: the same assertions for the memory fake, SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from mierloos_adapters.memory import FixedClock, MemoryStore, MemoryUnitOfWork
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.ports import OrderSearch, UnitOfWork

MakeUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_uow(request: pytest.FixtureRequest, clock: FixedClock) -> MakeUow:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store, clock)
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return lambda: SqlUnitOfWork(engine, clock)


@pytest.fixture
def add_order(make_uow: MakeUow, clock: FixedClock) -> Callable[..., Order]:
    """Store an order; each one a minute younger than the one before."""
    made = 0

    def add(
        email: str = "klant@example.nl",
        name: str = "Klant",
        *,
        status: OrderStatus = OrderStatus.PAID,
        needs_attention: str | None = None,
        number: str | None = None,
    ) -> Order:
        nonlocal made
        made += 1
        created = clock.now() + timedelta(minutes=made)
        order = Order(
            email=email,
            name=name,
            subtotal=Money(5000),
            discount=Money(750),
            created_at=created,
            expires_at=created + timedelta(minutes=15),
            status=status,
            needs_attention=needs_attention,
        )
        if number is not None:
            order.number = number
        with make_uow() as uow:
            uow.orders.add(order)
            uow.commit()
        return order

    return add


def search(make_uow: MakeUow, text: str = "", **options: object) -> list[str]:
    with make_uow() as uow:
        found = uow.orders.search(OrderSearch(text=text, **options))  # type: ignore[arg-type]
    return [order.number for order in found.orders]


def test_a_whole_order_number_finds_its_order_in_any_case(make_uow, add_order):
    wanted = add_order(number="OMT-ABCD2345")
    add_order(number="OMT-ABCD2346")

    assert search(make_uow, "omt-abcd2345") == [wanted.number]
    assert search(make_uow, "  OMT-ABCD2345 ") == [wanted.number]
    assert search(make_uow, "ABCD") == []


def test_part_of_an_email_or_name_finds_orders_in_any_case(make_uow, add_order):
    an = add_order("an.devries@example.nl", "An de Vries")
    piet = add_order("piet@voorbeeld.nl", "Piet Janssen")
    add_order("kees@elders.org", "Kees")

    assert search(make_uow, "DEVRIES@") == [an.number]
    assert search(make_uow, "voorbeeld") == [piet.number]
    assert search(make_uow, "janss") == [piet.number]
    assert search(make_uow, "e") == search(make_uow)
    assert len(search(make_uow, "e")) == 3


def test_the_summary_carries_what_the_list_shows(make_uow, add_order):
    order = add_order("an@example.nl", "An", needs_attention="Betaald na verlopen")

    with make_uow() as uow:
        page = uow.orders.search(OrderSearch(text="an@"))

    (summary,) = page.orders
    assert (summary.id, summary.number, summary.email, summary.name) == (
        order.id,
        order.number,
        "an@example.nl",
        "An",
    )
    assert summary.status is OrderStatus.PAID
    assert summary.total == Money(4250)
    assert summary.created_at == order.created_at
    assert summary.needs_attention == "Betaald na verlopen"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%", ["100% Theater"]),
        ("_", ["a_b"]),
        ("a_b", ["a_b"]),
        ("o'brien", ["O'Brien"]),
        ('"', ['Zeg "hoi"']),
        ("/", ["<script>x</script>", "Jan/Piet"]),
        ("\\", ["Back\\slash"]),
        ("<script>", ["<script>x</script>"]),
        ("'; drop table orders; --", []),
    ],
)
def test_wildcards_and_quotes_match_only_themselves(make_uow, add_order, text, expected):
    names = ["100% Theater", "a_b", "axb", "O'Brien", 'Zeg "hoi"', "Jan/Piet", "Back\\slash"]
    names.append("<script>x</script>")
    by_number = {
        add_order(f"klant{n}@example.nl", name).number: name for n, name in enumerate(names)
    }

    found = [by_number[number] for number in search(make_uow, text)]

    assert found == expected
    assert len(search(make_uow)) == len(names)


def test_status_and_attention_filters_combine_with_the_text(make_uow, add_order):
    flagged = add_order("an@example.nl", status=OrderStatus.PAID, needs_attention="Kaarten mislukt")
    pending = add_order("an@example.nl", status=OrderStatus.PENDING)
    add_order("bo@example.nl", status=OrderStatus.PAID, needs_attention="Terugbetalen?")

    assert search(make_uow, "an@", status=OrderStatus.PENDING) == [pending.number]
    assert search(make_uow, "an@", needs_attention=True) == [flagged.number]
    assert len(search(make_uow, needs_attention=True)) == 2
    assert search(make_uow, status=OrderStatus.REFUNDED) == []


def test_results_come_newest_first_one_page_at_a_time(make_uow, add_order):
    numbers = [add_order(f"klant{n}@example.nl").number for n in range(7)]

    with make_uow() as uow:
        first = uow.orders.search(OrderSearch(text="klant", per_page=3))
        third = uow.orders.search(OrderSearch(text="klant", per_page=3, page=3))
        beyond = uow.orders.search(OrderSearch(text="klant", per_page=3, page=4))

    assert [o.number for o in first.orders] == numbers[::-1][:3]
    assert [o.number for o in third.orders] == [numbers[0]]
    assert beyond.orders == ()
    assert (first.total, first.pages, third.page) == (7, 3, 3)


def test_impossible_pages_are_refused(make_uow):
    with make_uow() as uow, pytest.raises(ValueError, match="pages"):
        uow.orders.search(OrderSearch(page=0))
