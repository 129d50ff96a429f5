"""Fixtures for the ObjectStorage contract: the adapters under test and a real S3 server.

The S3 server is one per test session (see `storage_support.start_s3_server` for how it is chosen:
MIERLOOS_TEST_S3_URL, else MinIO in Docker, else moto's standalone server). It is never skipped:
when none can be had, every test that needs it fails and says why.

A test that simulates "storage down" takes `s3_outage` and calls `.stop()` / `.start()`; the
server is started again after the test whatever happens. With moto a restart loses every bucket
and object (moto keeps them in memory), so each test gets its own fresh bucket (`s3_bucket`), and
`S3TestServer.create_bucket(name)` brings one back after a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mierloos_adapters.local_storage import LocalStorage
from mierloos_adapters.memory import MemoryStorage
from mierloos_adapters.s3 import S3Storage

from .storage_support import (
    ContractStorage,
    S3ServerUnavailable,
    S3TestServer,
    make_s3_storage,
    start_s3_server,
)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3TestServer]:
    problem = None
    try:
        server = start_s3_server(tmp_path_factory.mktemp("s3-server"))
    except S3ServerUnavailable as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(f"no S3 server for the storage tests: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def s3_bucket(s3_server: S3TestServer) -> Iterator[str]:
    """A fresh, empty bucket on the session's S3 server, removed afterwards."""
    s3_server.start()  # no-op unless an earlier test left it stopped
    name = s3_server.create_bucket()
    yield name
    if s3_server.running:
        s3_server.remove_bucket(name)


@pytest.fixture
def s3_storage(s3_server: S3TestServer, s3_bucket: str) -> Iterator[S3Storage]:
    """S3Storage as production configures it, on a fresh bucket of the real server."""
    storage = make_s3_storage(s3_server, s3_bucket)
    yield storage
    storage.close()


@pytest.fixture
def s3_outage(s3_server: S3TestServer) -> Iterator[S3TestServer]:
    """The session's S3 server for a test that stops it; running again after the test."""
    yield s3_server
    s3_server.start()


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture(params=["memory", "local", "s3"])
def storage(request: pytest.FixtureRequest) -> ContractStorage:
    """Every ObjectStorage implementation: the same assertions must hold for each."""
    if request.param == "memory":
        return MemoryStorage()
    if request.param == "local":
        local: LocalStorage = request.getfixturevalue("local_storage")
        return local
    s3: S3Storage = request.getfixturevalue("s3_storage")
    return s3


@pytest.fixture(params=["local", "s3"])
def real_storage(request: pytest.FixtureRequest) -> LocalStorage | S3Storage:
    """The adapters that talk to a real store (and validate keys)."""
    name = "local_storage" if request.param == "local" else "s3_storage"
    adapter: LocalStorage | S3Storage = request.getfixturevalue(name)
    return adapter
