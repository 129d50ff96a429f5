"""A request the API models refuse, told in Dutch: the field and what is wrong with it.

The caller's own text (an unknown field's name, a value) is never echoed: it may not even be
valid UTF-8.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from mierloos_entrypoints.web.inputs import BadInput

_WHAT: dict[str, str] = {
    "missing": "is verplicht",
    "string_type": "moet tekst zijn",
    "int_type": "moet een geheel getal zijn",
    "bool_type": "moet true of false zijn",
    "list_type": "moet een lijst zijn",
    "model_type": "moet een object zijn",
    "dict_type": "moet een object zijn",
    "string_too_long": "mag hoogstens {max_length} tekens bevatten",
    "greater_than_equal": "moet minstens {ge} zijn",
    "less_than_equal": "mag hoogstens {le} zijn",
}


def _label(location: Sequence[int | str]) -> str:
    label = ""
    for part in location:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else part)
    return label


def _model_at(model: type[BaseModel], location: Sequence[int | str]) -> type[BaseModel]:
    """The model that holds the field at `location`: an unknown name's allowed neighbours."""
    for part in location:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            break
        inner = [
            kind
            for kind in (field.annotation, *typing.get_args(field.annotation))
            if isinstance(kind, type) and issubclass(kind, BaseModel)
        ]
        if not inner:
            break
        model = inner[0]
    return model


def refusal(model: type[BaseModel], error: ErrorDetails) -> BadInput:
    location = [part for part in error["loc"] if isinstance(part, int | str)]
    field = str(location[0]) if location else None
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(_model_at(model, location[:-1]).model_fields)
        where = f" in {_label(location[:-1])}" if len(location) > 1 else ""
        return BadInput(f"Onbekend veld{where}. Toegestaan: {allowed}.", field=field)
    if not location and error["type"] == "string_unicode":
        return BadInput("Een veldnaam bevat ongeldige tekens.")
    if not location:
        return BadInput("De body moet een JSON-object zijn.")
    what = _WHAT.get(error["type"])
    if what is not None:
        what = what.format(**error.get("ctx", {}))
    elif error["type"] == "value_error":
        what = f"is ongeldig ({error.get('ctx', {}).get('error', '')})"
    else:
        what = "is ongeldig"
    return BadInput(f"Het veld {_label(location)!r} {what}.", field=field)
