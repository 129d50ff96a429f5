"""Show images: the uploaded original and the variants made from it."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from mierloos_adapters.sqlalchemy import tables as t
from mierloos_adapters.sqlalchemy.rows import RowMap, SqlRepository, Stored, enum_value
from mierloos_core.model.files import Image, ImageStatus

IMAGE_ROWS = RowMap(Image, t.images, status=enum_value(ImageStatus), variants=Stored(load=dict))


class SqlImages(SqlRepository):
    def add(self, image: Image) -> None:
        self._insert(IMAGE_ROWS, image)

    def get(self, image_id: uuid.UUID) -> Image | None:
        return self._find(IMAGE_ROWS, t.images.c.id == image_id)

    def update(self, image: Image) -> None:
        self.db.execute(
            update(t.images)
            .where(t.images.c.id == image.id)
            .values(status=image.status.value, variants=image.variants)
        )

    def latest_for_show(self, show_id: uuid.UUID) -> Image | None:
        return self._newest(IMAGE_ROWS, t.images.c.show_id == show_id)
