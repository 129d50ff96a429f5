"""The site while its database is down: 503 with Retry-After and a plain Dutch page, never a
500, one log record per kind of failure per 10 s, and back to normal once the server is."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import attrs
import pytest
from starlette.testclient import TestClient

from mierloos_adapters.migrations import upgrade
from mierloos_entrypoints.container import build_container
from mierloos_entrypoints.demo import load_demo_data
from mierloos_entrypoints.web.app import create_app
from tests.integration.web.web_support import BASE_URL, START, settings_for
from tests.postgres_server import PrivateCluster, private_cluster

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    with private_cluster() as made:
        yield made


@pytest.fixture
def client(cluster: PrivateCluster, tmp_path) -> Iterator[TestClient]:
    settings = attrs.evolve(
        settings_for(tmp_path, BASE_URL), database_url=cluster.url, fake_payments=True
    )
    container = build_container(settings)
    upgrade(container.engine())
    load_demo_data(container.uow, START)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client
    container.engine().dispose()


def test_pages_and_the_api_answer_503_while_the_database_is_down_and_log_it_once(
    cluster, client, caplog
):
    assert client.get("/").status_code == 200
    cluster.stop("fast")
    caplog.set_level(logging.WARNING)

    answers = [client.get(path) for path in ("/", "/voorstellingen/gebroeders-mierlo") * 10]
    api = client.get("/api/shows")
    line = {"performance_id": str(uuid.uuid4()), "quantity": 1}
    checkout = client.post(
        "/api/checkout", json={"name": "An", "email": "a@example.nl", "lines": [line]}
    )

    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "10"
        assert "even niet bereikbaar" in answer.text
        assert "Traceback" not in answer.text
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "unavailable"
    assert checkout.status_code == 503
    assert "niet geplaatst" in checkout.json()["error"]["message"]
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) <= 2, [r.getMessage() for r in records]  # one per kind of error
    assert all(r.levelno == logging.WARNING for r in records)

    cluster.start()
    assert client.get("/").status_code == 200
