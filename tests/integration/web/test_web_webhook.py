"""The payment webhook: checks the id, queues one job per call, answers fast, never processes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta
from types import TracebackType

import attrs
import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from mierloos_adapters.memory import MemoryPaymentGateway
from mierloos_adapters.sqlalchemy.tables import metadata
from mierloos_core.errors import Busy
from mierloos_core.model.orders import OrderStatus
from mierloos_core.model.payments import PaymentStatus
from tests.integration.web.web_support import Site, add_to_cart, check_out
from tests.postgres_server import fresh_database


@pytest.fixture
def _webhook_postgres() -> Iterator[Callable[[str], str]]:
    with ExitStack() as stack:
        yield lambda admin_url: stack.enter_context(fresh_database(admin_url))


def finish_jobs(site: Site, job_type: str) -> None:
    """What a worker leaves behind: the pending jobs of the type marked completed."""
    jobs = metadata.tables["jobs"]
    with site.container.engine().begin() as connection:
        connection.execute(update(jobs).where(jobs.c.type == job_type).values(status="completed"))


def our_payment(site: Site, client: TestClient) -> str:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    check_out(client)
    assert isinstance(site.gateway, MemoryPaymentGateway)
    return next(iter(site.gateway.payments))


def test_a_webhook_call_queues_one_job_and_answers_200_empty(
    site: Site, client: TestClient
) -> None:
    payment_id = our_payment(site, client)
    response = client.post("/webhooks/payments", data={"id": payment_id})

    assert response.status_code == 200
    assert response.content == b""
    jobs = site.jobs("payment_webhook")
    assert len(jobs) == 1
    assert jobs[0].data == {"provider_payment_id": payment_id}


def test_calls_while_a_sync_waits_add_nothing_and_one_after_it_ran_queues_again(
    site: Site, client: TestClient
) -> None:
    payment_id = our_payment(site, client)
    for _ in range(3):
        assert client.post("/webhooks/payments", data={"id": payment_id}).status_code == 200
    assert len(site.jobs("payment_webhook")) == 1

    finish_jobs(site, "payment_webhook")
    assert client.post("/webhooks/payments", data={"id": payment_id}).status_code == 200
    assert client.post("/webhooks/payments", data={"id": payment_id}).status_code == 200

    statuses = sorted(job.status for job in site.jobs("payment_webhook"))
    assert statuses == ["completed", "pending"]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_concurrent_calls_for_one_payment_leave_one_pending_job(
    database: str, make_site: Callable[..., Site], request: pytest.FixtureRequest
) -> None:
    if database == "postgres":
        admin_url = request.getfixturevalue("postgres_admin_url")
        url = request.getfixturevalue("_webhook_postgres")(admin_url)
        site = make_site(database_url=url, migrate=True)
    else:
        site = make_site()
    with site.client() as client:
        payment_id = our_payment(site, client)

        def call(_: int) -> int:
            with site.client() as own:
                return own.post("/webhooks/payments", data={"id": payment_id}).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(call, range(40)))

    assert codes == [200] * 40
    jobs = site.jobs("payment_webhook")
    assert [(job.status, job.data) for job in jobs] == [
        ("pending", {"provider_payment_id": payment_id})
    ]


def test_forged_ids_queue_nothing_and_call_no_provider(site: Site, client: TestClient) -> None:
    assert isinstance(site.gateway, MemoryPaymentGateway)
    for n in range(300):
        assert client.post("/webhooks/payments", data={"id": f"tr_forged{n}"}).status_code == 200

    assert site.jobs("payment_webhook") == []


def test_the_webhook_needs_no_csrf_token_nor_session(client: TestClient) -> None:
    response = client.post(
        "/webhooks/payments",
        content=b"id=tr_abc123",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_the_webhook_does_not_process_inline(site: Site, client: TestClient) -> None:
    add_to_cart(client, site.performances("gebroeders-mierlo")[0].id, 1)
    check_out(client)
    gateway = site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    payment_id = next(iter(gateway.payments))
    gateway.set_status(payment_id, PaymentStatus.PAID)

    client.post("/webhooks/payments", data={"id": payment_id})

    order_id = uuid.UUID(site.jobs("payment_creation")[0].data["order_id"])
    with site.container.uow() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    assert order.status is OrderStatus.PENDING
    assert len(site.jobs("payment_webhook")) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"id=", "application/x-www-form-urlencoded"),
        (b"id=tr_", "application/x-www-form-urlencoded"),
        (b"id=ord_abc", "application/x-www-form-urlencoded"),
        (b"id=tr_abc%20def", "application/x-www-form-urlencoded"),
        (b"id=tr_<script>", "application/x-www-form-urlencoded"),
        (b"id=tr_" + b"a" * 65, "application/x-www-form-urlencoded"),
        (b"id=tr_a&id=tr_b", "application/x-www-form-urlencoded"),
        (b"id=tr_\xff", "application/x-www-form-urlencoded"),
        (b"payment=tr_abc", "application/x-www-form-urlencoded"),
        (b'{"id": "tr_abc"}', "application/json"),
        (b"id=tr_abc", "text/plain"),
        (b"x" * 2000, "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_calls_get_400_without_detail(
    site: Site, client: TestClient, body: bytes, content_type: str
) -> None:
    response = client.post(
        "/webhooks/payments", content=body, headers={"content-type": content_type}
    )

    assert response.status_code == 400
    assert response.content == b""
    assert site.jobs("payment_webhook") == []


def test_only_post_is_allowed(client: TestClient) -> None:
    assert client.get("/webhooks/payments").status_code == 405


class _BusyUnitOfWork:
    def __enter__(self) -> _BusyUnitOfWork:
        raise Busy()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def test_a_busy_database_answers_503_so_the_provider_retries(site: Site) -> None:
    web = site.app.state.services
    busy = attrs.evolve(web.payments, uow=_BusyUnitOfWork)
    site.app.state.services = attrs.evolve(web, payments=busy)
    with site.client() as client:
        response = client.post("/webhooks/payments", data={"id": "tr_abc"})

    assert response.status_code == 503
    assert response.headers["retry-after"]


def test_order_page_views_ask_the_provider_at_most_once_per_10_seconds(
    site: Site, client: TestClient
) -> None:
    our_payment(site, client)
    gateway = site.gateway
    assert isinstance(gateway, MemoryPaymentGateway)
    with site.container.uow() as uow:
        order_id = uuid.UUID(site.jobs("payment_creation")[0].data["order_id"])
        secret = uow.orders.get(order_id).secret
    before = gateway.get_calls
    for _ in range(20):
        assert client.get(f"/bestelling/{secret}").status_code == 200
    assert gateway.get_calls - before == 1
    site.clock.advance(timedelta(seconds=11))
    client.get(f"/bestelling/{secret}")
    assert gateway.get_calls - before == 2
