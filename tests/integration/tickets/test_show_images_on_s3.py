"""Show images end to end: SQL (SQLite and PostgreSQL), Pillow and a real S3 server."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from PIL import Image as PILImage
from sqlalchemy import Engine

from mierloos_adapters.images import PillowImageProcessor
from mierloos_adapters.memory import FixedClock
from mierloos_adapters.s3 import S3Storage
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core import errors
from mierloos_core.model.files import ImageStatus
from mierloos_core.model.jobs import JobType
from mierloos_core.services.images import ShowImages
from tests.catalog_builders import CatalogBuilder
from tests.integration.storage.storage_support import S3TestServer

from .tickets_support import bucket_keys


@pytest.fixture
def make_uow(engine: Engine, clock: FixedClock) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(engine, clock)


@pytest.fixture
def images(make_uow, clock: FixedClock, s3_storage: S3Storage) -> ShowImages:
    return ShowImages(make_uow, clock, s3_storage, PillowImageProcessor())


def photo(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (180, 40, 40)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_an_upload_is_processed_into_three_sizes_and_shown(
    images, make_uow, sql_catalog: CatalogBuilder, s3_storage, s3_server, s3_bucket
):
    show = sql_catalog.show("De Gebroken Kruik")
    original = photo(2400, 1600)

    uploaded = images.upload(show.id, original, "affiche.jpg")

    with make_uow() as uow:
        [job] = uow.jobs.list(job_type=JobType.IMAGE_PROCESSING)
    assert job.data == {"image_id": str(uploaded.id)}
    assert bucket_keys(s3_server, s3_bucket) == [uploaded.original_key]

    images.process(uploaded.id)
    images.process(uploaded.id)  # a second delivery of the job changes nothing

    with make_uow() as uow:
        image = uow.images.get(uploaded.id)
        stored_show = uow.shows.get(show.id)
    assert image is not None
    assert stored_show is not None
    assert image.status is ImageStatus.READY
    assert stored_show.image_id == uploaded.id
    assert bucket_keys(s3_server, s3_bucket) == sorted(
        [uploaded.original_key, *image.variants.values()]
    )
    expected = {"lg": (1600, 1067), "md": (800, 533), "sm": (400, 267)}
    for size, key in image.variants.items():
        url = s3_storage.url_for(key, timedelta(minutes=5))
        assert url is not None
        response = httpx.get(url, timeout=10, trust_env=False)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert PILImage.open(io.BytesIO(response.content)).size == expected[size]
    assert s3_storage.get(uploaded.original_key) == original


def test_storage_down_while_processing_then_the_retry_succeeds(
    images,
    make_uow,
    sql_catalog: CatalogBuilder,
    s3_storage: S3Storage,
    s3_server: S3TestServer,
    s3_bucket: str,
):
    show = sql_catalog.show()
    original = photo(1000, 500)
    uploaded = images.upload(show.id, original, "a.jpg")
    s3_server.stop()

    with pytest.raises(errors.DependencyUnavailable):
        images.process(uploaded.id)

    with make_uow() as uow:
        image = uow.images.get(uploaded.id)
    assert image is not None
    assert image.status is ImageStatus.UPLOADED
    assert image.variants == {}

    s3_server.start()
    if not s3_server.keeps_objects_across_restart:  # moto starts empty: bring the upload back
        s3_server.create_bucket(s3_bucket)
        s3_storage.put(uploaded.original_key, original, "image/jpeg")

    images.process(uploaded.id)

    with make_uow() as uow:
        image = uow.images.get(uploaded.id)
    assert image is not None
    assert image.status is ImageStatus.READY
    assert all(s3_storage.exists(key) for key in image.variants.values())
