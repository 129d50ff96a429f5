"""What the renderers and storage deal in: ticket documents and stored images."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from mierloos_core.model.ids import new_id
from mierloos_core.model.money import Money
from mierloos_core.model.timeutil import require_aware


@attrs.frozen(kw_only=True)
class TicketDocument:
    """Everything printed on one ticket page."""

    theatre_name: str
    show_title: str
    starts_at: datetime = attrs.field(validator=require_aware)
    hall: str | None
    price: Money
    order_number: str
    holder_name: str
    secret: str = attrs.field(repr=False)
    position: int  # 1-based number of this ticket within the order
    count: int  # tickets in the order


class ImageStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    READY = "ready"
    FAILED = "failed"


@attrs.define(kw_only=True)
class Image:
    show_id: uuid.UUID
    original_key: str
    content_type: str
    created_at: datetime = attrs.field(validator=require_aware)
    status: ImageStatus = ImageStatus.UPLOADED
    variants: dict[str, str] = attrs.field(factory=dict)  # size name -> object key
    id: uuid.UUID = attrs.field(factory=new_id)
