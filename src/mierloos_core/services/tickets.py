"""Ticket PDFs: the `pdf_generation` job, staff's "resend tickets", and downloads.

Making a PDF happens in three steps, so that no database lock is held while rendering or
uploading and nothing half-done is ever recorded:

1. read the paid order and its performances (a short unit of work, no lock);
2. render one page per valid ticket and upload the file under
   ``orders/{order_id}/tickets-{n}.pdf`` (n = 1 for the first PDF, the next number for each
   regeneration). If storage is down, DependencyUnavailable propagates, the job retries and
   the order still says "no PDF";
3. lock the order row, check that nobody recorded a PDF meanwhile, record the key, page
   count and size on the order and queue the "your tickets" e-mail, in one commit.

A retry after step 2 uploads the same key again, replacing the unrecorded file (with the
same bytes, as the reportlab renderer's output depends on the tickets only). Running the job
twice records one PDF and queues one e-mail.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from datetime import timedelta

import attrs

from mierloos_core import errors
from mierloos_core.model.catalog import Performance, Show
from mierloos_core.model.commands import GenerateTickets
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.orders import Order, OrderStatus, Ticket, TicketsPdf
from mierloos_core.ports import Links, ObjectStorage, TicketRenderer, UnitOfWork
from mierloos_core.services.base import Service
from mierloos_core.services.fulfilment import mail_buyer
from mierloos_core.services.notifications import PDF_CONTENT_TYPE, tickets_filename
from mierloos_core.services.order_lifecycle import lock_order_if_any

log = logging.getLogger(__name__)

# How long a presigned download URL works: long enough to start the download, short enough
# that a forwarded or logged URL is soon useless (the e-mail carries the site's own link).
DOWNLOAD_URL_LIFETIME = timedelta(minutes=10)
TICKETS_READY_TEMPLATE = "tickets_ready"

_KEY_NUMBER = re.compile(r"tickets-(\d+)\.pdf\Z")


def tickets_key(order_id: uuid.UUID, number: int) -> str:
    """Where the `number`-th PDF of an order is stored."""
    return f"orders/{order_id}/tickets-{number}.pdf"


def _key_number(key: str) -> int:
    match = _KEY_NUMBER.search(key)
    return int(match.group(1)) if match else 1


@attrs.frozen(kw_only=True)
class TicketsDownload:
    """How the app hands out an order's PDF: redirect to `url`, or stream `data` itself."""

    filename: str
    url: str | None = None
    data: bytes | None = attrs.field(default=None, repr=False)
    content_type: str = PDF_CONTENT_TYPE

    def __attrs_post_init__(self) -> None:
        if (self.url is None) == (self.data is None):
            raise ValueError("a download is either a URL or the file's bytes")

    @property
    def is_redirect(self) -> bool:
        return self.url is not None


@attrs.frozen
class _Plan:
    """What step 1 read: the order and what to print, with the PDF it saw recorded."""

    order: Order
    documents: list[TicketDocument]
    seen: TicketsPdf | None


@attrs.define(eq=False)
class Tickets(Service):
    renderer: TicketRenderer
    storage: ObjectStorage
    links: Links
    theatre_name: str = "Ons Mierloos Theater"
    # Layouts staff print at the counter ("a4", "bon"), each rendered there and then.
    print_renderers: Mapping[str, TicketRenderer] = attrs.field(factory=dict)

    # --- the job ----------------------------------------------------------------------------

    def pdf_job(self, command: GenerateTickets) -> None:
        """The `pdf_generation` handler for the job registry."""
        self.generate_pdf(command.order_id)

    def pdf_job_gave_up(self, command: GenerateTickets, reason: str) -> None:
        """Every attempt failed: flag the paid order for staff, who can resend the tickets."""
        with self.uow() as uow:
            order = lock_order_if_any(uow, command.order_id)
            if order is None or order.tickets_pdf is not None or order.needs_attention:
                return
            if order.status is not OrderStatus.PAID:
                return
            order.needs_attention = f"Kaarten konden niet worden gemaakt: {reason}"[:500]
            uow.orders.update(order)
            uow.commit()

    # --- making PDFs ------------------------------------------------------------------------

    def generate_pdf(self, order_id: uuid.UUID) -> TicketsPdf | None:
        """The `pdf_generation` job: the order's first PDF and the e-mail that links to it.

        Returns the recorded PDF; None when there is nothing to do (order unknown or not paid).
        An order that has its PDF already is left as it is (the job ran before).
        """
        plan = self._plan(order_id)
        if plan is None:
            return None
        if plan.seen is not None:
            return plan.seen
        return self._make(plan, number=1)

    def regenerate(self, order_id: uuid.UUID) -> TicketsPdf:
        """Staff's "resend tickets": a new PDF under the next number, and a new e-mail.

        Raises OrderNotFound for an unknown order and InvalidTransition for an unpaid one.
        The previous file is removed once the new one is recorded.
        """
        plan = self._plan(order_id, missing_ok=False)
        if plan is None:
            raise errors.InvalidTransition(
                "Alleen voor betaalde bestellingen kunnen kaarten worden verstuurd.",
                order_id=str(order_id),
            )
        number = _key_number(plan.seen.key) + 1 if plan.seen is not None else 1
        pdf = self._make(plan, number=number)
        if pdf is None:
            raise errors.InvalidTransition(
                "De bestelling is niet meer betaald; er zijn geen kaarten verstuurd.",
                order_id=str(order_id),
            )
        if plan.seen is not None and plan.seen.key != pdf.key:
            self._discard(plan.seen.key)
        return pdf

    def _plan(self, order_id: uuid.UUID, *, missing_ok: bool = True) -> _Plan | None:
        with self.uow() as uow:
            order = uow.orders.get(order_id)
            if order is None:
                if not missing_ok:
                    raise errors.OrderNotFound(order_id=str(order_id))
                log.warning("tickets for unknown order %s: nothing to do", order_id)
                return None
            if order.status is not OrderStatus.PAID:
                log.info("order %s is %s: no tickets to make", order.number, order.status.value)
                return None
            documents = self._documents(uow, order)
        if not documents:
            log.warning("paid order %s has no valid tickets: nothing to print", order.number)
            return None
        return _Plan(order=order, documents=documents, seen=order.tickets_pdf)

    def _documents(self, uow: UnitOfWork, order: Order) -> list[TicketDocument]:
        tickets = order.valid_tickets
        performances = uow.performances.get_many(sorted({t.performance_id for t in tickets}))
        shows: dict[uuid.UUID, Show] = {}
        pairs: list[tuple[Ticket, Performance]] = []
        for ticket in tickets:
            performance = performances.get(ticket.performance_id)
            if performance is None:
                raise errors.PermanentFailure(f"performance {ticket.performance_id} is missing")
            if performance.show_id not in shows:
                show = uow.shows.get(performance.show_id)
                if show is None:
                    raise errors.PermanentFailure(f"show {performance.show_id} is missing")
                shows[performance.show_id] = show
            pairs.append((ticket, performance))
        # Soonest performance first and, within one, the order's own ticket order (its lines as
        # bought, so a category's tickets stay together): the same tickets always make the same
        # file, page for page.
        pairs.sort(key=lambda pair: (pair[1].starts_at, str(pair[1].id)))
        seats = uow.seating.seats_of_order(order.id)
        return [
            TicketDocument(
                theatre_name=self.theatre_name,
                show_title=shows[performance.show_id].title,
                starts_at=performance.starts_at,
                hall=performance.hall,
                price=ticket.price,
                order_number=order.number,
                holder_name=order.name,
                secret=ticket.secret,
                position=position,
                count=len(pairs),
                language=order.language,
                category=ticket.category_name,
                seat=seats[ticket.id].ref.describe(order.language) if ticket.id in seats else "",
            )
            for position, (ticket, performance) in enumerate(pairs, start=1)
        ]

    def _make(self, plan: _Plan, *, number: int) -> TicketsPdf | None:
        order_id = plan.order.id
        data = self.renderer.render(plan.documents)
        key = tickets_key(order_id, number)
        self.storage.put(key, data, PDF_CONTENT_TYPE)  # DependencyUnavailable: the job retries

        pdf = TicketsPdf(
            key=key, pages=len(plan.documents), size=len(data), created_at=self.clock.now()
        )
        with self.uow() as uow:
            order = lock_order_if_any(uow, order_id)
            if order is None or order.status is not OrderStatus.PAID:
                outcome = None  # refunded (or gone) while we rendered
            elif order.tickets_pdf != plan.seen:
                outcome = order.tickets_pdf  # another run recorded a PDF meanwhile
            else:
                order.tickets_pdf = pdf
                uow.orders.update(order)
                mail_buyer(uow, order, TICKETS_READY_TEMPLATE, once_key=key, attach_tickets=True)
                uow.commit()
                log.info("tickets of order %s stored as %s", order.number, key)
                return pdf
        if outcome is None or outcome.key != key:
            self._discard(key)
        return outcome

    def _discard(self, key: str) -> None:
        """Remove a file nothing refers to; a leftover is untidy, not wrong."""
        try:
            self.storage.delete(key)
        except errors.DependencyUnavailable:
            log.warning("could not remove unused ticket file %s", key)

    # --- printing at the counter ------------------------------------------------------------

    def print_now(self, order_id: uuid.UUID, layout: str) -> TicketsDownload:
        """The paid order's tickets in a print `layout`, rendered now (no job, no storage):
        the counter hands them over at once. TicketsUnavailable for an unpaid order or an
        unknown layout."""
        renderer = self.print_renderers.get(layout)
        plan = self._plan(order_id) if renderer is not None else None
        if renderer is None or plan is None:
            raise errors.TicketsUnavailable()
        data = renderer.render(plan.documents)
        stem = tickets_filename(plan.order).removesuffix(".pdf")
        return TicketsDownload(filename=f"{stem}-{layout}.pdf", data=data)

    # --- downloads --------------------------------------------------------------------------

    def download(self, order_secret: str) -> TicketsDownload:
        """The PDF for the holder of the order's secret link; TicketsUnavailable otherwise."""
        with self.uow() as uow:
            order = uow.orders.get_by_secret(order_secret) if order_secret else None
        return self._download(order)

    def download_for_user(self, order_id: uuid.UUID, user_id: uuid.UUID) -> TicketsDownload:
        """The PDF for the signed-in owner of the order; TicketsUnavailable otherwise."""
        with self.uow() as uow:
            order = uow.orders.get(order_id)
        if order is not None and (order.user_id is None or order.user_id != user_id):
            order = None
        return self._download(order)

    def _download(self, order: Order | None) -> TicketsDownload:
        # The same error whatever the reason, so a link tells nothing about other orders.
        if order is None or order.status is not OrderStatus.PAID or order.tickets_pdf is None:
            raise errors.TicketsUnavailable()
        key = order.tickets_pdf.key
        filename = tickets_filename(order)
        url = self.storage.url_for(key, DOWNLOAD_URL_LIFETIME)
        if url is not None:
            return TicketsDownload(filename=filename, url=url)
        try:
            data = self.storage.get(key)
        except errors.NotFound:
            log.error(
                "tickets of order %s recorded as %s, but the file is missing", order.number, key
            )
            raise errors.TicketsUnavailable() from None
        return TicketsDownload(filename=filename, data=data)
