# ruff: noqa: F811 (the fixtures, imported, are test parameters here)
"""Migration 0009 on a database with data: each performance's one price becomes "Regulier"."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Integer, String, Uuid, column, insert, select, table

from mierloos_adapters.migrations import downgrade, upgrade
from mierloos_adapters.sqlalchemy import tables as t
from tests.integration.test_migrations import empty_engine  # noqa: F401  (the fixture)

SHOW = uuid.uuid4()
PERFORMANCES = {uuid.uuid4(): 2250, uuid.uuid4(): 1500}
ORDER = uuid.uuid4()
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _rows_of_today(connection) -> None:

    shows = table(
        "shows", column("id", Uuid), column("title"), column("slug"), column("description")
    )
    connection.execute(insert(shows).values(id=SHOW, title="Hamlet", slug="hamlet", description=""))
    for performance_id, price in PERFORMANCES.items():
        connection.execute(
            insert(t.performances).values(
                id=performance_id,
                show_id=SHOW,
                starts_at=WHEN,
                price_cents=price,
                capacity=100,
                available_seats=97,
                status="published",
            )
        )
    values = {
        "id": ORDER,
        "number": "MT-1",
        "secret": "s" * 40,
        "email": "anna@example.nl",
        "name": "Anna",
        "status": "paid",
        "subtotal_cents": 2250 * 2 + 1500,
        "discount_cents": 500,
        "newsletter": False,
        "language": "nl",
        "created_at": WHEN,
        "expires_at": WHEN,
    }
    old_orders = table("orders", *(column(name, t.orders.c[name].type) for name in values))
    connection.execute(insert(old_orders).values(values))
    old_tickets = table(
        "tickets",
        column("id", Uuid),
        column("order_id", Uuid),
        column("position", Integer),
        column("performance_id", Uuid),
        column("price_cents", Integer),
        column("status", String),
        column("secret", String),
    )
    lines = [
        (p, price) for p, price in PERFORMANCES.items() for _ in range(2 if price > 2000 else 1)
    ]
    for position, (performance_id, price) in enumerate(lines, start=1):
        connection.execute(
            insert(old_tickets).values(
                id=uuid.uuid4(),
                order_id=ORDER,
                position=position,
                performance_id=performance_id,
                price_cents=price,
                status="valid",
                secret=f"ticket-{position}",
            )
        )


def test_each_performance_gets_regulier_and_its_tickets_point_at_it(empty_engine):
    engine = empty_engine
    upgrade(engine, "0008")
    with engine.begin() as connection:
        _rows_of_today(connection)
    upgrade(engine)

    with engine.connect() as connection:
        categories = connection.execute(select(t.price_categories)).all()
        tickets = connection.execute(select(t.tickets)).all()
        order = connection.execute(select(t.orders)).one()
    assert sorted((c.performance_id, c.price_cents) for c in categories) == sorted(
        PERFORMANCES.items()
    )
    assert {(c.name_nl, c.name_en, c.visibility, c.position) for c in categories} == {
        ("Regulier", "Regular", "public", 0)
    }
    assert all(c.seat_limit is None and c.available is None for c in categories)
    regular = {c.performance_id: c.id for c in categories}
    assert len(tickets) == 3
    assert all(tk.category_id == regular[tk.performance_id] for tk in tickets)
    assert {tk.category_name for tk in tickets} == {"Regulier"}
    assert sorted(tk.price_cents for tk in tickets) == [1500, 2250, 2250]
    assert (order.subtotal_cents, order.discount_cents) == (6000, 500)

    downgrade(engine, "0008")
    upgrade(engine)  # and back: the data survives the round trip
    with engine.connect() as connection:
        assert len(connection.execute(select(t.price_categories)).all()) == 2
