"""The buyer's language goes onto the order, and every later order e-mail speaks it."""

from __future__ import annotations

import pytest

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import MemoryMailer, PlainEmailTemplates
from mierloos_core.model.cart import CartLine
from mierloos_core.model.commands import SendEmail
from mierloos_core.services.checkout import CheckoutRequest, checkout
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.notifications import EmailSender

LINKS = SiteLinks("https://tickets.example")


class LocaleSpy(PlainEmailTemplates):
    def __init__(self) -> None:
        self.locales: list[str] = []

    def render(self, template, *, to, context, locale="nl"):
        self.locales.append(locale)
        return super().render(template, to=to, context=context, locale=locale)


def _place(catalog, clock, uow, language: str):
    performance = catalog.performance()
    request = CheckoutRequest(
        email="sam@example.org",
        name="Sam Taylor",
        lines=[CartLine(performance_id=performance.id, quantity=1)],
        language=language,
    )
    return checkout(uow, clock, request)


@pytest.mark.parametrize(("asked", "stored"), [("en", "en"), ("nl", "nl"), ("de", "nl")])
def test_the_order_keeps_a_language_the_site_speaks(catalog, clock, uow, asked, stored):
    placed = _place(catalog, clock, uow, asked)

    with uow:
        assert uow.orders.get(placed.order_id).language == stored


def test_an_order_mail_is_rendered_in_the_orders_language_whatever_the_job_says(
    catalog, clock, uow, store
):
    placed = _place(catalog, clock, uow, "en")
    with uow:
        enqueue(
            uow,
            SendEmail(template="order_confirmed", to="sam@example.org", order_id=placed.order_id),
        )
        uow.commit()
    [job] = [j for j in store.jobs.values() if j.data.get("template") == "order_confirmed"]
    assert job.data["locale"] == "nl"  # queued without a language, as every caller does
    spy = LocaleSpy()

    EmailSender(lambda: uow, MemoryMailer(), spy, LINKS)(SendEmail.from_payload(job.data))

    assert spy.locales == ["en"]


def test_a_mail_without_an_order_keeps_the_jobs_language(uow):
    spy = LocaleSpy()
    data = {"template": "account_created", "to": "a@example.org", "locale": "en", "context": {}}

    EmailSender(lambda: uow, MemoryMailer(), spy, LINKS)(SendEmail.from_payload(data))

    assert spy.locales == ["en"]


@pytest.mark.parametrize(
    ("language", "printed"),
    [("en", ["Ticket 1 of 1", "Date", "€22.50"]), ("nl", ["Kaart 1 van 1", "Datum", "€ 22,50"])],
)
def test_the_ticket_pdf_is_printed_in_the_orders_language(language, printed):
    import io
    from datetime import UTC, datetime

    from pypdf import PdfReader

    from mierloos_adapters.pdf import ReportlabTicketRenderer
    from mierloos_core.model.files import TicketDocument
    from mierloos_core.model.money import Money

    ticket = TicketDocument(
        theatre_name="Ons Mierloos Theater",
        show_title="De Gebroeders Mierlo",
        starts_at=datetime(2026, 12, 7, 19, 15, tzinfo=UTC),
        hall=None,
        price=Money(2250),
        order_number="OMT-ABCD1234",
        holder_name="Sam Taylor",
        secret="s" * 32,
        position=1,
        count=1,
        language=language,
    )
    text = PdfReader(io.BytesIO(ReportlabTicketRenderer().render([ticket]))).pages[0].extract_text()

    for words in printed:
        assert words in text
