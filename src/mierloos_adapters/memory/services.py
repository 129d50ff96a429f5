"""Fakes of the outside services: clock, object storage, mail, templates, tickets, passwords."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mierloos_adapters.object_keys import check_content_type, check_expiry, check_key
from mierloos_core.errors import DependencyUnavailable, NotFound
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.mail import OutgoingEmail


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class MemoryStorage:
    """Objects in a dict; the same key rules as the real adapters."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.down = False

    def _check(self, key: str) -> None:
        if self.down:
            raise DependencyUnavailable("storage is down")
        check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._check(key)
        check_content_type(content_type)
        self.objects[key] = (bytes(data), content_type)

    def get(self, key: str) -> bytes:
        return self.get_with_content_type(key)[0]

    def get_with_content_type(self, key: str) -> tuple[bytes, str]:
        self._check(key)
        try:
            return self.objects[key]
        except KeyError:
            raise NotFound(key=key) from None

    def content_type(self, key: str) -> str:
        return self.get_with_content_type(key)[1]

    def delete(self, key: str) -> None:
        self._check(key)
        self.objects.pop(key, None)

    def exists(self, key: str) -> bool:
        self._check(key)
        return key in self.objects

    def url_for(self, key: str, expires_in: timedelta) -> str | None:
        self._check(key)
        check_expiry(expires_in)
        return None


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.down = False

    def send(self, email: OutgoingEmail) -> None:
        if self.down:
            raise DependencyUnavailable("mail server is down")
        self.sent.append(email)

    def to(self, address: str) -> list[OutgoingEmail]:
        return [m for m in self.sent if m.to == address]


class PlainEmailTemplates:
    """Templates as plain text: the subject is the template name, the body lists the context."""

    def render(self, template: str, *, to: str, context: Any, locale: str = "nl") -> OutgoingEmail:
        body = "\n".join(f"{key}: {value}" for key, value in sorted(dict(context).items()))
        return OutgoingEmail(to=to, subject=template, text=body)


class TextTicketRenderer:
    """Renders tickets as text, one form feed-separated page per ticket."""

    def render(self, tickets: Sequence[TicketDocument]) -> bytes:
        pages = [
            f"{t.theatre_name}\n{t.show_title}\n{t.starts_at.isoformat()}\n"
            f"{t.order_number} {t.position}/{t.count}\n{t.holder_name}\n{t.secret}"
            for t in tickets
        ]
        return "\f".join(pages).encode()


class PlainPasswordHasher:
    """Reversible 'hashing' for tests only: fast, and tells which parameters made it."""

    def __init__(self, version: int = 1) -> None:
        self.version = version

    def hash(self, password: str) -> str:
        return f"plain${self.version}${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash.split("$", 2)[-1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"plain${self.version}$")
