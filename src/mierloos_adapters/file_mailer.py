"""Mailer that writes each e-mail as a complete .eml file: the embedded default (./var/outbox).

Files appear atomically (written under a dot-name, then renamed), so a reader that lists
``*.eml`` never sees half a message. Names sort in the order the e-mails were sent.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from datetime import UTC, datetime
from email.policy import SMTP as WIRE_POLICY
from pathlib import Path

from mierloos_adapters.smtp import build_message
from mierloos_core.errors import DependencyUnavailable
from mierloos_core.model.mail import OutgoingEmail

log = logging.getLogger(__name__)

DEFAULT_SENDER = "Ons Mierloos Theater <noreply@localhost>"


class FileMailer:
    def __init__(self, outbox: Path, *, sender: str = DEFAULT_SENDER) -> None:
        self.outbox = Path(outbox)
        self.sender = sender
        self._lock = threading.Lock()
        self._last_ns = 0

    def __repr__(self) -> str:
        return f"FileMailer({str(self.outbox)!r})"

    def send(self, email: OutgoingEmail) -> None:
        ns = self._next_ns()
        sent_at = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
        message = build_message(email, sender=self.sender, date=sent_at)
        data = message.as_bytes(policy=WIRE_POLICY)  # CRLF, as on the wire
        name = f"{sent_at:%Y%m%dT%H%M%S}.{ns % 1_000_000_000:09d}Z-{secrets.token_hex(4)}.eml"
        try:
            self._write_atomically(self.outbox / name, data)
        except OSError as exc:
            log.warning("mail not written to outbox: %s", type(exc).__name__)
            raise DependencyUnavailable(
                "De e-mail kon niet worden opgeslagen.", reason=type(exc).__name__
            ) from exc
        log.info("mail written to outbox", extra={"message_id": str(message["Message-ID"])})

    def _next_ns(self) -> int:
        """Nanoseconds since the epoch, strictly increasing within this mailer."""
        with self._lock:
            self._last_ns = max(time.time_ns(), self._last_ns + 1)
            return self._last_ns

    def _write_atomically(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        try:
            # 0600: a mail holds order links and reset links; only the site's user reads them.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
