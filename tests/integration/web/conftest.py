"""The visitors' site over HTTP: each test gets its own SQLite file with the demo catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.integration.web.web_support import Site, build_site, migrated_database


@pytest.fixture(scope="session")
def web_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated database, copied for every test (faster than migrating each time)."""
    return migrated_database(tmp_path_factory.mktemp("web-db"))


@pytest.fixture
def make_site(tmp_path: Path, web_template_db: Path) -> Callable[..., Site]:
    made = 0

    def make(**options: Any) -> Site:
        nonlocal made
        made += 1
        var_dir = tmp_path / f"var{made}"
        var_dir.mkdir()
        return build_site(var_dir, web_template_db, **options)

    return make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with site.client() as client:
        yield client
