"""Alembic environment: runs against the engine handed over in the config's attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from mierloos_adapters.sqlalchemy.tables import metadata

# Any number is fine as long as every process migrating this schema uses the same one.
_MIGRATION_LOCK_ID = 7_231_905_412


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        raise RuntimeError("run migrations through mierloos_adapters.migrations.upgrade(engine)")
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it into a new one and dropping the old, and a
            # DROP with foreign keys on deletes the rows pointing at it (or refuses): turn them
            # off around the migration (only possible outside a transaction), as SQLite's own
            # ALTER TABLE procedure says, and check them before the migration commits.
            _foreign_keys(connection, on=False)
        if connection.dialect.name == "postgresql":
            # Two processes starting at once (web and worker) must not migrate in parallel.
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=sqlite,
                # SQLite's DDL is transactional too: one migration run commits whole or not at all.
                transactional_ddl=True,
                compare_type=True,
            )
            with context.begin_transaction():
                before = context.get_context().get_current_heads()
                context.run_migrations()
                if sqlite and context.get_context().get_current_heads() != before:
                    _check_foreign_keys(connection)
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()  # a no-op after the commit; SQLite ignores the PRAGMA in one
                _foreign_keys(connection, on=True)
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
                connection.commit()


def _foreign_keys(connection: Connection, *, on: bool) -> None:
    # On the driver's connection: through SQLAlchemy the PRAGMA would open a transaction first.
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise RuntimeError(f"the migration left rows with broken foreign keys in {tables}")


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
