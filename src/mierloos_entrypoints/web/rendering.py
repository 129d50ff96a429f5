"""Jinja2 templates: the environment, Dutch formatting filters and the `render` helper."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from mierloos_adapters.i18n import LANGUAGES, Texts, texts
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.timeutil import local
from mierloos_entrypoints.web.cart_session import ticket_count
from mierloos_entrypoints.web.language import request_language
from mierloos_entrypoints.web.security import CSRF_FIELD, csrf_token
from mierloos_entrypoints.web.session_keys import USER_CACHE_ATTR, USER_KEY
from mierloos_entrypoints.web.staff_areas import may_open
from mierloos_entrypoints.web.static_files import static_url

THEATRE = "Ons Mierloos Theater"
TEMPLATES_DIR = Path(__file__).parent / "templates"


# Marked for extraction only (the `_` here returns its argument): translated when shown.
def _(message: str) -> str:
    return message


ORDER_STATUS_LABELS: Mapping[str, str] = {
    OrderStatus.PENDING: _("Wacht op betaling"),
    OrderStatus.PAID: _("Betaald"),
    OrderStatus.CANCELLED: _("Geannuleerd"),
    OrderStatus.EXPIRED: _("Verlopen"),
    OrderStatus.REFUNDED: _("Terugbetaald"),
}

_FLASH_KEY = "flash"
_MAX_FLASHES = 5


def _texts(context: Mapping[str, Any]) -> Texts:
    return texts(context.get("language"))


@jinja2.pass_context
def _gettext(context: Mapping[str, Any], message: str) -> str:
    return _texts(context).gettext(message)


@jinja2.pass_context
def _ngettext(context: Mapping[str, Any], singular: str, plural: str, n: int) -> str:
    return _texts(context).ngettext(singular, plural, n)


def _in_page_language(name: str) -> Callable[..., str]:
    """A filter that formats with the page language's `Texts` method `name` (Babel)."""

    @jinja2.pass_context
    def apply(context: Mapping[str, Any], value: Any) -> str:
        return str(getattr(_texts(context), name)(value))

    return apply


# ``zaterdag 14 maart 2026, 20:15 uur``, ``za 14 mrt, 20:15``, ``zaterdag 14 maart 2026``,
# ``maart 2026``, ``€ 22,50``
FORMAT_FILTERS = {
    name: _in_page_language(name) for name in ("when", "short_when", "day", "month", "money")
}


@jinja2.pass_context
def status_label(context: Mapping[str, Any], status: str) -> str:
    label = ORDER_STATUS_LABELS.get(status)
    return _texts(context).gettext(label) if label else str(status)


def iso_local(value: datetime) -> str:
    return local(value).isoformat(timespec="minutes")


@jinja2.pass_context
def path_for(context: Mapping[str, Any], name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    if params:
        return str(request.app.url_path_for(name, **params))
    # A route without parameters always has the same path: found once per app, not on every
    # link of every page (Starlette tries each route in turn; a page has dozens of links).
    paths: dict[str, str] | None = getattr(request.app.state, "static_paths", None)
    if paths is None:
        paths = request.app.state.static_paths = {}
    path = paths.get(name)
    if path is None:
        path = paths[name] = str(request.app.url_path_for(name))
    return path


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        # The templates ship with the package and change only with a new release (and a
        # restart): no stat of every template file on each page.
        auto_reload=False,
    )
    env.policies["ext.i18n.trimmed"] = True  # whitespace in {% trans %} blocks is collapsed
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(FORMAT_FILTERS, iso=iso_local, status=status_label, may_open=may_open)
    env.globals.update(
        theatre=THEATRE,
        path_for=path_for,
        static_url=static_url,
        csrf_field=CSRF_FIELD,
        languages=LANGUAGES,
    )
    return Jinja2Templates(env=env)


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
        "language": request_language(request),
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
