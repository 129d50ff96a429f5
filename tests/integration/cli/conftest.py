"""The `mierloos` command against the embedded default (a temp var dir) and a fresh Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import fresh_database

SECRET_KEY = "cli-test-key-Qm7vK2pX9wLr4Tz8Hy3Nd6Bc1Fj5Gs0A"


@pytest.fixture(scope="module")
def postgres_cli_url(postgres_admin_url: str) -> Iterator[str]:
    """A database of its own for this module's commands (created and dropped here)."""
    with fresh_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"
