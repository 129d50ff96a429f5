"""One set of assertions for login sessions and throttle counters: memory, SQLite, Postgres
(and Redis for the counters)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from mierloos_adapters.memory import MemoryStore, MemoryThrottleStore, MemoryUnitOfWork
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_adapters.sqlalchemy.throttles import SqlThrottleStore
from mierloos_core.model.accounts import Role, User
from mierloos_core.ports import ThrottleStore, UnitOfWork
from mierloos_core.services.sessions import Sessions

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_uow(request: pytest.FixtureRequest, clock) -> Callable[[], UnitOfWork]:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store, clock)
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return lambda: SqlUnitOfWork(engine, clock)


def a_user(make_uow, clock, email: str = "an@example.nl", role: Role = Role.VISITOR) -> User:
    user = User(email=email, name="An", password_hash="x", created_at=clock.now(), role=role)
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
    return user


def test_a_session_lives_until_it_ends(make_uow, clock) -> None:
    user = a_user(make_uow, clock)
    sessions = Sessions(make_uow, clock)
    session_id = sessions.start(user)
    assert sessions.user(session_id).id == user.id
    assert sessions.user(session_id + "x") is None
    sessions.end(session_id)
    assert sessions.user(session_id) is None


def test_sessions_idle_out_and_age_out(make_uow, clock) -> None:
    visitor = a_user(make_uow, clock)
    staff = a_user(make_uow, clock, "kassa@example.nl", Role.ADMIN)
    sessions = Sessions(make_uow, clock)
    mine, theirs = sessions.start(visitor), sessions.start(staff)
    clock.advance(timedelta(hours=12, seconds=1))
    assert sessions.user(theirs) is None
    assert sessions.user(mine).id == visitor.id
    for _ in range(4):  # used every 6 days: never idle too long, but 30 days is the end
        clock.advance(timedelta(days=6))
        assert sessions.user(mine) is not None
    clock.advance(timedelta(days=6))
    assert sessions.user(mine) is None


def test_end_all_and_sweep(make_uow, clock) -> None:
    one, two = a_user(make_uow, clock), a_user(make_uow, clock, "twee@example.nl")
    sessions = Sessions(make_uow, clock)
    a, b, c = sessions.start(one), sessions.start(one), sessions.start(two)
    assert sessions.end_all(one.id) == 2
    assert sessions.user(a) is None
    assert sessions.user(b) is None
    assert sessions.user(c).id == two.id
    clock.advance(timedelta(days=8))
    assert sessions.sweep() == 1
    assert sessions.user(c) is None


def test_a_role_change_ends_the_session(make_uow, clock) -> None:
    user = a_user(make_uow, clock)
    sessions = Sessions(make_uow, clock)
    session_id = sessions.start(user)
    with make_uow() as uow:
        stored = uow.users.get(user.id)
        stored.role = Role.ADMIN
        uow.users.update(stored)
        uow.commit()
    assert sessions.user(session_id) is None


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def throttles(request: pytest.FixtureRequest, clock) -> ThrottleStore:
    if request.param == "memory":
        return MemoryThrottleStore(clock)
    if request.param == "redis":
        from mierloos_adapters.redis_throttles import RedisThrottleStore

        store = RedisThrottleStore(REDIS_URL)
        store.client.flushdb()
        return store
    from tests.integration.conftest import empty_all_tables

    engine = request.getfixturevalue(f"{request.param}_engine")
    empty_all_tables(engine)
    return SqlThrottleStore(engine, clock)


def test_counts_grow_within_a_window_and_clear(throttles: ThrottleStore) -> None:
    key = f"login-fail:{uuid.uuid4()}"
    assert throttles.count(key) == 0
    assert [throttles.hit(key, timedelta(minutes=15)) for _ in range(3)] == [1, 2, 3]
    assert throttles.count(key) == 3
    assert throttles.count(key + "-other") == 0
    throttles.clear(key)
    assert throttles.count(key) == 0
    assert throttles.hit(key, timedelta(minutes=15)) == 1


def test_a_window_starts_over_when_it_ends(throttles: ThrottleStore, clock) -> None:
    key = "kort"
    throttles.hit(key, timedelta(seconds=1))
    throttles.hit(key, timedelta(seconds=1))
    if isinstance(throttles, (MemoryThrottleStore, SqlThrottleStore)):
        clock.advance(timedelta(seconds=2))
    else:  # Redis keeps its own time
        import time

        time.sleep(1.1)
    assert throttles.count(key) == 0
    assert throttles.hit(key, timedelta(seconds=1)) == 1


def test_concurrent_hits_are_all_counted(throttles: ThrottleStore) -> None:
    key = "druk"
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: throttles.hit(key, timedelta(minutes=5)), range(80)))
    assert sorted(counts) == list(range(1, 81))
    assert throttles.count(key) == 80
