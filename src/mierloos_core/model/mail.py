"""An e-mail ready to send."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Lets a mail job be retried without the recipient getting it twice from servers that dedupe.
    message_id: str | None = None
