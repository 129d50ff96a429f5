"""Staff forms: read every field, keep what was typed, and collect each field's error.

A form that does not pass comes back with the input kept and the messages next to the fields
(422), whether the problem was found here (format) or by the core service (rules).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar, TypeVarTuple

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mierloos_core import errors
from mierloos_core.model.timeutil import local
from mierloos_entrypoints.web.inputs import MAX_FORM_FIELDS, BadInput, text
from mierloos_entrypoints.web.rendering import render
from mierloos_entrypoints.web.security import MAX_BODY_BYTES, Endpoint, FormHandler, csrf_protected

_T = TypeVar("_T")
_P = ParamSpec("_P")
_F = TypeVar("_F")
_Ts = TypeVarTuple("_Ts")

# Typed values longer than this are not sent back into the form (they were refused anyway).
_MAX_ECHO = 5000


class FormReader:
    def __init__(self, form: FormData) -> None:
        self.form = form
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    def text(self, name: str, *, max_length: int) -> str:
        raw = self.form.get(name, "")
        self.values[name] = raw[:_MAX_ECHO] if isinstance(raw, str) else ""
        try:
            return text(self.form, name, max_length=max_length)
        except BadInput as error:
            self.errors[name] = error.message
            return ""

    def parsed(self, name: str, parse: Callable[..., _T], *, optional: bool = False) -> _T | None:
        """The field read by `parse(value, field=name)`; None when empty (if optional) or bad."""
        value = self.text(name, max_length=100)
        if name in self.errors:
            return None
        if not value:
            if not optional:
                self.errors[name] = "Dit veld is verplicht."
            return None
        try:
            return parse(value, field=name)
        except BadInput as error:
            self.errors[name] = error.message
            return None

    async def submit(
        self, action: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T | None:
        """`action` run in a thread; None when the service refused the form (see `errors`)."""
        try:
            return await run_in_threadpool(action, *args, **kwargs)
        except errors.ValidationError as error:
            self.add_service_errors(error)
            return None

    async def read_and_submit(
        self,
        read: Callable[[FormReader], _F | None],
        action: Callable[[*_Ts, _F], _T],
        *args: *_Ts,
    ) -> _T | None:
        """`action(*args, form)` with the form as `read` reads it (see `submit`); None, with the
        errors kept, when a field did not read or the service refused the form."""
        form = read(self)
        if form is None or self.errors:
            return None
        return await self.submit(action, *args, form)

    def add_service_errors(self, error: errors.ValidationError) -> None:
        fields = error.details.get("fields")
        if isinstance(fields, dict):
            for name, message in fields.items():
                self.errors.setdefault(str(name), str(message))
        else:
            self.errors.setdefault("algemeen", error.message)


def wall_time_value(moment: datetime | None) -> str:
    """A datetime-local field's value for an aware moment, in Mierlo's time."""
    return local(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def euros_value(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}" if cents >= 0 else f"-{euros_value(-cents)}"


def staff_form(handler: FormHandler, *, files: int = 0, fields: int = MAX_FORM_FIELDS) -> Endpoint:
    """`csrf_protected`, reading the form with room for long text (and `files` files, and
    `fields` fields) first.

    Over-long fields then reach the form's own checks and come back next to their field,
    instead of failing the whole request in the parser. The request body limit bounds it all.
    """
    checked = csrf_protected(handler)

    async def endpoint(request: Request) -> Response:
        await request.form(max_files=files, max_fields=fields, max_part_size=MAX_BODY_BYTES)
        return await checked(request)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    endpoint.csrf_protected = True  # type: ignore[attr-defined]
    return endpoint


def form_context(reader: FormReader, **extra: Any) -> dict[str, Any]:
    return {"values": reader.values, "errors": reader.errors, **extra}


def form_state(
    reader: FormReader | None, shown: dict[str, str], prefix: str = ""
) -> dict[str, Any]:
    """A form's `values` and `errors` (names prefixed) for its template: what was typed and
    what was wrong with it, or `shown` and no errors when the form was not sent."""
    if reader is None:
        return {f"{prefix}values": shown, f"{prefix}errors": {}}
    return {f"{prefix}values": reader.values, f"{prefix}errors": reader.errors}


def form_page(
    request: Request, template: str, form: FormReader | dict[str, str], **context: Any
) -> Response:
    """A staff form's page: the values to show in it (200), or a sent form that did not pass:
    what was typed, with its errors (422)."""
    if isinstance(form, FormReader):
        state, status_code = form_state(form, {}), 422
    else:
        state, status_code = form_state(None, form), 200
    return render(request, template, {**context, **state}, status_code=status_code)
