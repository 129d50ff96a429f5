"""Building one record from another that shares its field names."""

from __future__ import annotations

from typing import Any, TypeVar

import attrs

R = TypeVar("R", bound=attrs.AttrsInstance)


def copied(kind: type[R], source: object, **values: Any) -> R:
    """A `kind` whose fields are `values`, and for the fields not in `values` the attributes
    of `source` with the same names: a view of an order copies the order's number, status
    and totals, and names only what it adds or renames. A field with a default that `source`
    lacks keeps its default; one without a default that `source` lacks is an error."""
    for field in attrs.fields(kind):
        if field.name in values or not field.init:
            continue
        if field.default is attrs.NOTHING or hasattr(source, field.name):
            values[field.name] = getattr(source, field.name)
    return kind(**values)
