"""The job contract: one command class per job type, and the only code that knows payloads.

A command is what a background job asks for. It knows its `JobType` (the name on the wire),
its payload (`to_payload`, the JSON object stored in the `jobs` table), its dedupe key (the
key that keeps a job from being queued twice) and how to read itself back from a payload
(`from_payload`, raising `PermanentFailure` for a payload it cannot read: no attempt can fix
that). Services queue commands with `mierloos_core.services.jobs.enqueue`; the job registry
parses each payload once and hands the handler the command.

Payloads and dedupe keys are stored: rows written by earlier versions must still read, and
keys must stay the same, so both are spelled out here once and never changed lightly. Some
fields only shape the dedupe key (`once_key`, `resend_key`, `replacing`): they are not in the
payload and are None on a command read back from one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import attrs

from mierloos_core.errors import PermanentFailure
from mierloos_core.model.jobs import JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order


class Command:
    """A job's request: subclasses are frozen attrs classes, one per `JobType`."""

    __slots__ = ()
    job_type: ClassVar[JobType]

    @property
    def dedupe_key(self) -> str | None:
        """The key that queues this job once; None: every enqueue adds a job."""
        return None

    def to_payload(self) -> dict[str, Any]:
        """The JSON object stored with the job."""
        return {}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        """The command a stored payload holds; PermanentFailure when it cannot be read."""
        return cls()


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise PermanentFailure(f"job payload without a valid {name}")
    return value


def _id(data: Mapping[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(_text(data, name))
    except ValueError:
        raise PermanentFailure(f"job payload without a valid {name}") from None


@attrs.frozen(kw_only=True)
class _AboutOrder(Command):
    """A command whose payload is the order's id."""

    order_id: uuid.UUID

    def to_payload(self) -> dict[str, Any]:
        return {"order_id": str(self.order_id)}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        return cls(order_id=_id(data, "order_id"))

    def _once_per(self, job: str, what: str, tag: str | None) -> str:
        """The key "{job}:{order id}", with ":{what}:{tag}" for a job queued once per `tag`."""
        key = f"{job}:{self.order_id}"
        return key if tag is None else f"{key}:{what}:{tag}"


@attrs.frozen(kw_only=True)
class _AboutPayment(Command):
    """A command whose payload is the provider's id of one of our payments."""

    provider_payment_id: str

    def to_payload(self) -> dict[str, Any]:
        return {"provider_payment_id": self.provider_payment_id}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        return cls(provider_payment_id=_text(data, "provider_payment_id"))


# --- payments ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CreatePayment(_AboutOrder):
    """Open the payment of a pending order (`Payments.creation_job`)."""

    job_type = JobType.PAYMENT_CREATION
    # A second job for the order, once per payment it would replace ("none": no payment yet).
    replacing: str | None = None

    @property
    def dedupe_key(self) -> str:
        return self._once_per("payment_creation", "after", self.replacing)


@attrs.frozen(kw_only=True)
class SyncPayment(_AboutPayment):
    """Fetch a payment's status from the provider and apply it (a webhook's job).

    Its key is held by the payment's newest sync job; `queue_webhook` frees it once that job
    has started (`JobQueue.release_key`), so one sync waits per payment at a time.
    """

    job_type = JobType.PAYMENT_WEBHOOK

    @property
    def dedupe_key(self) -> str:
        return f"payment_webhook:{self.provider_payment_id}"


@attrs.frozen(kw_only=True)
class CancelPayment(_AboutPayment):
    """Withdraw the open payment of a closed order at the provider."""

    job_type = JobType.PAYMENT_CANCEL

    @property
    def dedupe_key(self) -> str:
        return f"payment_cancel:{self.provider_payment_id}"


@attrs.frozen(kw_only=True)
class RefundOrder(Command):
    """A refund the system decided on; `amount` None refunds all that is left."""

    job_type = JobType.REFUND
    order_id: uuid.UUID
    request_key: str
    reason: str = ""
    amount: Money | None = None

    @property
    def dedupe_key(self) -> str:
        return f"refund:{self.order_id}:{self.request_key}"

    def to_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "order_id": str(self.order_id),
            "request_key": self.request_key,
            "reason": self.reason,
        }
        if self.amount is not None:
            data["amount_cents"] = self.amount.cents
        return data

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        try:
            amount = Money(int(data["amount_cents"])) if data.get("amount_cents") else None
            key = str(data["request_key"])
        except (KeyError, ValueError, TypeError) as bad:
            raise PermanentFailure(f"invalid refund job: {bad!r}") from None
        return cls(
            order_id=_id(data, "order_id"),
            request_key=key,
            reason=str(data.get("reason", "")),
            amount=amount,
        )


# --- tickets, images and e-mail ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GenerateTickets(_AboutOrder):
    """Make a paid order's tickets PDF; `resend_key` queues staff's resend once per request."""

    job_type = JobType.PDF_GENERATION
    resend_key: str | None = None

    @property
    def dedupe_key(self) -> str:
        return self._once_per("pdf", "resend", self.resend_key)


@attrs.frozen(kw_only=True)
class ProcessImage(Command):
    """Make the sizes of an uploaded show image."""

    job_type = JobType.IMAGE_PROCESSING
    image_id: uuid.UUID

    @property
    def dedupe_key(self) -> str:
        return f"image:{self.image_id}"

    def to_payload(self) -> dict[str, Any]:
        return {"image_id": str(self.image_id)}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        return cls(image_id=_id(data, "image_id"))


def _context(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen(kw_only=True)
class SendEmail(Command):
    """An e-mail from a template; see `mierloos_core.services.notifications`.

    With an `order_id` the context is built from the order at send time. With `once_key`, at
    most one such mail while its job is in the jobs table (purging old completed jobs forgets
    the key: keep purges well past the time any duplicate could still arrive).
    """

    job_type = JobType.EMAIL
    template: str
    to: str
    locale: str = "nl"
    order_id: uuid.UUID | None = None
    context: Mapping[str, Any] = attrs.field(factory=dict, converter=_context)
    attach_tickets: bool = False
    once_key: str | None = None

    @classmethod
    def to_buyer(
        cls,
        order: Order,
        template: str,
        *,
        once_key: str,
        context: Mapping[str, Any] | None = None,
        attach_tickets: bool = False,
    ) -> Self:
        """A mail to the order's buyer, its context built from the order at send time."""
        return cls(
            template=template,
            to=order.email,
            order_id=order.id,
            context=context,
            attach_tickets=attach_tickets,
            once_key=once_key,
        )

    @property
    def dedupe_key(self) -> str | None:
        return f"email:{self.template}:{self.once_key}" if self.once_key else None

    def to_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"template": self.template, "to": self.to, "locale": self.locale}
        if self.order_id is not None:
            data["order_id"] = str(self.order_id)
        if self.context:
            data["context"] = dict(self.context)
        if self.attach_tickets:
            data["attach_tickets"] = True
        return data

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        try:
            template, to = str(data["template"]), str(data["to"])
        except KeyError as missing:
            raise PermanentFailure(f"e-mail job without {missing}") from None
        context = data.get("context") or {}
        if not isinstance(context, Mapping):
            raise PermanentFailure("e-mail job with a context that is not an object")
        return cls(
            template=template,
            to=to,
            locale=str(data.get("locale", "nl")),
            order_id=_id(data, "order_id") if "order_id" in data else None,
            context=context,
            attach_tickets=bool(data.get("attach_tickets")),
        )


# --- waiting list ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OfferWaitlistSeats(Command):
    """Offer the seats held for a performance's waiting list to its entries
    (`services.waitlist.offer_held_seats`); `source` names the release that queued it, so a
    retried release queues it once. The job is idempotent: it only moves seats still held."""

    job_type = JobType.WAITLIST_OFFER
    performance_id: uuid.UUID
    source: str | None = None

    @property
    def dedupe_key(self) -> str | None:
        return f"waitlist_offer:{self.performance_id}:{self.source}" if self.source else None

    def to_payload(self) -> dict[str, Any]:
        return {"performance_id": str(self.performance_id)}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        return cls(performance_id=_id(data, "performance_id"))


# --- housekeeping --------------------------------------------------------------------------------


@attrs.frozen
class ExpireOrders(Command):
    """Close the pending orders past their hold (scheduled; the payload is empty)."""

    job_type = JobType.ORPHANED_ORDER_CLEANUP


@attrs.frozen
class FollowUpRefunds(Command):
    """Follow every unfinished refund at the provider (scheduled; the payload is empty)."""

    job_type = JobType.REFUND_FOLLOW_UP


@attrs.frozen(kw_only=True)
class _Purge(Command):
    """Delete what has been kept `older_than_days` days past its use (scheduled daily)."""

    older_than_days: float

    def to_payload(self) -> dict[str, Any]:
        return {"older_than_days": self.older_than_days}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Self:
        days = data.get("older_than_days")
        if isinstance(days, bool) or not isinstance(days, int | float) or not days > 0:
            raise PermanentFailure("job payload without a valid older_than_days")
        return cls(older_than_days=days)


@attrs.frozen(kw_only=True)
class PurgeJobs(_Purge):
    """Delete the jobs that completed more than `older_than_days` days ago."""

    job_type = JobType.JOBS_PURGE


@attrs.frozen(kw_only=True)
class PurgeWaitlists(_Purge):
    """Delete the waiting-list entries (their e-mail addresses) of performances that started
    more than `older_than_days` days ago."""

    job_type = JobType.WAITLIST_PURGE


COMMANDS: Mapping[JobType, type[Command]] = {
    command.job_type: command
    for command in (
        CreatePayment,
        SyncPayment,
        CancelPayment,
        RefundOrder,
        GenerateTickets,
        ProcessImage,
        SendEmail,
        ExpireOrders,
        FollowUpRefunds,
        PurgeJobs,
        OfferWaitlistSeats,
        PurgeWaitlists,
    )
}
"""Every job type's command."""
