"""`mierloos check` proves what it claims: the Mollie key by an authenticated read, the bucket by
name, and production without real storage or mail only when local files are chosen on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from mierloos_entrypoints.checks import run_checks
from mierloos_entrypoints.config import S3Settings, Settings
from tests.integration.payments.mollie_server import DEFAULT_API_KEY, MollieServer, running
from tests.integration.storage.storage_support import S3TestServer, start_s3_server
from tests.integration.web.web_support import settings_for


def checks(settings: Settings) -> dict[str, tuple[bool, str]]:
    return {name: (ok, detail) for name, ok, detail in run_checks(settings)}


@pytest.fixture(scope="module")
def mollie() -> Iterator[MollieServer]:
    with running(MollieServer(api_keys=[DEFAULT_API_KEY])) as server:
        yield server


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3TestServer]:
    server = start_s3_server(tmp_path_factory.mktemp("s3"))
    yield server
    server.close()


def test_a_mollie_key_is_proven_by_one_authenticated_read(var_dir: Path, mollie) -> None:
    settings = attrs.evolve(
        settings_for(var_dir), mollie_api_key=DEFAULT_API_KEY, mollie_api_endpoint=mollie.base_url
    )
    before = len(mollie.received)

    assert checks(settings)["payments"] == (True, "mollie, test key accepted")
    [read] = mollie.received[before:]
    assert (read.method, read.path) == ("GET", "/v2/payments")


def test_a_refused_mollie_key_fails_the_check(var_dir: Path, mollie) -> None:
    settings = attrs.evolve(
        settings_for(var_dir),
        mollie_api_key="test_" + "x" * 30,
        mollie_api_endpoint=mollie.base_url,
    )

    ok, detail = checks(settings)["payments"]

    assert not ok
    assert detail.startswith("mollie, test key:")
    assert "(HTTP 401)" in detail
    assert "x" * 30 not in detail


def test_a_missing_bucket_is_named_with_the_error(var_dir: Path, s3) -> None:
    settings = attrs.evolve(
        settings_for(var_dir),
        s3=S3Settings(
            bucket="bestaat-niet",
            access_key_id=s3.access_key,
            secret_access_key=s3.secret_key,
            endpoint_url=s3.endpoint_url,
            region=s3.region,
        ),
    )

    ok, detail = checks(settings)["storage"]

    assert not ok
    assert detail.startswith("bucket 'bestaat-niet': ")
    assert "NoSuchBucket" in detail or "does not exist" in detail


def test_production_without_object_storage_or_smtp_fails_unless_chosen(
    var_dir: Path, postgres_cli_url: str
) -> None:
    production = attrs.evolve(
        settings_for(var_dir), database_url=postgres_cli_url, fake_payments=True
    )

    found = checks(production)
    chosen = checks(attrs.evolve(production, local_storage=True, file_mailer=True))

    assert found["storage"][0] is False
    assert "MIERLOOS_LOCAL_STORAGE=1" in found["storage"][1]
    assert found["mail"][0] is False
    assert "MIERLOOS_FILE_MAILER=1" in found["mail"][1]
    assert chosen["storage"] == (True, "LocalStorage read and write")
    assert chosen["mail"][0] is True
