"""E-mails are jobs: written with the change that causes them, sent by a worker, retried.

An e-mail job (`SendEmail`, queued with `services.jobs.enqueue`) carries the template, the
recipient and either a ready context or an order id from which the context is built at send
time (so the mail shows the order as it is then).

A job queued with `attach_tickets` sends the order's tickets PDF along when the order is
still paid and the file is at most `TICKETS_ATTACHMENT_LIMIT` bytes (big orders make big
files, and mail servers refuse large messages); the mail always carries the download link,
and above the limit only the link. The context's `attached` says which.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from mierloos_core.errors import NotFound, PermanentFailure
from mierloos_core.model.commands import SendEmail
from mierloos_core.model.mail import Attachment
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.ports import EmailTemplates, Links, Mailer, ObjectStorage, UnitOfWork

log = logging.getLogger(__name__)

PDF_CONTENT_TYPE = "application/pdf"
# 5 MB of PDF is about 6.8 MB once base64-encoded: under the limit of every common mail
# provider and mailbox (10 MB and up).
TICKETS_ATTACHMENT_LIMIT = 5 * 1024 * 1024


def tickets_filename(order: Order) -> str:
    """The file name of an order's tickets PDF, for downloads and attachments alike."""
    return f"kaarten-{order.number}.pdf"


def order_context(uow: UnitOfWork, order: Order, links: Links) -> dict[str, Any]:
    """What every order e-mail may show, as JSON-friendly values: cents and ISO 8601 moments.

    A line per performance and price category, in the order of the tickets; with reserved
    seating a line also lists its `seats`."""
    lines: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    seats = uow.seating.seats_of_order(order.id)
    for ticket in order.tickets:
        key = (ticket.performance_id, ticket.category_name)
        line = lines.get(key)
        if line is None:
            performance = uow.performances.get(ticket.performance_id)
            show = uow.shows.get(performance.show_id) if performance else None
            line = lines[key] = {
                "show": show.title if show else "",
                "date": performance.starts_at.isoformat() if performance else "",
                "category": ticket.category_name,
                "quantity": 0,
                "amount_cents": 0,
            }
        line["quantity"] += 1
        line["amount_cents"] += ticket.price.cents
        if ticket.id in seats:  # reserved seating: the seat, as the ticket names it
            line.setdefault("seats", []).append(seats[ticket.id].ref.describe(order.language))
    return {
        "name": order.name,
        "order_number": order.number,
        "order_url": links.order_page(order.secret),
        "download_url": links.tickets_download(order.secret),
        "lines": list(lines.values()),
        "subtotal_cents": order.subtotal.cents,
        "discount_cents": order.discount.cents,
        "total_cents": order.total.cents,
        "status": order.status.value,
        "reason": "expired" if order.status is OrderStatus.EXPIRED else "cancelled",
    }


@attrs.define(eq=False)
class EmailSender:
    """The `email` job handler.

    `storage` holds the tickets PDFs; without it no mail carries an attachment.
    """

    uow: Callable[[], UnitOfWork]
    mailer: Mailer
    templates: EmailTemplates
    links: Links
    # Turns a reset nonce into the link; the link itself is never stored anywhere.
    reset_url: Callable[[str], str] | None = None
    storage: ObjectStorage | None = None
    attachment_limit: int = TICKETS_ATTACHMENT_LIMIT

    def __call__(self, mail: SendEmail) -> None:
        context: dict[str, Any] = {}
        locale = mail.locale
        attachments: tuple[Attachment, ...] = ()
        if mail.order_id is not None:
            with self.uow() as uow:
                order = uow.orders.get(mail.order_id)
                if order is None:
                    raise PermanentFailure("e-mail for an order that does not exist")
                context.update(order_context(uow, order, self.links))
                locale = order.language  # the buyer's, whatever the job was queued with
            if mail.attach_tickets:
                attachments = self._tickets_attachment(order)
            context["attached"] = bool(attachments)
        context.setdefault("login_url", self.links.login())
        context.update(mail.context)
        self._waitlist_links(mail, context)
        nonce = context.pop("reset_nonce", None)
        if nonce is not None:
            if self.reset_url is None:
                raise PermanentFailure("no way to make reset links here")
            context["reset_url"] = self.reset_url(str(nonce))
        try:
            email = self.templates.render(mail.template, to=mail.to, context=context, locale=locale)
        except (KeyError, ValueError) as error:
            raise PermanentFailure(
                f"e-mail {mail.template!r} cannot be rendered: {error}"
            ) from error
        self.mailer.send(attrs.evolve(email, attachments=attachments))

    def _waitlist_links(self, mail: SendEmail, context: dict[str, Any]) -> None:
        """A waiting-list mail's links: the entry's page from its token (never stored as a
        link), the offer's page from the order."""
        token = context.pop("waitlist_token", None)
        if token is not None:
            context["waitlist_url"] = self.links.waitlist_entry(str(token))
        if mail.template == "waitlist_offer" and mail.order_id is not None:
            with self.uow() as uow:
                order = uow.orders.get(mail.order_id)
            if order is not None:
                context["offer_url"] = self.links.waitlist_offer(order.secret)
                context["offer_expires"] = order.expires_at.isoformat()

    def _tickets_attachment(self, order: Order) -> tuple[Attachment, ...]:
        """The order's PDF as an attachment, or nothing when only the link should go.

        A storage outage propagates (DependencyUnavailable): the job retries, as the download
        behind the link would fail just the same meanwhile.
        """
        pdf = order.tickets_pdf
        if self.storage is None or pdf is None or order.status is not OrderStatus.PAID:
            return ()
        about = {"order_id": str(order.id)}
        if pdf.size > self.attachment_limit:
            why = "tickets PDF of order %s is %d bytes: mailing the link only"
            log.info(why, order.number, pdf.size, extra=about)
            return ()
        try:
            data = self.storage.get(pdf.key)
        except NotFound:
            why = "tickets of order %s recorded as %s, but the file is missing: link only"
            log.error(why, order.number, pdf.key, extra=about)
            return ()
        if len(data) > self.attachment_limit:  # the file changed since it was recorded
            return ()
        return (
            Attachment(filename=tickets_filename(order), content_type=PDF_CONTENT_TYPE, data=data),
        )
