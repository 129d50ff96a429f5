"""/metrics and /health on the web site: who may read the metrics, and what they count."""

from __future__ import annotations

import re

import attrs
import pytest
from dependency_injector import providers
from starlette.testclient import TestClient

from mierloos_adapters.jobqueue.ledger import SqlJobLedger
from mierloos_adapters.links import PAYMENT_WEBHOOK
from mierloos_adapters.sqlalchemy import make_engine
from mierloos_entrypoints.web.app import create_app
from tests.integration.web.web_support import BASE_URL, Site, add_to_cart, check_out

TOKEN = "metrics-token-0123456789abcdef"
LOOPBACK = ("127.0.0.1", 40000)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text; 0 when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        found = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if found is None or found.group(1) != name:
            continue
        given = ",".join(sorted((found.group(2) or "").split(","))) if found.group(2) else ""
        if given == wanted:
            return float(found.group(3))
    return 0.0


def loopback_client(site: Site) -> TestClient:
    return TestClient(site.app, base_url=BASE_URL, client=LOOPBACK, follow_redirects=False)


def with_token(site: Site) -> TestClient:
    settings = attrs.evolve(site.container.settings(), metrics_token=TOKEN)
    site.container.settings.override(providers.Object(settings))
    return TestClient(create_app(site.container), base_url=BASE_URL, follow_redirects=False)


def test_metrics_are_refused_to_remote_clients_without_a_token(client):
    answer = client.get("/metrics")

    assert answer.status_code == 403
    assert "mierloos_" not in answer.text


def test_metrics_count_checkouts_and_the_jobs_table_for_a_loopback_client(site, client):
    metrics = loopback_client(site)
    before = metrics.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain; version=0.0.4")
    redirects_before = sample(before.text, "mierloos_checkouts_total", outcome="redirect")

    performance = site.performances("gebroeders-mierlo")[0]
    add_to_cart(client, performance.id, 2)
    assert check_out(client).status_code == 303
    after = metrics.get("/metrics").text

    assert sample(after, "mierloos_checkouts_total", outcome="redirect") == redirects_before + 1
    assert sample(after, "mierloos_jobs_ledger_up") == 1
    with site.container.engine().connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT type, status, count(*) FROM jobs GROUP BY type, status"
        ).all()
    assert rows, "a checkout writes at least one job"
    for job_type, status, count in rows:
        assert sample(after, "mierloos_jobs_stored", type=job_type, status=status) == count


def test_metrics_count_malformed_webhooks(site, client):
    metrics = loopback_client(site)
    before = sample(metrics.get("/metrics").text, "mierloos_webhooks_total", outcome="malformed")

    answer = client.post(
        PAYMENT_WEBHOOK,
        content=b"nonsense",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    after = sample(metrics.get("/metrics").text, "mierloos_webhooks_total", outcome="malformed")

    assert answer.status_code == 400
    assert after == before + 1


def test_with_a_token_metrics_need_the_bearer_from_anywhere(site):
    client = with_token(site)

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["www-authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert "mierloos_jobs_ledger_up 1.0" in right.text


def test_metrics_still_answer_when_the_jobs_table_cannot_be_read(site, tmp_path):
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    site.container.jobs.override(providers.Object(SqlJobLedger(broken, site.clock)))
    client = TestClient(
        create_app(site.container), base_url=BASE_URL, client=LOOPBACK, follow_redirects=False
    )

    answer = client.get("/metrics")

    assert answer.status_code == 200
    assert sample(answer.text, "mierloos_jobs_ledger_up") == 0
    assert "mierloos_jobs_stored" not in answer.text


def test_health_answers_ok_while_the_database_answers(client):
    answer = client.get("/health")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": {"reachable": True}}


def test_health_says_unavailable_when_the_database_cannot_be_reached(site, client):
    # Nothing listens on port 1: the connection is refused at once.
    site.container.engine.override(
        providers.Object(make_engine("postgresql://nobody@127.0.0.1:1/nowhere"))
    )

    answer = client.get("/health")

    assert answer.status_code == 503
    assert answer.json()["database"] == {"reachable": False}


@pytest.mark.parametrize("path", ["/metrics", "/health"])
def test_operator_endpoints_answer_get_only(client, path):
    assert client.post(path).status_code == 405
