"""What the revisions' tables share: the entity table and its constraints, named as they are.

An entity table (`sqlalchemy.tables.entity_table`) has a uuid `id` as its primary key; its
constraints and indexes carry the names the project's naming convention gives them
(`pk_<table>`, `fk_<table>_<column>_<target>`, `ck_<table>_<name>`, `uq_<table>_<columns>`,
`ix_<table>_<columns>`), spelled out here because a revision must build the same schema
whatever the convention becomes. A revision that has run must keep building what it built:
change a helper only in ways that leave every existing revision's tables as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def json_document() -> sa.types.TypeEngine[Any]:
    """JSON; JSONB on Postgres."""
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def check(table: str, name: str, condition: str) -> sa.CheckConstraint:
    """The check constraint `ck_<table>_<name>`."""
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def one_of(table: str, column: str, values: Iterable[str]) -> sa.CheckConstraint:
    """`column` holds one of `values` (a status, a kind): `ck_<table>_<column>_valid`."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return check(table, f"{column}_valid", f"{column} IN ({allowed})")


def references(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """`column` points at the `id` of a row of `target`."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def create_entity_table(
    name: str,
    *elements: sa.Column[object] | sa.Constraint,
    unique: Sequence[str | sa.UniqueConstraint] = (),
    indexes: Iterable[Sequence[str]] = (),
) -> None:
    """Create the table: `id`, then `elements` (columns, then checks and foreign keys), its
    primary key, then its `unique` constraints (a column name: that column is unique) and
    `indexes` (each a sequence of column names)."""
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        *elements,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        *(
            sa.UniqueConstraint(item, name=op.f(f"uq_{name}_{item}"))
            if isinstance(item, str)
            else item
            for item in unique
        ),
    )
    for columns in indexes:
        op.create_index(op.f(f"ix_{name}_{'_'.join(columns)}"), name, list(columns))
