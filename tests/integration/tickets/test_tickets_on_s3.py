"""The pdf_generation job end to end: SQL (SQLite and PostgreSQL), reportlab, a real S3 server.

Checks what a visitor gets: one valid PDF per order in the bucket, with one page and one
scannable QR code per ticket, downloadable with a plain GET of the presigned URL; and that
storage going down mid-job leaves nothing half-written behind, after which a retry succeeds.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from mierloos_adapters.links import SiteLinks
from mierloos_adapters.local_storage import LocalStorage
from mierloos_adapters.memory import FixedClock
from mierloos_adapters.pdf import ReportlabTicketRenderer
from mierloos_adapters.s3 import S3Storage
from mierloos_adapters.sqlalchemy import SqlUnitOfWork
from mierloos_core import errors
from mierloos_core.model.catalog import Performance
from mierloos_core.model.jobs import Job, JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order
from mierloos_core.services.tickets import Tickets
from tests.catalog_builders import CatalogBuilder
from tests.integration.storage.storage_support import S3TestServer

from .tickets_support import add_order, bucket_keys, qr_codes_per_page

LINKS = SiteLinks("http://127.0.0.1:8000")


@pytest.fixture
def make_uow(engine: Engine, clock: FixedClock) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(engine, clock)


@pytest.fixture
def tickets(make_uow, clock: FixedClock, s3_storage: S3Storage) -> Tickets:
    return Tickets(make_uow, clock, ReportlabTicketRenderer(), s3_storage, LINKS)


@pytest.fixture
def performance(sql_catalog: CatalogBuilder) -> Performance:
    return sql_catalog.performance(
        sql_catalog.show("Het Geheim van de Smid"), price=Money(1850), capacity=200
    )


def order_of(make_uow, order: Order) -> Order:
    with make_uow() as uow:
        found = uow.orders.get(order.id)
    assert found is not None
    return found


def tickets_mails(make_uow) -> list[Job]:
    with make_uow() as uow:
        jobs = uow.jobs.list(job_type=JobType.EMAIL)
    return [job for job in jobs if job.data["template"] == "tickets_ready"]


def fetch(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10, trust_env=False)


@pytest.mark.parametrize("count", [2, 50])
def test_a_paid_order_gets_one_pdf_with_a_scannable_page_per_ticket(
    tickets, make_uow, clock, performance, s3_server, s3_bucket, count: int
):
    order = add_order(make_uow, clock, [(performance, count)])

    recorded = tickets.generate_pdf(order.id)

    assert recorded is not None
    assert recorded.key == f"orders/{order.id}/tickets-1.pdf"
    assert bucket_keys(s3_server, s3_bucket) == [recorded.key]
    assert order_of(make_uow, order).tickets_pdf == recorded

    download = tickets.download(order.secret)
    assert download.url is not None
    assert download.url.startswith(s3_server.endpoint_url)
    response = fetch(download.url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert len(pdf) == recorded.size
    assert len(PdfReader(io.BytesIO(pdf)).pages) == count == recorded.pages

    codes = qr_codes_per_page(pdf)
    assert all(len(page) == 1 for page in codes), codes
    assert sorted(page[0] for page in codes) == sorted(t.secret for t in order.tickets)

    [mail] = tickets_mails(make_uow)
    assert mail.data["to"] == order.email
    # The link is built when the mail is sent; the payload names the order only.
    assert mail.data["order_id"] == str(order.id)
    assert "context" not in mail.data


def test_the_job_run_twice_keeps_one_pdf_and_one_mail(
    tickets, make_uow, clock, performance, s3_server, s3_bucket
):
    order = add_order(make_uow, clock, [(performance, 3)])

    first = tickets.generate_pdf(order.id)
    second = tickets.generate_pdf(order.id)

    assert first is not None
    assert first == second == order_of(make_uow, order).tickets_pdf
    assert bucket_keys(s3_server, s3_bucket) == [first.key]
    assert len(tickets_mails(make_uow)) == 1


def test_storage_down_during_the_job_leaves_nothing_then_the_retry_succeeds(
    tickets, make_uow, clock, performance, s3_server: S3TestServer, s3_bucket: str
):
    order = add_order(make_uow, clock, [(performance, 2)])
    s3_server.stop()

    with pytest.raises(errors.DependencyUnavailable):
        tickets.generate_pdf(order.id)

    assert order_of(make_uow, order).tickets_pdf is None
    assert tickets_mails(make_uow) == []

    s3_server.start()
    if not s3_server.keeps_objects_across_restart:
        s3_server.create_bucket(s3_bucket)  # moto starts empty

    recorded = tickets.generate_pdf(order.id)

    assert recorded is not None
    assert order_of(make_uow, order).tickets_pdf == recorded
    assert bucket_keys(s3_server, s3_bucket) == [recorded.key]
    [mail] = tickets_mails(make_uow)
    assert mail.data["order_id"] == str(order.id)
    response = fetch(tickets.download(order.secret).url or "")
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 2

    assert tickets.generate_pdf(order.id) == recorded  # and the job's next delivery: no-op
    assert len(tickets_mails(make_uow)) == 1


def test_resending_makes_the_next_file_and_removes_the_previous(
    tickets, make_uow, clock, performance, s3_server, s3_bucket
):
    order = add_order(make_uow, clock, [(performance, 2)])
    tickets.generate_pdf(order.id)

    again = tickets.regenerate(order.id)

    assert again.key == f"orders/{order.id}/tickets-2.pdf"
    assert bucket_keys(s3_server, s3_bucket) == [again.key]
    assert order_of(make_uow, order).tickets_pdf == again
    assert len(tickets_mails(make_uow)) == 2
    assert fetch(tickets.download(order.secret).url or "").content.startswith(b"%PDF-")


def test_an_unpaid_order_gets_no_pdf(tickets, make_uow, clock, performance, s3_server, s3_bucket):
    order = add_order(make_uow, clock, [(performance, 2)], paid=False)

    assert tickets.generate_pdf(order.id) is None

    assert bucket_keys(s3_server, s3_bucket) == []
    with pytest.raises(errors.TicketsUnavailable):
        tickets.download(order.secret)


def test_with_local_files_the_app_streams_the_pdf(make_uow, clock, performance, tmp_path: Path):
    storage = LocalStorage(tmp_path / "storage")
    tickets = Tickets(make_uow, clock, ReportlabTicketRenderer(), storage, LINKS)
    order = add_order(make_uow, clock, [(performance, 2)])
    recorded = tickets.generate_pdf(order.id)
    assert recorded is not None

    download = tickets.download(order.secret)

    assert download.url is None
    assert download.data is not None
    assert download.content_type == "application/pdf"
    assert len(download.data) == recorded.size
    assert len(PdfReader(io.BytesIO(download.data)).pages) == 2
