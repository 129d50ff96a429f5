"""`OrderRepository.for_user`: the same assertions on the memory fake, SQLite and Postgres."""

from __future__ import annotations

from datetime import timedelta

from mierloos_core.model.accounts import User
from mierloos_core.model.orders import Order
from tests.integration import test_uow_contract as contract
from tests.integration.test_uow_contract import pending_order, stored

# The fixtures of the unit-of-work contract: memory, SQLite and Postgres.
make_uow, show_and_performance = contract.make_uow, contract.show_and_performance


def _user(clock, email: str) -> User:
    return User(email=email, name=email.split("@")[0], password_hash="x", created_at=clock.now())


def _order_of(clock, performance, user: User | None, minutes_later: int) -> Order:
    order = pending_order(clock, performance, seats=1, email="an@example.nl")
    order.user_id = user.id if user else None
    order.created_at = clock.now() + timedelta(minutes=minutes_later)
    order.expires_at = order.created_at + timedelta(minutes=15)
    return order


def test_a_user_sees_only_their_own_orders_newest_first(make_uow, show_and_performance, clock):
    _, performance = show_and_performance
    an, bo = _user(clock, "an@example.nl"), _user(clock, "bo@example.nl")
    first, second = _order_of(clock, performance, an, 1), _order_of(clock, performance, an, 2)
    others = [_order_of(clock, performance, bo, 3), _order_of(clock, performance, None, 4)]
    stored(make_uow, an, bo)
    stored(make_uow, first, second, *others)

    with make_uow() as uow:
        mine = uow.orders.for_user(an.id, limit=10)
        newest = uow.orders.for_user(an.id, limit=1)
        nobody = uow.orders.for_user(_user(clock, "cy@example.nl").id, limit=10)

    assert [order.number for order in mine] == [second.number, first.number]
    assert mine[0] == second  # the whole order, tickets included
    assert [order.number for order in newest] == [second.number]
    assert nobody == []
