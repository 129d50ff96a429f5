"""Staff pages under /beheer. Every route here is wrapped in `staff_required`, which lets
each staff role in only where `web/staff_areas.py` says.

Each admin module keeps its own `ROUTES` list; `routes()` joins them in one place.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from mierloos_entrypoints.web.pages.admin import (
    catalog,
    counter,
    counter_day,
    coupons,
    devices,
    door,
    door_upload,
    jobs,
    orders,
    overview,
    performance_seating,
    price_categories,
    refunds,
    reports,
    seat_plans,
    staff,
    waitlist,
)


def routes() -> list[BaseRoute]:
    return [
        *overview.ROUTES,
        *jobs.ROUTES,
        *orders.ROUTES,
        *counter_day.ROUTES,  # before the counter's own routes
        *counter.ROUTES,
        *refunds.ROUTES,
        *waitlist.ROUTES,  # before catalog's {action} routes of a performance too
        *price_categories.ROUTES,  # before catalog's {action} routes of a performance
        *performance_seating.ROUTES,  # before catalog's {action} routes of a performance too
        *catalog.ROUTES,
        *coupons.ROUTES,
        *staff.ROUTES,
        *door.ROUTES,
        *door_upload.ROUTES,
        *devices.ROUTES,
        *reports.ROUTES,
        *seat_plans.ROUTES,
    ]
