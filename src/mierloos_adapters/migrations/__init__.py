"""Alembic migrations for the whole schema, runnable from code: `upgrade(engine)`."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent
# Alembic keeps its running context in module globals: one migration per process at a time.
# Across processes, env.py takes a Postgres advisory lock.
_IN_PROCESS = threading.Lock()


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision this code knows: what `upgrade` brings a database to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have one head"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_behind(engine: Engine) -> str | None:
    """Why this release cannot use the database's schema yet, or None when it can.

    A schema newer than this code (a later release migrated first) is fine: migrations only
    add what older code ignores. A missing or older one is not.
    """
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        return "the database has no schema yet: run `mierloos migrate`"
    if current == head:
        return None
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(current)
    except CommandError:
        known = None
    if known is None:
        return None  # newer than this release
    return (
        f"the database schema is at revision {current}, this release needs {head}:"
        " run `mierloos migrate`"
    )


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to run from several processes at once on Postgres."""
    with _IN_PROCESS:
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _IN_PROCESS:
        command.downgrade(alembic_config(engine), revision)
