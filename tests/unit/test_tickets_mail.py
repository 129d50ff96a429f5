"""The "your tickets" e-mail carries the PDF when it is small enough, and the link always."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mierloos_adapters.email_templates import JinjaEmailTemplates
from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import (
    FixedClock,
    MemoryMailer,
    MemoryStorage,
    MemoryStore,
    MemoryUnitOfWork,
    TextTicketRenderer,
)
from mierloos_core import errors
from mierloos_core.model.commands import SendEmail
from mierloos_core.model.jobs import JobType
from mierloos_core.model.mail import Attachment, OutgoingEmail
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order
from mierloos_core.services.jobs import enqueue
from mierloos_core.services.notifications import (
    TICKETS_ATTACHMENT_LIMIT,
    EmailSender,
)
from mierloos_core.services.tickets import Tickets
from tests.catalog_builders import CatalogBuilder

LINKS = SiteLinks("https://kaarten.example.nl")


class Shop:
    def __init__(self, store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder) -> None:
        self.clock = clock
        self.catalog = catalog
        self.storage = MemoryStorage()
        self.mailer = MemoryMailer()
        self.tickets = Tickets(self.uow, clock, TextTicketRenderer(), self.storage, LINKS)
        self._store = store
        self._sent: set[object] = set()

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self._store, self.clock)

    def sender(self, limit: int = TICKETS_ATTACHMENT_LIMIT) -> EmailSender:
        templates = JinjaEmailTemplates(base_url="https://kaarten.example.nl")
        return EmailSender(
            self.uow, self.mailer, templates, LINKS, storage=self.storage, attachment_limit=limit
        )

    def paid_order(self, quantity: int = 2, language: str = "nl") -> Order:
        performance = self.catalog.performance(starts_in=timedelta(days=5), price=Money(1500))
        return self.catalog.order([(performance, quantity)], language=language)

    def order(self, order: Order) -> Order:
        with self.uow() as uow:
            found = uow.orders.get(order.id)
        assert found is not None
        return found

    def send_mails(self, sender: EmailSender | None = None) -> list[OutgoingEmail]:
        """Run every e-mail job not run yet; returns the mails sent by this call."""
        sender = sender or self.sender()
        with self.uow() as uow:
            jobs = [j for j in uow.jobs.list(job_type=JobType.EMAIL) if j.id not in self._sent]
        before = len(self.mailer.sent)
        for job in jobs:
            sender(SendEmail.from_payload(job.data))
            self._sent.add(job.id)
        return self.mailer.sent[before:]


@pytest.fixture
def shop(store: MemoryStore, clock: FixedClock, catalog: CatalogBuilder) -> Shop:
    return Shop(store, clock, catalog)


def stored_pdf(shop: Shop, order: Order) -> bytes:
    pdf = shop.order(order).tickets_pdf
    assert pdf is not None
    return shop.storage.get(pdf.key)


def test_the_tickets_mail_attaches_the_pdf_and_keeps_the_link(shop: Shop) -> None:
    order = shop.paid_order(quantity=3)
    shop.tickets.generate_pdf(order.id)

    [mail] = shop.send_mails()

    assert mail.attachments == (
        Attachment(
            filename=f"kaarten-{order.number}.pdf",
            content_type="application/pdf",
            data=stored_pdf(shop, order),
        ),
    )
    assert LINKS.tickets_download(order.secret) in mail.text.splitlines()
    assert "bijlage" in mail.text
    assert mail.html is not None
    assert "bijlage" in mail.html
    assert LINKS.tickets_download(order.secret) in mail.html


def test_a_pdf_of_exactly_the_limit_is_attached(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    size = len(stored_pdf(shop, order))

    [mail] = shop.send_mails(shop.sender(limit=size))

    assert [a.data for a in mail.attachments] == [stored_pdf(shop, order)]


def test_a_pdf_above_the_limit_goes_as_the_link_alone(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    size = len(stored_pdf(shop, order))

    [mail] = shop.send_mails(shop.sender(limit=size - 1))

    assert mail.attachments == ()
    assert LINKS.tickets_download(order.secret) in mail.text.splitlines()
    assert "bijlage" not in mail.text
    assert mail.html is not None
    assert "bijlage" not in mail.html


def test_an_english_order_is_told_in_english_that_the_pdf_is_attached(shop: Shop) -> None:
    order = shop.paid_order(language="en")
    shop.tickets.generate_pdf(order.id)

    [mail] = shop.send_mails()

    assert len(mail.attachments) == 1
    assert "attached to this e-mail" in mail.text
    assert LINKS.tickets_download(order.secret) in mail.text.splitlines()


def test_resent_tickets_attach_the_new_pdf(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    shop.send_mails()
    shop.clock.advance(timedelta(minutes=5))

    shop.tickets.regenerate(order.id)
    [mail] = shop.send_mails()

    [attachment] = mail.attachments
    assert attachment.data == stored_pdf(shop, order)
    pdf = shop.order(order).tickets_pdf
    assert pdf is not None
    assert pdf.key.endswith("tickets-2.pdf")


def test_an_order_refunded_before_the_mail_goes_gets_no_attachment(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    with shop.uow() as uow:
        found = uow.orders.get(order.id, for_update=True)
        assert found is not None
        found.refund(shop.clock.now())
        uow.orders.update(found)
        uow.commit()

    [mail] = shop.send_mails()

    assert mail.attachments == ()


def test_a_missing_file_sends_the_link_alone(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    pdf = shop.order(order).tickets_pdf
    assert pdf is not None
    shop.storage.delete(pdf.key)

    [mail] = shop.send_mails()

    assert mail.attachments == ()
    assert LINKS.tickets_download(order.secret) in mail.text.splitlines()


def test_storage_down_retries_the_mail_and_it_goes_with_the_pdf_later(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    shop.storage.down = True

    with pytest.raises(errors.DependencyUnavailable):
        shop.send_mails()
    assert shop.mailer.sent == []

    shop.storage.down = False
    [mail] = shop.send_mails()
    assert [a.data for a in mail.attachments] == [stored_pdf(shop, order)]


def test_other_order_mails_carry_no_attachment(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    shop.send_mails()
    with shop.uow() as uow:
        enqueue(uow, SendEmail(template="order_confirmed", to=order.email, order_id=order.id))
        uow.commit()

    [mail] = shop.send_mails()

    assert mail.attachments == ()


def test_without_storage_the_mail_still_goes_with_the_link(shop: Shop) -> None:
    order = shop.paid_order()
    shop.tickets.generate_pdf(order.id)
    sender = EmailSender(shop.uow, shop.mailer, JinjaEmailTemplates(), LINKS)

    [mail] = shop.send_mails(sender)

    assert mail.attachments == ()
    assert LINKS.tickets_download(order.secret) in mail.text.splitlines()
