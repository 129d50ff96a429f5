"""Alembic migrations for the whole schema, runnable from code: `upgrade(engine)`."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to run from several processes at once on Postgres."""
    with _IN_PROCESS:
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _IN_PROCESS:
        command.downgrade(alembic_config(engine), revision)
