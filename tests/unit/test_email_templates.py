"""The e-mail templates: every template in both languages, escaping, and context checks."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from mierloos_adapters.email_templates import (
    EXAMPLE_CONTEXT,
    LANGUAGES,
    LINE_CONTEXT,
    TEMPLATE_CONTEXT,
    EmailContextError,
    JinjaEmailTemplates,
    format_moment,
    format_money,
    language_for,
)

TO = "anna@example.nl"

# The context key holding each template's link.
LINK_KEY = {
    "order_received": "order_url",
    "payment_link": "payment_url",
    "payment_required": "order_url",
    "order_confirmed": "order_url",
    "tickets_ready": "download_url",
    "order_cancelled": "order_url",
    "order_refunded": "order_url",
    "payment_reversed": "admin_url",
    "password_reset": "reset_url",
    "account_created": "login_url",
    "waitlist_joined": "waitlist_url",
    "waitlist_offer": "offer_url",
    "phone_booking": "order_url",
    "waitlist_cancelled": "agenda_url",
}

# A word each subject must contain, per language: shows the subject is in that language.
SUBJECT_WORD = {
    "nl": {
        "order_received": "bestelling",
        "payment_link": "betaallink",
        "payment_required": "betaal",
        "order_confirmed": "bevestiging",
        "tickets_ready": "kaarten",
        "order_cancelled": "bestelling",
        "order_refunded": "terug",
        "payment_reversed": "betaling",
        "password_reset": "wachtwoord",
        "account_created": "welkom",
        "waitlist_joined": "wachtlijst",
        "waitlist_offer": "kaarten",
        "phone_booking": "reservering",
        "waitlist_cancelled": "geannuleerd",
    },
    "en": {
        "order_received": "order",
        "payment_link": "payment",
        "payment_required": "pay",
        "order_confirmed": "confirmed",
        "tickets_ready": "tickets",
        "order_cancelled": "order",
        "order_refunded": "refunding",
        "payment_reversed": "payment",
        "password_reset": "password",
        "account_created": "welcome",
        "waitlist_joined": "waiting list",
        "waitlist_offer": "tickets",
        "phone_booking": "booking",
        "waitlist_cancelled": "cancelled",
    },
}

# Words the body of each language has and the other lacks.
BODY_WORD = {"nl": "Met vriendelijke groet", "en": "Kind regards"}

TEMPLATES = sorted(TEMPLATE_CONTEXT)


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        self.hrefs.extend(value for name, value in attrs if name == "href" and value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(document: str) -> _Hrefs:
    parser = _Hrefs()
    parser.feed(document)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def templates() -> JinjaEmailTemplates:
    return JinjaEmailTemplates()


def context_for(template: str, **changes: Any) -> dict[str, Any]:
    return {**EXAMPLE_CONTEXT[template], **changes}


def test_every_template_has_an_example_context_with_its_required_keys() -> None:
    assert set(EXAMPLE_CONTEXT) == set(TEMPLATE_CONTEXT)
    for template, keys in TEMPLATE_CONTEXT.items():
        assert set(keys) <= set(EXAMPLE_CONTEXT[template]), template


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_template_renders_subject_and_both_parts_in_the_language(
    templates: JinjaEmailTemplates, template: str, locale: str
) -> None:
    email = templates.render(template, to=TO, context=EXAMPLE_CONTEXT[template], locale=locale)

    assert email.to == TO
    assert email.subject.strip() == email.subject
    assert "\n" not in email.subject
    assert SUBJECT_WORD[locale][template] in email.subject.lower()
    assert email.html is not None
    assert BODY_WORD[locale] in email.text
    assert BODY_WORD[locale] in email.html
    assert f'<html lang="{locale}">' in email.html
    assert f"<title>{html.escape(email.subject)}</title>" in email.html
    assert "Ons Mierloos Theater" in email.text
    assert "Ons Mierloos Theater" in email.html


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_both_parts_carry_the_link_and_the_order_number(
    templates: JinjaEmailTemplates, template: str, locale: str
) -> None:
    context = EXAMPLE_CONTEXT[template]
    link = context[LINK_KEY[template]]
    email = templates.render(template, to=TO, context=context, locale=locale)
    assert email.html is not None

    # The plain text has the link whole on a line of its own, so any client can open it.
    assert link in email.text.splitlines()
    # In HTML the link is an href that decodes back to exactly the same URL.
    assert link in parse_html(email.html).hrefs
    if "order_number" in context:
        assert context["order_number"] in email.subject
        assert context["order_number"] in email.text
        assert context["order_number"] in email.html


def test_subjects_differ_between_dutch_and_english(templates: JinjaEmailTemplates) -> None:
    for template in TEMPLATES:
        dutch = templates.render(template, to=TO, context=EXAMPLE_CONTEXT[template])
        english = templates.render(template, to=TO, context=EXAMPLE_CONTEXT[template], locale="en")
        assert dutch.subject != english.subject, template
        assert dutch.text != english.text, template


def test_dutch_is_the_default_locale(templates: JinjaEmailTemplates) -> None:
    default = templates.render("payment_link", to=TO, context=EXAMPLE_CONTEXT["payment_link"])
    dutch = templates.render(
        "payment_link", to=TO, context=EXAMPLE_CONTEXT["payment_link"], locale="nl"
    )
    assert default == dutch
    assert default.subject == "Betaallink voor je bestelling OMT-2026-0042"


@pytest.mark.parametrize("locale", ["fr", "de-DE", "", "xx_YY", "NL"])
def test_unknown_locale_falls_back_to_dutch(templates: JinjaEmailTemplates, locale: str) -> None:
    context = EXAMPLE_CONTEXT["password_reset"]
    email = templates.render("password_reset", to=TO, context=context, locale=locale)
    dutch = templates.render("password_reset", to=TO, context=context, locale="nl")
    assert email == dutch


@pytest.mark.parametrize("locale", ["en", "en-GB", "en_US", "EN"])
def test_english_is_chosen_by_its_language_tag(templates: JinjaEmailTemplates, locale: str) -> None:
    email = templates.render(
        "password_reset", to=TO, context=EXAMPLE_CONTEXT["password_reset"], locale=locale
    )
    assert email.subject == "Reset your password"
    assert language_for(locale) == "en"


def test_unknown_template_raises_key_error(templates: JinjaEmailTemplates) -> None:
    with pytest.raises(KeyError, match="no_such_mail"):
        templates.render("no_such_mail", to=TO, context={})


@pytest.mark.parametrize("name", ["../nl/_base", "nl/order_received", "_layout"])
def test_template_names_cannot_reach_layouts_or_paths(
    templates: JinjaEmailTemplates, name: str
) -> None:
    with pytest.raises(KeyError):
        templates.render(name, to=TO, context={"name": "x"})


@pytest.mark.parametrize("template", TEMPLATES)
def test_missing_context_key_is_an_error_naming_the_key(
    templates: JinjaEmailTemplates, template: str
) -> None:
    for key in TEMPLATE_CONTEXT[template]:
        context = {k: v for k, v in EXAMPLE_CONTEXT[template].items() if k != key}
        with pytest.raises(EmailContextError, match=re.escape(key)):
            templates.render(template, to=TO, context=context)


def test_missing_key_in_an_order_line_is_an_error(templates: JinjaEmailTemplates) -> None:
    for key in LINE_CONTEXT:
        line = {k: v for k, v in EXAMPLE_CONTEXT["order_confirmed"]["lines"][0].items() if k != key}
        with pytest.raises(EmailContextError, match=f"line 1 lacks keys: {key}"):
            templates.render(
                "order_confirmed", to=TO, context=context_for("order_confirmed", lines=[line])
            )


@pytest.mark.parametrize("lines", [[], "De Gebroken Kruik", ["De Gebroken Kruik"], None])
def test_order_lines_must_be_a_non_empty_list_of_dicts(
    templates: JinjaEmailTemplates, lines: object
) -> None:
    with pytest.raises(EmailContextError, match="line"):
        templates.render(
            "order_confirmed", to=TO, context=context_for("order_confirmed", lines=lines)
        )


def test_cancel_reason_must_be_cancelled_or_expired(templates: JinjaEmailTemplates) -> None:
    with pytest.raises(EmailContextError, match="reason"):
        templates.render(
            "order_cancelled", to=TO, context=context_for("order_cancelled", reason="refunded")
        )


def test_cancelled_and_expired_orders_get_different_messages(
    templates: JinjaEmailTemplates,
) -> None:
    expired = templates.render(
        "order_cancelled", to=TO, context=context_for("order_cancelled", reason="expired")
    )
    cancelled = templates.render(
        "order_cancelled", to=TO, context=context_for("order_cancelled", reason="cancelled")
    )
    assert expired.subject == "Je bestelling OMT-2026-0042 is verlopen"
    assert cancelled.subject == "Je bestelling OMT-2026-0042 is geannuleerd"
    assert "vervallen" in expired.text
    assert "mislukt" in cancelled.text


def test_hostile_input_is_escaped_in_html_and_verbatim_in_text(
    templates: JinjaEmailTemplates,
) -> None:
    hostile = '<script>alert("x")</script>'
    line = {**EXAMPLE_CONTEXT["order_confirmed"]["lines"][0], "show": f"Show {hostile}"}
    context = context_for("order_confirmed", name=hostile, lines=[line])

    email = templates.render("order_confirmed", to=TO, context=context)
    assert email.html is not None

    document = parse_html(email.html)
    assert "<script>" not in email.html
    assert document.scripts == 0
    # What a reader sees is the name as typed, harmless text.
    assert f"Beste {hostile}," in document.text
    assert f"Show {hostile}" in document.text
    assert email.html.count("&lt;script&gt;") == 2  # the greeting and the order line
    assert f"Beste {hostile}," in email.text


def test_hostile_link_cannot_break_out_of_the_href(templates: JinjaEmailTemplates) -> None:
    link = 'https://x.example/reset?token=a"><script>alert(1)</script>&b=1'
    email = templates.render(
        "password_reset", to=TO, context=context_for("password_reset", reset_url=link)
    )
    assert email.html is not None

    document = parse_html(email.html)
    assert document.scripts == 0
    assert link in document.hrefs


def test_order_confirmation_lists_lines_amounts_discount_and_total(
    templates: JinjaEmailTemplates,
) -> None:
    dutch = templates.render(
        "order_confirmed", to=TO, context=EXAMPLE_CONTEXT["order_confirmed"], locale="nl"
    )
    english = templates.render(
        "order_confirmed", to=TO, context=EXAMPLE_CONTEXT["order_confirmed"], locale="en"
    )
    assert dutch.html is not None
    assert english.html is not None

    # 19:30 UTC in March is 20:30 in Mierlo.
    for part in (dutch.text, dutch.html):
        assert "De Gebroken Kruik" in part
        assert "zaterdag 14 maart 2026, 20:30 uur" in part
        assert "€ 30,00" in part
        assert "-€ 5,00" in part
        assert "€ 47,50" in part
    assert "2 kaarten: € 30,00" in dutch.text
    assert "Totaal: € 47,50" in dutch.text
    for part in (english.text, english.html):
        assert "Saturday 14 March 2026, 20:30" in part
        assert "€30.00" in part
        assert "€47.50" in part
    assert "3 tickets: €22.50" in english.text
    assert "Total: €47.50" in english.text


def test_order_confirmation_names_the_price_category_of_each_line(
    templates: JinjaEmailTemplates,
) -> None:
    dutch, english = (
        templates.render(
            "order_confirmed", to=TO, context=context_for("order_confirmed"), locale=locale
        )
        for locale in ("nl", "en")
    )
    assert dutch.html is not None
    assert english.html is not None

    assert "Regulier, 2 kaarten: € 30,00" in dutch.text
    assert "Kind t/m 12 jaar, 3 kaarten: € 22,50" in dutch.text
    assert ">Categorie</th>" in dutch.html
    assert ">Kind t/m 12 jaar</td>" in dutch.html
    assert "Regulier, 2 tickets: €30.00" in english.text
    assert ">Category</th>" in english.html


def test_order_confirmation_without_discount_has_no_discount_line(
    templates: JinjaEmailTemplates,
) -> None:
    email = templates.render(
        "order_confirmed",
        to=TO,
        context=context_for("order_confirmed", discount_cents=0, total_cents=5250),
    )
    assert email.html is not None
    assert "Korting" not in email.text
    assert "Korting" not in email.html
    assert "Totaal: € 52,50" in email.text


def test_single_ticket_is_singular(templates: JinjaEmailTemplates) -> None:
    line = {**EXAMPLE_CONTEXT["order_confirmed"]["lines"][0], "quantity": 1, "amount_cents": 1500}
    context = context_for("order_confirmed", lines=[line])
    assert "1 kaart: € 15,00" in templates.render("order_confirmed", to=TO, context=context).text
    english = templates.render("order_confirmed", to=TO, context=context, locale="en")
    assert "1 ticket: €15.00" in english.text


@pytest.mark.parametrize("amount", [12.5, "1250", None, True])
def test_amounts_must_be_integer_cents(templates: JinjaEmailTemplates, amount: object) -> None:
    with pytest.raises(EmailContextError, match="cents"):
        templates.render(
            "order_confirmed", to=TO, context=context_for("order_confirmed", total_cents=amount)
        )


@pytest.mark.parametrize("date", ["2026-03-14 20:30", "zaterdag 14 maart", 1773516600])
def test_performance_dates_must_be_iso_moments_with_offset(
    templates: JinjaEmailTemplates, date: object
) -> None:
    line = {**EXAMPLE_CONTEXT["order_confirmed"]["lines"][0], "date": date}
    with pytest.raises(EmailContextError, match="date"):
        templates.render(
            "order_confirmed", to=TO, context=context_for("order_confirmed", lines=[line])
        )


def test_money_formatting_per_language() -> None:
    assert format_money(123450, "nl") == "€ 1.234,50"
    assert format_money(123450, "en") == "€1,234.50"
    assert format_money(-5, "en") == "-€0.05"
    assert format_money(0, "nl") == "€ 0,00"


def test_moments_are_shown_in_mierlo_time_across_daylight_saving() -> None:
    assert format_moment("2026-01-10T19:00:00+00:00", "nl") == "zaterdag 10 januari 2026, 20:00 uur"
    assert format_moment("2026-07-10T18:00:00Z", "en") == "Friday 10 July 2026, 20:00"


def test_password_reset_says_valid_one_hour_and_ignore_if_not_asked(
    templates: JinjaEmailTemplates,
) -> None:
    context = EXAMPLE_CONTEXT["password_reset"]
    dutch = templates.render("password_reset", to=TO, context=context)
    english = templates.render("password_reset", to=TO, context=context, locale="en")
    assert "één uur geldig" in dutch.text
    assert "negeren" in dutch.text
    assert "valid for one hour" in english.text
    assert "ignore this e-mail" in english.text


def test_payment_link_follows_is_announced_on_order_received(
    templates: JinjaEmailTemplates,
) -> None:
    context = EXAMPLE_CONTEXT["order_received"]
    assert "betaallink volgt" in templates.render("order_received", to=TO, context=context).text
    english = templates.render("order_received", to=TO, context=context, locale="en")
    assert "payment link follows" in " ".join(english.text.split())


def test_base_url_appears_in_the_footer_when_configured() -> None:
    templates = JinjaEmailTemplates(base_url="https://www.onsmierloostheater.example")
    email = templates.render("account_created", to=TO, context=EXAMPLE_CONTEXT["account_created"])
    assert email.html is not None
    assert "https://www.onsmierloostheater.example" in email.text.splitlines()
    assert "https://www.onsmierloostheater.example" in parse_html(email.html).hrefs


def test_extra_context_keys_are_ignored_and_reserved_names_do_not_leak(
    templates: JinjaEmailTemplates,
) -> None:
    context = context_for("tickets_ready", unused="whatever", base_url="https://evil.example")
    email = templates.render("tickets_ready", to=TO, context=context)
    assert email.html is not None
    assert "whatever" not in email.text
    assert "evil.example" not in email.text
    assert "evil.example" not in email.html
