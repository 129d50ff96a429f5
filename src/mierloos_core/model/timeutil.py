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
