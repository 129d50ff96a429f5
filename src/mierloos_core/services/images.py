"""Show images: staff upload one, a job makes the sizes the site shows.

The files live in object storage, never in the database, under ``images/{image_id}/``:
``original.{ext}`` as uploaded, and ``lg.jpg``, ``md.jpg``, ``sm.jpg`` made by the
`image_processing` job. The database keeps the keys (the `Image` row) and the show points
at its image once the sizes exist.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping

from mierloos_core import errors
from mierloos_core.model.commands import ProcessImage
from mierloos_core.model.files import Image, ImageStatus
from mierloos_core.model.ids import new_id
from mierloos_core.ports import Clock, ImageProcessor, ObjectStorage, UnitOfWork
from mierloos_core.services.jobs import enqueue

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Size name -> the longest side in pixels (images are never scaled up).
IMAGE_SIZES: Mapping[str, int] = {"lg": 1600, "md": 800, "sm": 400}
VARIANT_CONTENT_TYPE = "image/jpeg"


def original_key(image_id: uuid.UUID, extension: str) -> str:
    return f"images/{image_id}/original.{extension}"


def variant_key(image_id: uuid.UUID, size: str) -> str:
    return f"images/{image_id}/{size}.jpg"


class ShowImages:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        storage: ObjectStorage,
        processor: ImageProcessor,
        *,
        max_bytes: int = MAX_UPLOAD_BYTES,
        sizes: Mapping[str, int] = IMAGE_SIZES,
    ) -> None:
        if max_bytes < 1 or not sizes:
            raise ValueError("invalid image settings")
        self.uow = uow
        self.clock = clock
        self.storage = storage
        self.processor = processor
        self.max_bytes = max_bytes
        self.sizes = dict(sizes)

    def upload(self, show_id: uuid.UUID, data: bytes, filename: str = "") -> Image:
        """Store a staff upload and queue the job that makes its sizes.

        Raises NotFound for an unknown show, InvalidImage for a file that is not a usable
        image (the name's extension is not trusted), ImageTooLarge for too many bytes or
        pixels, and DependencyUnavailable when storage is down (nothing is recorded then).
        """
        if not data:
            raise errors.InvalidImage(
                "Het bestand is leeg. Kies een afbeelding.", filename=filename
            )
        if len(data) > self.max_bytes:
            raise errors.ImageTooLarge(
                f"Deze afbeelding is groter dan {_megabytes(self.max_bytes)}. "
                "Kies een kleiner bestand.",
                filename=filename,
                size=len(data),
            )
        self._require_show(show_id)
        info = self.processor.inspect(data)

        image_id = new_id()
        image = Image(
            id=image_id,
            show_id=show_id,
            original_key=original_key(image_id, info.extension),
            content_type=info.content_type,
            created_at=self.clock.now(),
        )
        self.storage.put(image.original_key, data, info.content_type)
        with self.uow() as uow:
            if uow.shows.get(show_id) is None:  # removed while we uploaded
                raise _unknown_show(show_id)
            uow.images.add(image)
            enqueue(uow, ProcessImage(image_id=image_id))
            uow.commit()
        log.info(
            "image %s (%s, %dx%d) uploaded for show %s",
            image_id,
            info.format,
            info.width,
            info.height,
            show_id,
        )
        return image

    def processing_job(self, command: ProcessImage) -> None:
        """The `image_processing` handler for the job registry."""
        self.process(command.image_id)

    def processing_gave_up(self, command: ProcessImage, reason: str) -> None:
        """Every attempt failed: mark the image failed, so staff see it and upload again."""
        self._fail(command.image_id, f"gave up: {reason}")

    def process(self, image_id: uuid.UUID) -> Image | None:
        """The `image_processing` job: make and store the sizes, then show the image.

        Idempotent: a ready image is left alone, and a retry overwrites the same keys.
        Storage down raises DependencyUnavailable (the job retries); an original that cannot
        be read as an image marks the image failed and raises PermanentFailure.
        """
        with self.uow() as uow:
            image = uow.images.get(image_id)
        if image is None:
            log.warning("image %s does not exist: nothing to process", image_id)
            return None
        if image.status is ImageStatus.READY:
            return image

        try:
            original = self.storage.get(image.original_key)
        except errors.NotFound:
            self._fail(image_id, "the original is missing from storage")
            raise errors.PermanentFailure(f"original of image {image_id} is missing") from None
        try:
            variants = self.processor.variants(original, self.sizes)
        except errors.InvalidImage as error:
            self._fail(image_id, error.message)
            raise errors.PermanentFailure(f"image {image_id} cannot be processed") from error

        keys: dict[str, str] = {}
        for size in self.sizes:
            key = variant_key(image_id, size)
            self.storage.put(key, variants[size], VARIANT_CONTENT_TYPE)
            keys[size] = key

        with self.uow() as uow:
            current = uow.images.get(image_id)
            if current is None:
                return None
            if current.status is ImageStatus.READY:
                return current
            current.variants = keys
            current.status = ImageStatus.READY
            uow.images.update(current)
            self._show_on_its_show(uow, current)
            uow.commit()
        return current

    def _show_on_its_show(self, uow: UnitOfWork, image: Image) -> None:
        """Point the show at this image, unless a newer upload is on it already."""
        show = uow.shows.get(image.show_id)
        if show is None:
            return
        if show.image_id is not None and show.image_id != image.id:
            shown = uow.images.get(show.image_id)
            if shown is not None and shown.created_at > image.created_at:
                return
        if show.image_id != image.id:
            show.image_id = image.id
            uow.shows.update(show)

    def _fail(self, image_id: uuid.UUID, reason: str) -> None:
        log.error("image %s failed: %s", image_id, reason)
        with self.uow() as uow:
            image = uow.images.get(image_id)
            if image is not None and image.status is not ImageStatus.READY:
                image.status = ImageStatus.FAILED
                uow.images.update(image)
                uow.commit()

    def _require_show(self, show_id: uuid.UUID) -> None:
        with self.uow() as uow:
            if uow.shows.get(show_id) is None:
                raise _unknown_show(show_id)


def _unknown_show(show_id: uuid.UUID) -> errors.NotFound:
    return errors.NotFound("Deze voorstelling bestaat niet.", show_id=str(show_id))


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{size // 1024} kB"
