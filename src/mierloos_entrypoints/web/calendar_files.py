"""iCalendar (.ics) files: one performance, or every performance of an order."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs
from icalendar import Calendar, Event
from starlette.responses import Response

from mierloos_entrypoints.web.rendering import THEATRE

PRODUCT_ID = "-//Ons Mierloos Theater//mierloos//NL"


@attrs.frozen(kw_only=True)
class CalendarEntry:
    uid: str  # stable, so importing the file twice updates the entry instead of doubling it
    title: str
    starts_at: datetime
    duration_minutes: int | None
    hall: str | None
    url: str
    description: str = ""


def calendar_response(entries: Iterable[CalendarEntry], filename: str, now: datetime) -> Response:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now)
        event.add("dtstart", entry.starts_at)
        if entry.duration_minutes:
            event.add("dtend", entry.starts_at + timedelta(minutes=entry.duration_minutes))
        event.add("summary", entry.title)
        event.add("location", f"{entry.hall}, {THEATRE}" if entry.hall else THEATRE)
        event.add("url", entry.url)
        if entry.description:
            event.add("description", entry.description)
        calendar.add_component(event)
    return Response(
        calendar.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
