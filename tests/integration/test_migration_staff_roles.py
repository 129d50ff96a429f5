# ruff: noqa: F811 (the fixtures, imported, are test parameters here)
"""Migration 0011 on a database with accounts: staff become admins, and back again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from mierloos_adapters.migrations import downgrade, upgrade
from mierloos_adapters.sqlalchemy import tables as t
from tests.integration.test_migrations import empty_engine  # noqa: F401  (the fixture)

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def add_user(connection, email: str, role: str) -> None:
    connection.execute(
        insert(t.users).values(
            id=uuid.uuid4(),
            email=email,
            name=email,
            password_hash="h",
            role=role,
            created_at=WHEN,
        )
    )


def roles(engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(t.users.c.email, t.users.c.role)).all())


def test_staff_become_admins_and_the_new_roles_are_allowed(empty_engine):
    upgrade(empty_engine, "0010")
    with empty_engine.begin() as connection:
        add_user(connection, "staf@example.nl", "staff")
        add_user(connection, "bezoeker@example.nl", "visitor")

    upgrade(empty_engine, "0011")

    assert roles(empty_engine) == {"staf@example.nl": "admin", "bezoeker@example.nl": "visitor"}
    with empty_engine.begin() as connection:
        add_user(connection, "kassa@example.nl", "kassa")
        add_user(connection, "deur@example.nl", "deur")
    with pytest.raises(IntegrityError), empty_engine.begin() as connection:
        add_user(connection, "oud@example.nl", "staff")

    downgrade(empty_engine, "0010")

    assert set(roles(empty_engine).values()) == {"staff", "visitor"}
    assert roles(empty_engine)["bezoeker@example.nl"] == "visitor"
    upgrade(empty_engine)
    assert roles(empty_engine)["kassa@example.nl"] == "admin"  # the way back cannot tell them apart
