"""Staff pages under /beheer. Every route here is wrapped in `staff_required`.

Each admin module keeps its own `ROUTES` list; `routes()` joins them in one place.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from mierloos_entrypoints.web.pages.admin import (
    catalog,
    counter,
    counter_day,
    coupons,
    jobs,
    orders,
    overview,
    price_categories,
    refunds,
)


def routes() -> list[BaseRoute]:
    return [
        *overview.ROUTES,
        *jobs.ROUTES,
        *orders.ROUTES,
        *counter_day.ROUTES,  # before the counter's own routes
        *counter.ROUTES,
        *refunds.ROUTES,
        *price_categories.ROUTES,  # before catalog's {action} routes of a performance
        *catalog.ROUTES,
        *coupons.ROUTES,
    ]
