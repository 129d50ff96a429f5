"""The site's two languages: gettext catalogues, and dates and money through Babel.

Dutch is the source language: the templates and the code are written in Dutch and
``locale/en/LC_MESSAGES/messages.po`` holds the English. The ``.po`` files are compiled in
memory the first time a language is used, so the same package works from a checkout, an
editable install or a wheel, with no build step and nothing written next to the code.
"""

from __future__ import annotations

import functools
import gettext
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations

from mierloos_core.model.money import Money
from mierloos_core.model.orders import LANGUAGES, supported_language
from mierloos_core.model.timeutil import AMSTERDAM

__all__ = ["LANGUAGES", "Texts", "supported_language", "texts"]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
_BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
_DATETIME_PATTERNS = {"nl": "EEEE d MMMM y, HH:mm 'uur'", "en": "EEEE d MMMM y, HH:mm"}
_DATE_PATTERNS = {"nl": "EEEE d MMMM y", "en": "EEEE d MMMM y"}


def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled messages of `language`; Dutch, the source language, needs none."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        messages = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Texts:
    """Everything language-dependent about one language: messages, dates, money."""

    def __init__(self, language: str) -> None:
        self.language = supported_language(language)
        self.locale = Locale.parse(_BABEL_LOCALES[self.language])
        self._messages = catalogue(self.language)

    def gettext(self, message: str) -> str:
        return self._messages.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._messages.ngettext(singular, plural, n)

    def when(self, value: datetime) -> str:
        """A performance's moment in Mierlo's time: ``zaterdag 14 maart 2026, 20:15 uur``."""
        pattern = _DATETIME_PATTERNS[self.language]
        return format_datetime(value, pattern, tzinfo=AMSTERDAM, locale=self.locale)

    def short_when(self, value: datetime) -> str:
        """A moment in a few characters, for a list under an agenda card: ``di 8 dec, 20:15``."""
        return format_datetime(value, "EEE d MMM, HH:mm", tzinfo=AMSTERDAM, locale=self.locale)

    def day(self, value: datetime) -> str:
        pattern = _DATE_PATTERNS[self.language]
        return format_date(value.astimezone(AMSTERDAM), pattern, locale=self.locale)

    def month(self, value: datetime) -> str:
        """``december 2026`` / ``December 2026``: the agenda's month headings."""
        return format_date(value.astimezone(AMSTERDAM), "LLLL y", locale=self.locale)

    def money(self, value: Money | int) -> str:
        cents = value.cents if isinstance(value, Money) else int(value)
        # A plain space, as the rest of the site and the e-mails write amounts.
        return format_currency(Decimal(cents) / 100, "EUR", locale=self.locale).replace("\xa0", " ")


@functools.cache
def texts(language: str | None) -> Texts:
    """The shared `Texts` of a language; anything unknown gives Dutch."""
    return Texts(supported_language(language))
