"""Show images against the memory fakes: upload checks, the image_processing job, retries."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from mierloos_adapters.memory import (
    FixedClock,
    MemoryImageProcessor,
    MemoryStorage,
    MemoryStore,
    MemoryUnitOfWork,
)
from mierloos_core import errors
from mierloos_core.model.catalog import Show
from mierloos_core.model.commands import ProcessImage
from mierloos_core.model.files import Image, ImageStatus, fit_within
from mierloos_core.model.jobs import JobType
from mierloos_core.services.images import IMAGE_SIZES, MAX_UPLOAD_BYTES, ShowImages
from tests.catalog_builders import CatalogBuilder


def png(width: int, height: int, *, orientation: int | None = None) -> bytes:
    """A real grey PNG, written with the standard library; optionally with EXIF orientation."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    parts = [
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)),
    ]
    if orientation is not None:
        # little-endian TIFF: one IFD with one entry, Orientation (0x0112) as a SHORT
        tiff = (
            b"II*\x00"
            + struct.pack("<I", 8)
            + struct.pack("<HHHIHH", 1, 0x0112, 3, 1, orientation, 0)
        )
        parts.append(chunk(b"eXIf", tiff + b"\x00\x00\x00\x00"))
    parts += [chunk(b"IDAT", zlib.compress(rows)), chunk(b"IEND", b"")]
    return b"".join(parts)


class CountingStorage(MemoryStorage):
    """MemoryStorage that counts writes and can fail the n-th one."""

    def __init__(self) -> None:
        super().__init__()
        self.puts: list[str] = []
        self.fail_put_number: int | None = None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail_put_number is not None and len(self.puts) + 1 == self.fail_put_number:
            self.fail_put_number = None
            raise errors.DependencyUnavailable("storage went away")
        super().put(key, data, content_type)
        self.puts.append(key)


@pytest.fixture
def storage() -> CountingStorage:
    return CountingStorage()


@pytest.fixture
def processor() -> MemoryImageProcessor:
    return MemoryImageProcessor()


@pytest.fixture
def make_uow(store: MemoryStore, clock: FixedClock) -> Callable[[], MemoryUnitOfWork]:
    return lambda: MemoryUnitOfWork(store, clock)


@pytest.fixture
def images(make_uow, clock, storage, processor) -> ShowImages:
    return ShowImages(make_uow, clock, storage, processor)


@pytest.fixture
def show(catalog: CatalogBuilder) -> Show:
    return catalog.show("De Gebroken Kruik")


def image_of(make_uow, image_id: uuid.UUID) -> Image:
    with make_uow() as uow:
        image = uow.images.get(image_id)
    assert image is not None
    return image


def show_of(make_uow, show_id: uuid.UUID) -> Show:
    with make_uow() as uow:
        show = uow.shows.get(show_id)
    assert show is not None
    return show


def processing_jobs(make_uow) -> list[dict[str, object]]:
    with make_uow() as uow:
        return [job.data for job in uow.jobs.list(job_type=JobType.IMAGE_PROCESSING)]


# --- upload ------------------------------------------------------------------------------------


def test_upload_stores_the_original_and_queues_the_processing_job(
    images, make_uow, clock, storage, show
):
    data = png(300, 200)

    image = images.upload(show.id, data, "affiche.png")

    assert image.original_key == f"images/{image.id}/original.png"
    assert storage.objects[image.original_key] == (data, "image/png")
    stored = image_of(make_uow, image.id)
    assert stored == image
    assert stored.status is ImageStatus.UPLOADED
    assert stored.content_type == "image/png"
    assert stored.show_id == show.id
    assert stored.created_at == clock.now()
    assert stored.variants == {}
    assert processing_jobs(make_uow) == [{"image_id": str(image.id)}]
    # the show keeps its current image until the sizes exist
    assert show_of(make_uow, show.id).image_id is None


def test_the_file_name_does_not_decide_the_format(images, storage, show):
    image = images.upload(show.id, png(20, 10), "poster.jpg")

    assert image.original_key.endswith("/original.png")
    assert image.content_type == "image/png"


def test_the_database_holds_keys_never_image_bytes(images, store, show):
    images.upload(show.id, png(20, 10), "a.png")

    for image in store.images.values():
        assert not any(isinstance(v, bytes | bytearray) for v in attrs.asdict(image).values())


def refused_without_a_trace(make_uow, storage, store) -> None:
    assert storage.objects == {}
    assert store.images == {}
    assert processing_jobs(make_uow) == []


def test_an_upload_over_the_size_limit_is_refused_in_dutch(images, make_uow, storage, store, show):
    too_big = b"\x00" * (MAX_UPLOAD_BYTES + 1)

    with pytest.raises(errors.ImageTooLarge) as caught:
        images.upload(show.id, too_big, "groot.png")

    assert caught.value.message == "Deze afbeelding is groter dan 10 MB. Kies een kleiner bestand."
    assert isinstance(caught.value, errors.ValidationError)
    refused_without_a_trace(make_uow, storage, store)


def test_the_size_limit_can_be_set(make_uow, clock, storage, processor, show):
    images = ShowImages(make_uow, clock, storage, processor, max_bytes=512 * 1024)
    with pytest.raises(errors.ImageTooLarge, match="512 kB"):
        images.upload(show.id, b"\x00" * (512 * 1024 + 1), "x.png")


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"Dit is een tekstbestand, geen foto.\n", "foto.jpg"),
        (b"", "leeg.png"),
        (png(40, 30)[:-30], "afgebroken.png"),
        (b"%PDF-1.7\n", "affiche.png"),
    ],
    ids=["text", "empty", "truncated", "pdf"],
)
def test_files_that_are_not_usable_images_are_refused(
    images, make_uow, storage, store, show, data, filename
):
    with pytest.raises(errors.InvalidImage) as caught:
        images.upload(show.id, data, filename)

    assert caught.value.message  # a sentence for staff, in Dutch
    refused_without_a_trace(make_uow, storage, store)


def test_an_image_with_too_many_pixels_is_refused(make_uow, clock, storage, store, show):
    images = ShowImages(make_uow, clock, storage, MemoryImageProcessor(max_pixels=10_000))

    with pytest.raises(errors.ImageTooLarge, match="pixels"):
        images.upload(show.id, png(101, 100), "bom.png")
    refused_without_a_trace(make_uow, storage, store)


def test_an_upload_for_an_unknown_show_is_refused(images, make_uow, storage, store):
    with pytest.raises(errors.NotFound):
        images.upload(uuid.uuid4(), png(20, 10), "a.png")
    refused_without_a_trace(make_uow, storage, store)


def test_storage_down_at_upload_records_nothing(images, make_uow, storage, store, show):
    storage.down = True

    with pytest.raises(errors.DependencyUnavailable):
        images.upload(show.id, png(20, 10), "a.png")

    storage.down = False
    refused_without_a_trace(make_uow, storage, store)


# --- the image_processing job ------------------------------------------------------------------


def variant_sizes(storage, processor, image: Image) -> dict[str, tuple[int, int]]:
    sizes = {}
    for name, key in image.variants.items():
        data, content_type = storage.objects[key]
        assert content_type == "image/jpeg"
        info = processor.inspect(data)
        assert info.format == "jpeg"
        sizes[name] = (info.width, info.height)
    return sizes


def test_processing_makes_three_sizes_and_puts_the_image_on_its_show(
    images, make_uow, storage, processor, show
):
    uploaded = images.upload(show.id, png(3000, 2000), "a.png")

    images.process(uploaded.id)

    image = image_of(make_uow, uploaded.id)
    assert image.status is ImageStatus.READY
    assert image.variants == {
        size: f"images/{uploaded.id}/{size}.jpg" for size in ("lg", "md", "sm")
    }
    assert variant_sizes(storage, processor, image) == {
        "lg": (1600, 1067),
        "md": (800, 533),
        "sm": (400, 267),
    }
    assert show_of(make_uow, show.id).image_id == uploaded.id
    assert storage.objects[uploaded.original_key][0] == png(3000, 2000)  # the original stays


def test_small_images_are_never_scaled_up(images, make_uow, storage, processor, show):
    uploaded = images.upload(show.id, png(500, 300), "klein.png")

    images.process(uploaded.id)

    assert variant_sizes(storage, processor, image_of(make_uow, uploaded.id)) == {
        "lg": (500, 300),
        "md": (500, 300),
        "sm": (400, 240),
    }


def test_portrait_images_fit_by_their_height(images, make_uow, storage, processor, show):
    uploaded = images.upload(show.id, png(900, 1800), "staand.png")

    images.process(uploaded.id)

    assert variant_sizes(storage, processor, image_of(make_uow, uploaded.id)) == {
        "lg": (800, 1600),
        "md": (400, 800),
        "sm": (200, 400),
    }


def test_the_exif_orientation_is_applied(images, make_uow, storage, processor, show):
    # stored 1200 wide and 600 high, shown turned a quarter: 600 wide, 1200 high
    uploaded = images.upload(show.id, png(1200, 600, orientation=6), "telefoon.png")

    images.process(uploaded.id)

    sizes = variant_sizes(storage, processor, image_of(make_uow, uploaded.id))
    assert sizes == {"lg": (600, 1200), "md": (400, 800), "sm": (200, 400)}


def test_processing_twice_changes_nothing_the_second_time(images, make_uow, storage, show):
    uploaded = images.upload(show.id, png(1000, 800), "a.png")
    images.process(uploaded.id)
    writes = list(storage.puts)
    before = image_of(make_uow, uploaded.id)

    again = images.process(uploaded.id)

    assert again == before == image_of(make_uow, uploaded.id)
    assert storage.puts == writes


def test_storage_down_during_processing_is_retried(images, make_uow, storage, show):
    uploaded = images.upload(show.id, png(1000, 800), "a.png")
    storage.down = True

    with pytest.raises(errors.DependencyUnavailable):
        images.process(uploaded.id)

    assert image_of(make_uow, uploaded.id).status is ImageStatus.UPLOADED
    assert show_of(make_uow, show.id).image_id is None
    storage.down = False

    images.process(uploaded.id)

    image = image_of(make_uow, uploaded.id)
    assert image.status is ImageStatus.READY
    assert set(image.variants) == set(IMAGE_SIZES)
    assert show_of(make_uow, show.id).image_id == uploaded.id


def test_storage_failing_between_two_sizes_is_retried(images, make_uow, storage, show):
    uploaded = images.upload(show.id, png(1000, 800), "a.png")
    storage.fail_put_number = len(storage.puts) + 2  # the md size

    with pytest.raises(errors.DependencyUnavailable):
        images.process(uploaded.id)
    assert image_of(make_uow, uploaded.id).variants == {}

    images.process(uploaded.id)

    image = image_of(make_uow, uploaded.id)
    assert image.status is ImageStatus.READY
    assert all(storage.exists(key) for key in image.variants.values())
    assert sorted(k for k in storage.objects if k.startswith(f"images/{uploaded.id}/")) == sorted(
        [uploaded.original_key, *image.variants.values()]
    )


def test_a_newer_upload_is_not_replaced_by_an_older_one_finishing_late(
    images, make_uow, clock, show
):
    older = images.upload(show.id, png(100, 100), "oud.png")
    clock.advance(timedelta(minutes=1))
    newer = images.upload(show.id, png(100, 100), "nieuw.png")

    images.process(newer.id)
    images.process(older.id)

    assert show_of(make_uow, show.id).image_id == newer.id
    assert image_of(make_uow, older.id).status is ImageStatus.READY


def test_a_newer_upload_replaces_the_shown_image(images, make_uow, clock, show):
    older = images.upload(show.id, png(100, 100), "oud.png")
    images.process(older.id)
    clock.advance(timedelta(days=1))
    newer = images.upload(show.id, png(100, 100), "nieuw.png")

    images.process(newer.id)

    assert show_of(make_uow, show.id).image_id == newer.id


def test_processing_an_unknown_image_is_nothing_to_do(images, storage):
    assert images.process(uuid.uuid4()) is None
    assert storage.puts == []


def test_a_missing_original_fails_the_image_for_good(images, make_uow, storage, show):
    uploaded = images.upload(show.id, png(100, 100), "a.png")
    storage.delete(uploaded.original_key)

    with pytest.raises(errors.PermanentFailure):
        images.process(uploaded.id)

    assert image_of(make_uow, uploaded.id).status is ImageStatus.FAILED
    assert show_of(make_uow, show.id).image_id is None


def test_an_unreadable_original_fails_the_image_for_good(images, make_uow, clock, storage, show):
    image = Image(
        show_id=show.id,
        original_key="images/x/original.jpg",
        content_type="image/jpeg",
        created_at=clock.now(),
    )
    storage.put(image.original_key, b"not an image at all", "image/jpeg")
    with make_uow() as uow:
        uow.images.add(image)
        uow.commit()

    with pytest.raises(errors.PermanentFailure):
        images.process(image.id)

    assert image_of(make_uow, image.id).status is ImageStatus.FAILED


def test_a_failed_image_can_be_retried_once_its_original_is_back(images, make_uow, storage, show):
    data = png(100, 100)
    uploaded = images.upload(show.id, data, "a.png")
    storage.delete(uploaded.original_key)
    with pytest.raises(errors.PermanentFailure):
        images.process(uploaded.id)

    storage.put(uploaded.original_key, data, "image/png")
    images.process(uploaded.id)

    assert image_of(make_uow, uploaded.id).status is ImageStatus.READY


# --- the job registry's view -------------------------------------------------------------------


def test_the_job_handler_takes_the_payload_written_at_upload(images, make_uow, show):
    uploaded = images.upload(show.id, png(100, 100), "a.png")
    [payload] = processing_jobs(make_uow)

    images.processing_job(ProcessImage.from_payload(payload))

    assert image_of(make_uow, uploaded.id).status is ImageStatus.READY


@pytest.mark.parametrize("payload", [{}, {"image_id": "nope"}])
def test_a_payload_without_an_image_id_fails_for_good(images, payload):
    with pytest.raises(errors.PermanentFailure):
        images.processing_job(ProcessImage.from_payload(payload))


def test_giving_up_marks_the_image_failed(images, make_uow, show):
    uploaded = images.upload(show.id, png(100, 100), "a.png")

    images.processing_gave_up(ProcessImage(image_id=uploaded.id), "storage unreachable")

    assert image_of(make_uow, uploaded.id).status is ImageStatus.FAILED
    assert show_of(make_uow, show.id).image_id is None


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((3000, 2000), 1600, (1600, 1067)),
        ((2000, 3000), 400, (267, 400)),
        ((1600, 900), 1600, (1600, 900)),
        ((500, 300), 1600, (500, 300)),
        ((10_000, 3), 400, (400, 1)),
        ((3, 10_000), 400, (1, 400)),
        ((801, 801), 800, (800, 800)),
    ],
)
def test_fit_within_keeps_the_aspect_and_never_scales_up(size, box, expected):
    assert fit_within(*size, box) == expected
