"""E-mail templates with Jinja2: Dutch by default, English on request.

Each e-mail is two templates under ``templates/email/<language>/``: ``<name>.txt`` (the plain
text, with the subject in its ``{% block subject %}``) and ``<name>.html`` (autoescaped).
Both extend a shared layout with the theatre's name and footer.

Contexts travel inside job payloads, so their values are JSON-friendly: strings, integers,
lists of dicts. Amounts are integer euro cents (``*_cents``); moments are ISO 8601 strings
with a UTC offset (``"2026-03-14T19:30:00+00:00"``), shown in Europe/Amsterdam time.
`TEMPLATE_CONTEXT` lists the keys each template needs; `render` checks them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import jinja2

from mierloos_adapters.i18n import texts
from mierloos_core.model.mail import OutgoingEmail
from mierloos_core.model.money import Money

THEATRE_NAME: Final = "Ons Mierloos Theater"
LANGUAGES: Final = ("nl", "en")
DEFAULT_LANGUAGE: Final = "nl"

# Template name -> the context keys it requires. Extra keys are ignored.
TEMPLATE_CONTEXT: Final[Mapping[str, tuple[str, ...]]] = {
    # Checkout done, payment provider not reached yet: "payment link follows".
    "order_received": ("name", "order_number", "order_url"),
    # The payment could be created: the link to pay.
    "payment_link": ("name", "order_number", "payment_url"),
    # Creating the payment kept failing: the order page, where paying can be retried.
    "payment_required": ("name", "order_number", "order_url"),
    # Paid. `lines` is a list of dicts with the keys in LINE_CONTEXT; `discount_cents` may be 0.
    "order_confirmed": (
        "name",
        "order_number",
        "lines",
        "discount_cents",
        "total_cents",
        "order_url",
    ),
    # The PDF with the tickets is ready; an optional `attached` (bool) says it is attached too.
    "tickets_ready": ("name", "order_number", "download_url"),
    # `reason` is "cancelled" (payment failed or was cancelled), "expired" (never paid) or
    # "performance_cancelled" (the theatre cancelled the performance).
    "order_cancelled": ("name", "order_number", "reason", "order_url"),
    # The provider took a refund on; `whole` says whether the tickets became invalid, `closed`
    # that the order had no tickets (the money came after it was cancelled or expired).
    "order_refunded": ("name", "order_number", "amount_cents", "whole", "closed", "order_url"),
    # To staff: a paid payment was charged back or reported failed afterwards.
    "payment_reversed": (
        "name",
        "order_number",
        "provider_payment_id",
        "payment_status",
        "charged_back_cents",
        "admin_url",
    ),
    # The link carries the reset token: valid one hour, single use.
    "password_reset": ("name", "reset_url"),
    "account_created": ("name", "email", "login_url"),
    # The performance was cancelled while the entry waited: it is off the list.
    "waitlist_cancelled": ("show", "date", "agenda_url"),
    # A phone booking: the seats are held until `pay_before` (ISO 8601), paid at the counter.
    "phone_booking": ("name", "order_number", "lines", "total_cents", "pay_before", "order_url"),
    # On a sold-out performance's waiting list: its place, and the personal link to see or leave.
    "waitlist_joined": ("show", "date", "quantity", "position", "waitlist_url"),
    # Seats came back and are held for the entry until `offer_expires`: the link to buy them.
    "waitlist_offer": ("lines", "total_cents", "offer_url", "offer_expires"),
}

# The keys of each dict in the `lines` of order_confirmed: show title, performance moment
# (ISO 8601 with offset), price category (its name as sold), number of tickets, and the
# line's amount in cents.
LINE_CONTEXT: Final = ("show", "date", "category", "quantity", "amount_cents")

CANCEL_REASONS: Final = ("cancelled", "expired", "performance_cancelled")

# One ticket line of the examples below.
_EXAMPLE_LINE: Final = {
    "show": "De Gebroken Kruik",
    "date": "2026-03-14T19:30:00+00:00",
    "category": "Regulier",
    "quantity": 2,
    "amount_cents": 3000,
}
# A filled-in context for every template: for previews and tests.
EXAMPLE_CONTEXT: Final[Mapping[str, Mapping[str, Any]]] = {
    "order_received": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "order_url": "https://kaarten.example.nl/bestelling/s3cr3t-order",
    },
    "payment_link": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "payment_url": "https://pay.example.com/checkout/tr_WDqYK6vllg?lang=nl&src=mail",
    },
    "payment_required": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "order_url": "https://kaarten.example.nl/bestelling/s3cr3t-order",
    },
    "order_confirmed": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "lines": [
            _EXAMPLE_LINE,
            {
                "show": "Kindervoorstelling: Dikkie Dik",
                "date": "2026-04-05T12:00:00+00:00",
                "category": "Kind t/m 12 jaar",
                "quantity": 3,
                "amount_cents": 2250,
            },
        ],
        "discount_cents": 500,
        "total_cents": 4750,
        "order_url": "https://kaarten.example.nl/bestelling/s3cr3t-order",
    },
    "tickets_ready": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "download_url": "https://kaarten.example.nl/bestelling/s3cr3t-order/tickets.pdf",
    },
    "order_cancelled": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "reason": "expired",
        "order_url": "https://kaarten.example.nl/bestelling/s3cr3t-order",
    },
    "order_refunded": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "amount_cents": 2250,
        "whole": False,
        "closed": False,
        "order_url": "https://kaarten.example.nl/bestelling/s3cr3t-order",
    },
    "payment_reversed": {
        "name": "Ons Mierloos Theater",
        "order_number": "OMT-2026-0042",
        "provider_payment_id": "tr_WDqYK6vllg",
        "payment_status": "paid",
        "charged_back_cents": 2250,
        "admin_url": "https://kaarten.example.nl/beheer/bestellingen/0b7e5c1e-0c1a-4f7e-9a55-3c3f1e2d4a11",
    },
    "password_reset": {
        "name": "Anna de Vries",
        "reset_url": "https://kaarten.example.nl/wachtwoord/nieuw?token=Zm9vYmFyYmF6cXV4",
    },
    "account_created": {
        "name": "Anna de Vries",
        "email": "anna@example.nl",
        "login_url": "https://kaarten.example.nl/inloggen",
    },
    "waitlist_cancelled": {
        "show": "De Gebroken Kruik",
        "date": "2026-03-14T19:30:00+00:00",
        "agenda_url": "https://kaarten.example.nl/",
    },
    "phone_booking": {
        "name": "Anna de Vries",
        "order_number": "OMT-2026-0042",
        "lines": [_EXAMPLE_LINE],
        "total_cents": 3000,
        "pay_before": "2026-03-14T18:30:00+00:00",
        "order_url": "https://kaarten.example.nl/bestelling/s3cr3t-order",
    },
    "waitlist_joined": {
        "show": "De Gebroken Kruik",
        "date": "2026-03-14T19:30:00+00:00",
        "quantity": 2,
        "position": 3,
        "waitlist_url": "https://kaarten.example.nl/wachtlijst/s3cr3t-entry",
    },
    "waitlist_offer": {
        "lines": [_EXAMPLE_LINE],
        "total_cents": 3000,
        "offer_url": "https://kaarten.example.nl/wachtlijst/aanbod/s3cr3t-order",
        "offer_expires": "2026-03-13T12:00:00+00:00",
    },
}


class EmailContextError(ValueError):
    """The context given for a template lacks a key or has a value of the wrong kind.

    The message names keys, never values: contexts may hold secrets such as reset links.
    """


def language_for(locale: str | None) -> str:
    """The template language for a locale: "en", "en-GB" and "en_US" give "en"; else "nl"."""
    language = (locale or "").replace("_", "-").split("-")[0].strip().lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def format_money(cents: object, language: str) -> str:
    """Cents as shown to a visitor: "€ 1.234,50" in Dutch, "€1,234.50" in English."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise EmailContextError(f"an amount must be whole cents (int), not {type(cents).__name__}")
    if language == "nl":
        return Money(cents).display()
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}€{euros:,}.{rest:02d}"


def format_moment(value: object, language: str) -> str:
    """An ISO 8601 moment (with offset) as a clock in Mierlo shows it."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise EmailContextError("a date must be ISO 8601 text with a UTC offset") from None
    elif isinstance(value, datetime):
        moment = value
    else:
        raise EmailContextError(f"a date must be ISO 8601 text, not {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise EmailContextError("a date must carry a UTC offset")
    return texts(language).when(moment)


def _environment(language: str) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mierloos_adapters", "templates/email"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["money"] = functools.partial(format_money, language=language)
    environment.filters["moment"] = functools.partial(format_moment, language=language)
    environment.globals["theatre"] = THEATRE_NAME
    environment.globals["language"] = language
    return environment


class JinjaEmailTemplates:
    """The EmailTemplates port over the templates shipped in this package.

    `base_url`, when given, is linked in every e-mail's footer.
    """

    def __init__(self, *, base_url: str | None = None) -> None:
        self.base_url = base_url
        self._environments = {language: _environment(language) for language in LANGUAGES}

    def render(
        self, template: str, *, to: str, context: Mapping[str, Any], locale: str = "nl"
    ) -> OutgoingEmail:
        if template not in TEMPLATE_CONTEXT:
            raise KeyError(template)
        _check_context(template, context)
        language = language_for(locale)
        environment = self._environments[language]
        values = {**context, "base_url": self.base_url}
        try:
            text_template = environment.get_template(f"{language}/{template}.txt")
            subject = _render_subject(text_template, values)
            text = text_template.render(values)
            html_template = environment.get_template(f"{language}/{template}.html")
            html = html_template.render({**values, "subject": subject})
        except jinja2.UndefinedError as exc:
            raise EmailContextError(f"{template}: {exc.message}") from None
        if not subject:
            raise RuntimeError(f"template {template!r} has an empty subject")
        return OutgoingEmail(to=to, subject=subject, text=text, html=html)


def _render_subject(template: jinja2.Template, values: Mapping[str, Any]) -> str:
    block = template.blocks.get("subject")
    if block is None:
        raise RuntimeError(f"template {template.name!r} lacks a subject block")
    return " ".join("".join(block(template.new_context(dict(values)))).split())


def _check_context(template: str, context: Mapping[str, Any]) -> None:
    missing = [key for key in TEMPLATE_CONTEXT[template] if key not in context]
    if missing:
        raise EmailContextError(f"{template}: missing context keys: {', '.join(missing)}")
    if "lines" in TEMPLATE_CONTEXT[template]:
        _check_lines(template, context["lines"])
    if "reason" in TEMPLATE_CONTEXT[template] and context["reason"] not in CANCEL_REASONS:
        raise EmailContextError(f"{template}: reason must be one of {', '.join(CANCEL_REASONS)}")


def _check_lines(template: str, lines: object) -> None:
    if isinstance(lines, str | bytes) or not isinstance(lines, Sequence) or not lines:
        raise EmailContextError(f"{template}: lines must be a non-empty list")
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, Mapping):
            raise EmailContextError(f"{template}: line {number} must be a dict")
        missing = [key for key in LINE_CONTEXT if key not in line]
        if missing:
            raise EmailContextError(f"{template}: line {number} lacks keys: {', '.join(missing)}")
