"""Fixtures for the ticket and image integration tests: a real S3 server and a fresh bucket.

The server comes from the storage tests' support module (MIERLOOS_TEST_S3_URL, MinIO in Docker,
or moto's standalone server on 127.0.0.1; never skipped). A test that stops it takes
`s3_outage`; the server runs again after the test whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mierloos_adapters.s3 import S3Storage
from tests.integration.storage.storage_support import (
    S3ServerUnavailable,
    S3TestServer,
    make_s3_storage,
    start_s3_server,
)


@pytest.fixture(scope="session")
def tickets_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3TestServer]:
    problem = None
    try:
        server = start_s3_server(tmp_path_factory.mktemp("tickets-s3-server"))
    except S3ServerUnavailable as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(f"no S3 server for the ticket tests: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def s3_server(tickets_s3_server: S3TestServer) -> Iterator[S3TestServer]:
    """The session's S3 server, running; running again after the test even if it stopped it."""
    tickets_s3_server.start()
    yield tickets_s3_server
    tickets_s3_server.start()


@pytest.fixture
def s3_bucket(s3_server: S3TestServer) -> Iterator[str]:
    name = s3_server.create_bucket()
    yield name
    if s3_server.running:
        s3_server.remove_bucket(name)


@pytest.fixture
def s3_storage(s3_server: S3TestServer, s3_bucket: str) -> Iterator[S3Storage]:
    """S3Storage as production configures it, on a fresh bucket."""
    storage = make_s3_storage(s3_server, s3_bucket)
    yield storage
    storage.close()
