"""An e-mail ready to send."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class Attachment:
    """A file sent along with an e-mail, e.g. the tickets PDF."""

    filename: str
    content_type: str
    data: bytes = attrs.field(repr=False)

    def __attrs_post_init__(self) -> None:
        maintype, _, subtype = self.content_type.partition("/")
        if not maintype or not subtype:
            raise ValueError(f"not a content type: {self.content_type!r}")
        if not self.filename or any(c in self.filename for c in '/\\"\r\n'):
            raise ValueError("an attachment needs a plain file name")


@attrs.frozen(kw_only=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Lets a mail job be retried without the recipient getting it twice from servers that dedupe.
    message_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
