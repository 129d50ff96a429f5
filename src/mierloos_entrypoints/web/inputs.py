"""Reading visitor input with limits on everything: forms, ids, quantities, secrets.

Every field has a maximum length; anything that does not fit is refused with `BadInput`
(a 4xx with a Dutch message), never passed on to the core.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request

# A form on this site has a handful of fields; more is someone else's idea.
MAX_FORM_FIELDS = 20
MAX_FIELD_BYTES = 4 * 1024

MAX_NAME = 200
MAX_EMAIL = 254
MAX_COUPON = 64
MAX_SLUG = 120

# `new_secret()` is 32 random bytes in url-safe base64: 43 characters.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_COUPON = re.compile(r"[A-Za-z0-9_-]+")
_DIGITS = re.compile(r"[0-9]{1,4}")


class BadInput(Exception):
    """Input that does not fit; `message` is safe to show."""

    def __init__(self, message: str, *, field: str | None = None, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status_code = status_code


async def read_form(request: Request) -> FormData:
    """The urlencoded form of a POST, with limits on field count and size; no file uploads."""
    return await request.form(
        max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
    )


def text(form: FormData, name: str, *, max_length: int, required: bool = False) -> str:
    """A text field, stripped; refuses uploads, over-long values and NUL characters."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise BadInput("Dit formulier accepteert geen bestanden.", field=name)
    value = value.strip()
    if len(value) > max_length:
        raise BadInput(f"Dit veld mag hoogstens {max_length} tekens bevatten.", field=name)
    if "\x00" in value or not is_utf8(value):
        raise BadInput("Dit veld bevat ongeldige tekens.", field=name)
    if required and not value:
        raise BadInput("Dit veld is verplicht.", field=name)
    return value


def is_utf8(value: str) -> bool:
    """False for strings with lone surrogates: valid JSON escapes, but not storable text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def checkbox(form: FormData, name: str) -> bool:
    value = form.get(name)
    return isinstance(value, str) and value in {"1", "on", "ja", "true"}


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID in its canonical 36-character form, or None."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def parse_quantity(value: object, maximum: int) -> int:
    """A whole number of tickets from 1 to `maximum`."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value.strip()):
        raise BadInput(f"Kies een aantal van 1 tot en met {maximum}.", field="quantity")
    quantity = int(value)
    if not 1 <= quantity <= maximum:
        raise BadInput(f"Kies een aantal van 1 tot en met {maximum}.", field="quantity")
    return quantity


def is_secret(value: str) -> bool:
    """Has the shape of an order secret. Anything else is not looked up at all."""
    return bool(_SECRET.fullmatch(value))


def is_slug(value: str) -> bool:
    return len(value) <= MAX_SLUG and bool(_SLUG.fullmatch(value))


def coupon_code(value: str) -> str | None:
    """A coupon code as typed, or None when empty; refuses characters no code ever has."""
    if not value:
        return None
    if len(value) > MAX_COUPON or not _COUPON.fullmatch(value):
        raise BadInput("Deze kortingscode bestaat niet.", field="coupon")
    return value


_EUROS = re.compile(r"(?:€\s*)?(-?[0-9]{1,7})(?:[.,]([0-9]{1,2}))?")
_LOCAL_MOMENT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})")
_WHOLE = re.compile(r"-?[0-9]{1,9}")


def parse_cents(value: str, *, field: str) -> int:
    """An amount typed in euros, '12,50', '12.50', '€ 12' or '-3', as whole cents."""
    found = _EUROS.fullmatch(value.strip().replace(" ", "")) if value else None
    if found is None:
        raise BadInput("Vul een bedrag in euro's in, bijvoorbeeld 12,50.", field=field)
    euros, cents = found.group(1), (found.group(2) or "0").ljust(2, "0")
    sign = -1 if euros.startswith("-") else 1
    return sign * (abs(int(euros)) * 100 + int(cents))


#: Years a staff form may name: converting year 1 or 9999 between zones overflows.
MOMENT_YEARS = range(2000, 2101)


def parse_local_moment(value: str, *, field: str) -> datetime:
    """A date and time as a datetime-local field sends it, '2026-03-08T20:15', without zone."""
    found = _LOCAL_MOMENT.fullmatch(value.strip())
    try:
        if found is None:
            raise ValueError(value)
        year, month, day, hour, minute = (int(part) for part in found.groups())
        moment = datetime(year, month, day, hour, minute)
    except ValueError:
        raise BadInput(
            "Vul een datum en tijd in, bijvoorbeeld 2026-03-08 20:15.", field=field
        ) from None
    if moment.year not in MOMENT_YEARS:
        raise BadInput(
            f"Kies een jaar van {MOMENT_YEARS.start} tot en met {MOMENT_YEARS.stop - 1}.",
            field=field,
        )
    return moment


def parse_whole_number(value: str, *, field: str) -> int:
    """A whole number as typed; the service decides which range is allowed."""
    if not _WHOLE.fullmatch(value.strip()):
        raise BadInput("Vul een heel getal in.", field=field)
    return int(value.strip())


def client_address(request: Request) -> str:
    """The caller's address, as uvicorn gives it (behind a proxy: with --proxy-headers)."""
    return request.client.host if request.client else "unknown"
