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
    language: str = "nl"  # the buyer's, from the order
    category: str = ""  # the price category's name as sold, in the buyer's language
    seat: str = ""  # reserved seating: "Zaal, rij 3, stoel 4" in the buyer's language


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


# Image formats accepted for upload: format name -> (content type, file extension).
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "jpeg": ("image/jpeg", "jpg"),
    "png": ("image/png", "png"),
    "gif": ("image/gif", "gif"),
    "webp": ("image/webp", "webp"),
}


@attrs.frozen(kw_only=True)
class ImageInfo:
    """What an ImageProcessor found in an uploaded file.

    `width` and `height` are as the image is shown: with its EXIF orientation applied.
    """

    format: str = attrs.field(validator=attrs.validators.in_(IMAGE_FORMATS))
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return IMAGE_FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return IMAGE_FORMATS[self.format][1]

    @property
    def pixels(self) -> int:
        return self.width * self.height


def fit_within(width: int, height: int, box: int) -> tuple[int, int]:
    """The size of a `width` x `height` image scaled to fit a `box` x `box` square.

    The aspect ratio is kept (the short side rounded to the nearest pixel, at least 1) and an
    image that already fits keeps its size: images are never scaled up.
    """
    if width < 1 or height < 1 or box < 1:
        raise ValueError("sizes must be positive")
    longest = max(width, height)
    if longest <= box:
        return width, height
    if width >= height:
        return box, max(1, (height * box * 2 + longest) // (longest * 2))
    return max(1, (width * box * 2 + longest) // (longest * 2)), box
