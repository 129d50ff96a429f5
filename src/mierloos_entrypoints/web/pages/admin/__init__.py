"""Staff pages under /beheer. Every route here is wrapped in `staff_required`.

Each admin module keeps its own `ROUTES` list; `routes()` joins them in one place.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from mierloos_entrypoints.web.pages.admin import (
    catalog,
    coupons,
    jobs,
    orders,
    overview,
    price_categories,
    refunds,
    reports,
)


def routes() -> list[BaseRoute]:
    return [
        *overview.ROUTES,
        *jobs.ROUTES,
        *orders.ROUTES,
        *refunds.ROUTES,
        *price_categories.ROUTES,  # before catalog's {action} routes of a performance
        *catalog.ROUTES,
        *coupons.ROUTES,
        *reports.ROUTES,
    ]
