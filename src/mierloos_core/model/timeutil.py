"""Time rules: aware UTC in storage, Europe/Amsterdam on screen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def require_aware(_instance: Any, attribute: Any, value: Any) -> None:
    """attrs validator: refuse naive datetimes, which silently mean 'local time somewhere'."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{attribute.name} must be timezone-aware")


def utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    """The moment as a clock in Mierlo shows it."""
    return value.astimezone(AMSTERDAM)


DUTCH_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def dutch_date(value: datetime) -> str:
    """The day in Mierlo, in Dutch: ``zaterdag 14 maart 2026``."""
    shown = local(value)
    return f"{DUTCH_DAYS[shown.weekday()]} {shown.day} {DUTCH_MONTHS[shown.month - 1]} {shown.year}"


def dutch_datetime(value: datetime) -> str:
    """The moment on a clock in Mierlo, in Dutch: ``zaterdag 14 maart 2026, 20:15``."""
    return f"{dutch_date(value)}, {local(value):%H:%M}"
