"""Which staff role may open which staff URL: the one place that maps paths to areas.

Door pages (/beheer/deur) are for every staff role, the counter (/beheer/kassa) and orders
(/beheer/bestellingen) for kassa and admin, every other staff page or staff API route for
admin only. A new staff route is therefore admin-only until it is listed here.
"""

from __future__ import annotations

from mierloos_core.model.accounts import StaffArea, User

STAFF_HOME = "/beheer"

AREA_PREFIXES: tuple[tuple[str, StaffArea], ...] = (
    ("/beheer/deur", StaffArea.DOOR),
    ("/beheer/kassa", StaffArea.COUNTER),
    ("/beheer/bestellingen", StaffArea.ORDERS),
)


def staff_area(path: str) -> StaffArea | None:
    """The area of `path` (the JSON API's /api prefix aside); None for the staff home page."""
    path = path.removeprefix("/api")
    if path.rstrip("/") == STAFF_HOME:
        return None
    for prefix, area in AREA_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return area
    return StaffArea.ADMIN


def may_open(user: User | None, path: str) -> bool:
    """Whether `user` may open the staff page at `path`."""
    if user is None or not user.is_staff:
        return False
    area = staff_area(path)
    return area is None or user.may_enter(area)
