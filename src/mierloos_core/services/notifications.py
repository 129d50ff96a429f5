"""E-mails are jobs: written with the change that causes them, sent by a worker, retried.

An e-mail job carries the template, the recipient and either a ready context or an order id
from which the context is built at send time (so the mail shows the order as it is then).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from mierloos_core.errors import PermanentFailure
from mierloos_core.model.jobs import JobType
from mierloos_core.model.orders import Order, OrderStatus
from mierloos_core.ports import EmailTemplates, Links, Mailer, UnitOfWork


def enqueue_email(
    uow: UnitOfWork,
    template: str,
    *,
    to: str,
    order_id: uuid.UUID | None = None,
    context: Mapping[str, Any] | None = None,
    once_key: str | None = None,
    locale: str = "nl",
) -> uuid.UUID:
    """Queue an e-mail in the open unit of work.

    With `once_key`, at most one such mail while its job is in the jobs table: purging old
    completed jobs (`mierloos jobs purge`) forgets the key. Keep purges well past the time
    any duplicate could still arrive (days, not minutes).
    """
    data: dict[str, Any] = {"template": template, "to": to, "locale": locale}
    if order_id is not None:
        data["order_id"] = str(order_id)
    if context:
        data["context"] = dict(context)
    dedupe = f"email:{template}:{once_key}" if once_key else None
    return uow.jobs.enqueue(JobType.EMAIL, data, dedupe_key=dedupe)


def order_context(uow: UnitOfWork, order: Order, links: Links) -> dict[str, Any]:
    """What every order e-mail may show, as JSON-friendly values: cents and ISO 8601 moments."""
    lines: dict[uuid.UUID, dict[str, Any]] = {}
    for ticket in order.tickets:
        line = lines.get(ticket.performance_id)
        if line is None:
            performance = uow.performances.get(ticket.performance_id)
            show = uow.shows.get(performance.show_id) if performance else None
            line = lines[ticket.performance_id] = {
                "show": show.title if show else "",
                "date": performance.starts_at.isoformat() if performance else "",
                "quantity": 0,
                "amount_cents": 0,
            }
        line["quantity"] += 1
        line["amount_cents"] += ticket.price.cents
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


class EmailSender:
    """The `email` job handler."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        mailer: Mailer,
        templates: EmailTemplates,
        links: Links,
        reset_url: Callable[[str], str] | None = None,
    ) -> None:
        self.uow = uow
        self.mailer = mailer
        self.templates = templates
        self.links = links
        # Turns a reset nonce into the link; the link itself is never stored anywhere.
        self.reset_url = reset_url

    def __call__(self, data: Mapping[str, Any]) -> None:
        try:
            template, to = str(data["template"]), str(data["to"])
        except KeyError as missing:
            raise PermanentFailure(f"e-mail job without {missing}") from None
        context: dict[str, Any] = {}
        locale = str(data.get("locale", "nl"))
        if "order_id" in data:
            with self.uow() as uow:
                order = uow.orders.get(uuid.UUID(str(data["order_id"])))
                if order is None:
                    raise PermanentFailure("e-mail for an order that does not exist")
                context.update(order_context(uow, order, self.links))
                locale = order.language  # the buyer's, whatever the job was queued with
        context.setdefault("login_url", self.links.login())
        context.update(data.get("context") or {})
        nonce = context.pop("reset_nonce", None)
        if nonce is not None:
            if self.reset_url is None:
                raise PermanentFailure("no way to make reset links here")
            context["reset_url"] = self.reset_url(str(nonce))
        try:
            email = self.templates.render(template, to=to, context=context, locale=locale)
        except (KeyError, ValueError) as error:
            raise PermanentFailure(f"e-mail {template!r} cannot be rendered: {error}") from error
        self.mailer.send(email)
