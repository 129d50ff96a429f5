"""Jinja2 templates: the environment, Dutch formatting filters and the `render` helper."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from mierloos_core.model import timeutil
from mierloos_core.model.money import Money
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.timeutil import local
from mierloos_entrypoints.web.cart_session import ticket_count
from mierloos_entrypoints.web.security import CSRF_FIELD, csrf_token
from mierloos_entrypoints.web.session_keys import USER_CACHE_ATTR, USER_KEY

THEATRE = "Ons Mierloos Theater"
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


ORDER_STATUS_LABELS: Mapping[str, str] = {
    OrderStatus.PENDING: "Wacht op betaling",
    OrderStatus.PAID: "Betaald",
    OrderStatus.CANCELLED: "Geannuleerd",
    OrderStatus.EXPIRED: "Verlopen",
    OrderStatus.REFUNDED: "Terugbetaald",
}

_FLASH_KEY = "flash"
_MAX_FLASHES = 5


def dutch_datetime(value: datetime) -> str:
    """``zaterdag 14 maart 2026, 20:15 uur`` in Mierlo's time."""
    return f"{timeutil.dutch_datetime(value)} uur"


def dutch_date(value: datetime) -> str:
    return timeutil.dutch_date(value)


def iso_local(value: datetime) -> str:
    return local(value).isoformat(timespec="minutes")


def money(value: Money) -> str:
    return value.display()


@jinja2.pass_context
def path_for(context: Mapping[str, Any], name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    return str(request.app.url_path_for(name, **params))


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=dutch_datetime, day=dutch_date, iso=iso_local, money=money, status=status_label
    )
    env.globals.update(theatre=THEATRE, path_for=path_for, csrf_field=CSRF_FIELD)
    return Jinja2Templates(env=env)


def status_label(status: str) -> str:
    return ORDER_STATUS_LABELS.get(status, str(status))


def flash(request: Request, message: str, level: str = "info") -> None:
    """A message for the next page this visitor sees."""
    messages = request.session.get(_FLASH_KEY)
    if not isinstance(messages, list):
        messages = []
    request.session[_FLASH_KEY] = [*messages, [level, message]][-_MAX_FLASHES:]


def _take_flashes(request: Request) -> list[tuple[str, str]]:
    messages = request.session.pop(_FLASH_KEY, None)
    if not isinstance(messages, list):
        return []
    return [
        (str(m[0]), str(m[1]))
        for m in messages
        if isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m)
    ]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    with_session: bool = True,
) -> Response:
    """A page; with the session's CSRF token, cart count and flash messages unless told not to."""
    templates: Jinja2Templates = request.app.state.templates
    values: dict[str, Any] = {
        "flashes": [],
        "cart_count": 0,
        "csrf_token": "",
        "logged_in": False,
        "user": None,
    }
    if with_session and "session" in request.scope:
        values.update(
            csrf_token=csrf_token(request),
            cart_count=ticket_count(request.session),
            flashes=_take_flashes(request),
            # The header needs no database: pages that looked the user up share what they found.
            logged_in=USER_KEY in request.session,
            user=getattr(request.state, USER_CACHE_ATTR, None),
        )
    values.update(context or {})
    return templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=headers
    )
