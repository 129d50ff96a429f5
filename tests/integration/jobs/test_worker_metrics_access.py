"""The worker's /metrics follows the web site's rule; its /health stays open to probes."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from tests.integration.jobs.conftest import wait_for

TOKEN = "worker-metrics-token-0123456789"


def outside_address() -> str:
    """An address of this machine that is not loopback (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
    finally:
        probe.close()
    if address.startswith("127."):
        pytest.skip("this machine has no address besides loopback")
    return address


def get(host: str, port: int, path: str, token: str | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(f"http://{host}:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_without_a_token_only_loopback_clients_get_the_metrics(jobs_sqlite, start_worker):
    outside = outside_address()
    worker = start_worker(jobs_sqlite, HEALTH_HOST="0.0.0.0").wait_ready()

    local_status, local_body, _ = get("127.0.0.1", worker.port, "/metrics")
    remote_status, remote_body, _ = get(outside, worker.port, "/metrics")
    health_status, _, _ = get(outside, worker.port, "/health")

    assert local_status == 200
    assert "mierloos_jobs" in local_body
    assert (remote_status, remote_body) == (403, "metrics are served to loopback clients only\n")
    assert health_status == 200


def test_with_a_token_every_client_needs_the_bearer_token(jobs_sqlite, start_worker):
    worker = start_worker(jobs_sqlite, METRICS_TOKEN=TOKEN).wait_ready()

    bare = get("127.0.0.1", worker.port, "/metrics")
    wrong = get("127.0.0.1", worker.port, "/metrics", token=TOKEN + "x")
    right = get("127.0.0.1", worker.port, "/metrics", token=TOKEN)

    assert bare[0] == 401
    assert bare[2]["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert wrong[0] == 401
    assert right[0] == 200
    assert "mierloos_jobs" in right[1]
    assert get("127.0.0.1", worker.port, "/health")[0] == 200


def test_a_short_metrics_token_stops_the_worker_at_start(jobs_sqlite, start_worker):
    worker = start_worker(jobs_sqlite, METRICS_TOKEN="kort")

    wait_for(lambda: worker.process.poll() is not None, timeout=20)

    assert worker.process.returncode != 0
    assert "METRICS_TOKEN must be at least 16 characters long" in worker.log()
