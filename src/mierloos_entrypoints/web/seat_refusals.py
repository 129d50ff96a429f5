"""Refused seats in the visitor's language: which seats, and why, in one message.

The core names each refused seat as "Zaal, rij 5, stoel 12" per reason (`SeatsUnavailable`);
this puts the reasons and the names in the page's language and picks the status: 409 when
a seat is taken or blocked (the hall changed, choose again), 422 for a choice that cannot be
made at all (a seat not in the hall, a companion seat alone, too many seats).
"""

from __future__ import annotations

import re

from starlette.requests import Request

from mierloos_core import errors
from mierloos_entrypoints.web.language import N_, request_language, texts_for

REASONS = {
    "not_in_plan": N_("niet in de zaal"),
    "blocked": N_("niet beschikbaar"),
    "taken": N_("al bezet"),
    "companion_without_wheelchair": N_("begeleidersplaats zonder rolstoelplaats ernaast"),
    "not_for_sale": N_("niet online te koop"),
}
_ENGLISH_NAMES = ((re.compile(r", rij "), ", row "), (re.compile(r", stoel "), ", seat "))


def _name(name: str, language: str) -> str:
    if language == "en":
        for pattern, replacement in _ENGLISH_NAMES:
            name = pattern.sub(replacement, name)
    return name


def seat_refusal(request: Request, error: errors.MierloosError) -> tuple[str, int]:
    """The message and HTTP status for a refusal of chosen or best-available seats."""
    texts = texts_for(request)
    if isinstance(error, errors.TooManySeats):
        text = texts.gettext("Je kunt hoogstens %(count)d stoelen per voorstelling kiezen.")
        return text % {"count": error.details["maximum"]}, 422
    if isinstance(error, errors.NoAdjacentSeats):
        text = texts.gettext(
            "Er zijn geen %(count)d stoelen naast elkaar meer vrij. Kies zelf stoelen op de kaart."
        )
        return text % {"count": error.details["count"]}, 409
    language = request_language(request)
    parts = [
        f"{texts.gettext(REASONS.get(reason, reason))}: "
        + ", ".join(_name(str(name), language) for name in names)
        for reason, names in error.details.items()
        if isinstance(names, list)
    ]
    lead = texts.gettext("Deze stoelen kun je niet kiezen: %(seats)s. Kies andere stoelen.")
    status = 409 if {"taken", "blocked"} & set(error.details) else 422
    return lead % {"seats": "; ".join(parts)}, status
