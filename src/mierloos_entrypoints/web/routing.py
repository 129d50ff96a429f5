"""Route builders: one line per URL for form posts and staff-only pages.

Every HTML form post goes through `csrf_protected` (or `staff_form`, which wraps it), and every
staff route through `staff_required`; these builders keep that wrapping in one place.
"""

from __future__ import annotations

from starlette.routing import Route

from mierloos_entrypoints.web.auth import staff_required
from mierloos_entrypoints.web.security import Endpoint, FormHandler, csrf_protected


def form_post(path: str, handler: FormHandler, name: str) -> Route:
    """An HTML form's POST route: the handler gets the form once its CSRF token is checked."""
    return Route(path, csrf_protected(handler), methods=["POST"], name=name)


def staff_page(path: str, endpoint: Endpoint, name: str) -> Route:
    return Route(path, staff_required(endpoint), name=name)


def staff_post(path: str, endpoint: Endpoint, name: str) -> Route:
    """A staff-only POST route; `endpoint` checks the CSRF token (`csrf_protected`/`staff_form`)."""
    return Route(path, staff_required(endpoint), methods=["POST"], name=name)
