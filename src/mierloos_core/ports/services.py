"""The outside world the services call: time, payments, storage, mail, rendering, throttles."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from mierloos_core.model.files import ImageInfo, TicketDocument
from mierloos_core.model.mail import OutgoingEmail
from mierloos_core.model.payments import (
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundRequest,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class Links(Protocol):
    """Absolute URLs of the site, for payment providers and e-mails."""

    def order_page(self, order_secret: str) -> str: ...
    def payment_webhook(self) -> str: ...
    def password_reset(self, token: str) -> str: ...
    def tickets_download(self, order_secret: str) -> str: ...
    def waitlist_entry(self, token: str) -> str:
        """A waiting-list entry's personal page (its place, and leaving)."""
        ...

    def waitlist_offer(self, order_secret: str) -> str:
        """The page where a waiting-list offer is bought."""
        ...

    def login(self) -> str: ...
    def agenda(self) -> str:
        """The visitors' list of shows."""
        ...

    def admin_order(self, order_id: uuid.UUID) -> str:
        """The order's page in the staff pages (behind a staff login)."""
        ...


class PaymentGateway(Protocol):
    """A payment provider. Raises DependencyUnavailable when down, PermanentFailure on refusal."""

    name: str

    def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...
    def get_payment(self, provider_payment_id: str) -> ProviderPayment: ...
    def cancel_payment(self, provider_payment_id: str) -> ProviderPayment:
        """Cancel the payment while the provider still allows it (an open payment), so it can
        no longer be paid; a payment that cannot be cancelled (paid, pending at the bank, or
        already closed) is left alone. Returns the payment as it stands afterwards: the caller
        applies its status like any other. Raises NotFound for an unknown payment.
        """
        ...

    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        """Refund (part of) a paid payment; the same idempotency key gives the same refund."""
        ...

    def get_refund(self, provider_payment_id: str, provider_refund_id: str) -> ProviderRefund:
        """Raises NotFound for an unknown refund."""
        ...


class ObjectStorage(Protocol):
    """Bytes under keys. Raises DependencyUnavailable when the store cannot be reached."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes:
        """Raises NotFound for a missing key."""
        ...

    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def url_for(self, key: str, expires_in: timedelta) -> str | None:
        """A URL anyone holding it can GET until it expires, or None when the app must serve it."""
        ...


class EmailTemplates(Protocol):
    def render(
        self, template: str, *, to: str, context: Mapping[str, Any], locale: str = "nl"
    ) -> OutgoingEmail:
        """The named e-mail (subject, text and HTML parts) for `to`; KeyError if unknown."""
        ...


class Mailer(Protocol):
    """Delivers the text, the HTML and every attachment intact, byte for byte.

    Raises DependencyUnavailable when the mail server is down or refuses for now.
    """

    def send(self, email: OutgoingEmail) -> None: ...


class TicketRenderer(Protocol):
    def render(self, tickets: Sequence[TicketDocument]) -> bytes:
        """One PDF with one page per ticket."""
        ...


class RateLimiter(Protocol):
    def allow(self, key: str, limit: int, window: timedelta) -> bool:
        """Count one attempt under `key`; False once `limit` attempts fell within `window`."""
        ...


class ThrottleStore(Protocol):
    """Counters shared by every process (database or Redis), for throttling failures.

    A key's window starts at its first hit and lasts `window`; after it the count starts over.
    `hit` is atomic: concurrent hits from many processes are all counted.
    """

    def hit(self, key: str, window: timedelta) -> int:
        """Counts one under `key` and returns the count in the current window."""
        ...

    def count(self, key: str) -> int:
        """The count in the key's current window (0 when none is open)."""
        ...

    def clear(self, key: str) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


class ImageProcessor(Protocol):
    """Reads uploaded images and makes the resized copies the site shows.

    Accepts JPEG, PNG, GIF and WebP. Raises InvalidImage for anything else (another kind of
    file, a corrupt or truncated image) and ImageTooLarge for an image with more pixels than
    the processor's limit (decompression bombs), before decoding its pixels.
    """

    def inspect(self, data: bytes) -> ImageInfo:
        """Format and size (EXIF orientation applied) of a complete, decodable image."""
        ...

    def variants(self, data: bytes, sizes: Mapping[str, int]) -> dict[str, bytes]:
        """For each name -> box in `sizes`, a JPEG of the image fitting a box x box square.

        Orientation applied, aspect ratio kept (`fit_within`), never scaled up, transparency
        on white, and no metadata at all (EXIF, GPS, XMP, comments, ICC profiles) left.
        """
        ...
