"""Rows to attrs objects and back: the one mapping every repository in this package uses.

A `RowMap` reads an attrs class's fields from the columns of the same name in its table, and
writes them back as a dict of column values. The few fields stored another way say how: money
as integer cents in a column of its own name (`cents`), an enum as its value (`enum_value`),
anything else through a pair of converters (`Stored`). `SqlRepository` is the base of the
repositories: their connection, and the statements they all write alike.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Any, Generic, TypeVar

import attrs
from sqlalchemy import (
    Connection,
    Executable,
    Row,
    Select,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from mierloos_core.model.money import Money

T = TypeVar("T", bound=attrs.AttrsInstance)
AnyRow = Row[*tuple[Any, ...]]


@attrs.frozen
class Stored:
    """How one field is stored: in `column` (default: the field's name), through `dump` on the
    way in and `load` on the way out (default: as it is).
    """

    column: str | None = None
    load: Callable[[Any], Any] | None = None
    dump: Callable[[Any], Any] | None = None


def cents(column: str) -> Stored:
    """Money as integer cents."""
    return Stored(column=column, load=Money, dump=attrgetter("cents"))


def enum_value(kind: type[enum.Enum]) -> Stored:
    """An enum member as its value."""
    return Stored(load=kind, dump=attrgetter("value"))


class RowMap(Generic[T]):
    """Builds an `item_type` from a row of `table`, and the column values of one.

    Every field of `item_type` is one column, except those in `separate`: the repository reads and
    writes these itself, and hands them to `load`.
    """

    def __init__(
        self,
        item_type: type[T],
        table: Table,
        /,
        *,
        separate: Collection[str] = (),
        **stored: Stored,
    ) -> None:
        self.item_type = item_type
        self.table = table
        fields = [f.name for f in attrs.fields(item_type) if f.name not in separate]
        unknown = set(stored) - set(fields)
        if unknown:
            raise TypeError(f"{item_type.__name__} has no stored fields {sorted(unknown)}")
        self._fields = tuple(fields)
        self._columns = tuple(stored[f].column or f if f in stored else f for f in fields)
        self._keys = self._columns
        self._read = itemgetter(*self._keys)  # by key: faster than a Row's attributes
        self._write = attrgetter(*self._fields)
        self._loads = tuple((f, s.load) for f, s in stored.items() if s.load is not None)
        self._dumps = tuple(
            (s.column or f, s.dump) for f, s in stored.items() if s.dump is not None
        )

    def labelled(self, prefix: str) -> RowMap[T]:
        """The same mapping reading its columns as `prefix` + name, so one query can select
        them beside another table's (see `columns`)."""
        copy = object.__new__(RowMap)
        copy.__dict__.update(self.__dict__)
        copy._keys = tuple(prefix + column for column in self._columns)
        copy._read = itemgetter(*copy._keys)
        return copy

    def columns(self) -> list[Any]:
        """The table's columns to select, labelled as `load` reads them."""
        pairs = zip(self._columns, self._keys, strict=True)
        return [self.table.c[column].label(key) for column, key in pairs]

    def load(self, row: AnyRow, **separate: Any) -> T:
        values = dict(zip(self._fields, self._read(row._mapping), strict=True))
        for field, load in self._loads:
            values[field] = load(values[field])
        return self.item_type(**values, **separate)

    @property
    def stored_columns(self) -> tuple[str, ...]:
        """The columns the item's fields are written to (other columns keep their default)."""
        return self._columns

    def values(self, item: T, *, without: Collection[str] = ()) -> dict[str, Any]:
        """The column values of `item`, leaving out the columns of the fields in `without`."""
        values = dict(zip(self._columns, self._write(item), strict=True))
        for column, dump in self._dumps:
            values[column] = dump(values[column])
        for field in without:
            del values[self._columns[self._fields.index(field)]]
        return values


def locked(query: Select[Any], for_update: bool) -> Select[Any]:
    """`query` taking row locks (SELECT ... FOR UPDATE) when asked to."""
    return query.with_for_update() if for_update else query


@functools.cache
def _update_by_id(table: Table, columns: tuple[str, ...]) -> Any:
    """UPDATE of `columns` of the row whose id is `new_id`, built once per table and column
    set; the parameters are the columns prefixed `new_` (see `SqlRepository._insert`)."""
    values = {c: bindparam(f"new_{c}", type_=table.c[c].type) for c in columns if c != "id"}
    return update(table).where(table.c.id == bindparam("new_id")).values(values)


class SqlRepository:
    """A repository on the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def _insert(self, rows: RowMap[T], item: T) -> None:
        # The values as parameters, not in the statement: SQLAlchemy then finds the compiled
        # INSERT by a cheap key instead of walking the literals on every call.
        self.db.execute(insert(rows.table), rows.values(item))

    def _update(self, rows: RowMap[T], item: T, *, without: Collection[str] = ()) -> None:
        """Writes the columns of `item`, but its id and those in `without`, to its row."""
        values = rows.values(item, without=without)
        params = {f"new_{column}": value for column, value in values.items()}
        self.db.execute(_update_by_id(rows.table, tuple(values)), params)

    def _find(self, rows: RowMap[T], *conditions: Any, for_update: bool = False) -> T | None:
        """The first row that meets `conditions`, locked (FOR UPDATE) when asked to."""
        return self._first(rows, locked(select(rows.table).where(*conditions), for_update))

    def _by_ids(self, rows: RowMap[T], ids: Collection[uuid.UUID]) -> dict[uuid.UUID, T]:
        """The rows with these ids, by id (one query; none for no ids)."""
        if not ids:
            return {}
        table = rows.table
        query = select(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
        return {row.id: rows.load(row) for row in self.db.execute(query, {"ids": list(ids)})}

    def _find_all(self, rows: RowMap[T], *conditions: Any, order_by: Sequence[Any]) -> list[T]:
        return self._all(rows, select(rows.table).where(*conditions).order_by(*order_by))

    def _first(
        self, rows: RowMap[T], query: Executable, params: Mapping[str, Any] | None = None
    ) -> T | None:
        row = self.db.execute(query, params).first()
        return rows.load(row) if row else None

    def _all(self, rows: RowMap[T], query: Executable) -> list[T]:
        return [rows.load(row) for row in self.db.execute(query)]

    def _newest(self, rows: RowMap[T], *conditions: Any) -> T | None:
        """The row created last of those that meet `conditions`."""
        table = rows.table
        return self._first(
            rows, select(table).where(*conditions).order_by(table.c.created_at.desc()).limit(1)
        )
