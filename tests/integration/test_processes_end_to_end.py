"""The production shape, end to end: `mierloos serve` and `mierloos worker` as separate processes
on a fresh Postgres database, a real S3 server and a real SMTP server. A visitor buys a ticket
over HTTP and pays on the fake provider's page; the worker stores the tickets PDF in the bucket
and the SMTP server receives the tickets mail for the buyer.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from mierloos_adapters.sqlalchemy import make_engine
from mierloos_adapters.sqlalchemy.tables import orders
from tests.integration.cli.processes import (
    MierloosProcess,
    buy_one_ticket,
    command_env,
    free_port,
    wait_for,
)
from tests.integration.mail.smtp_test_server import ReceivedMail, SmtpTestServer
from tests.integration.mail.smtp_test_server import free_port as free_smtp_port
from tests.integration.storage.storage_support import S3TestServer, start_s3_server
from tests.postgres_server import fresh_database

pytestmark = pytest.mark.slow

BUYER = "e2e-koper@example.nl"
SENDER = "Ons Mierloos Theater <kaarten@example.nl>"


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[tuple[S3TestServer, str]]:
    (tmp_path / "s3").mkdir()
    server = start_s3_server(tmp_path / "s3")
    try:
        yield server, server.create_bucket()
    finally:
        server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer(free_smtp_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with fresh_database(postgres_admin_url) as url:
        yield url


def tickets_mail(smtp: SmtpTestServer) -> ReceivedMail | None:
    for received in smtp.messages():
        subject = str(received.message["Subject"])
        if BUYER in received.rcpt_tos and subject.startswith("Je kaarten"):
            return received
    return None


def test_serve_and_worker_processes_sell_a_ticket_store_its_pdf_and_mail_it(
    tmp_path, database, s3, smtp
):
    s3_server, bucket = s3
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = command_env(
        DATABASE_URL=database,
        SECRET_KEY="e2e-key-Zr8Wq3Lm6Xt1Vb9Kp4Hy7Dn2Cs5Fg0Aj",
        BASE_URL=base_url,
        MIERLOOS_VAR_DIR=str(tmp_path / "var"),  # the fake provider's payments, shared
        MIERLOOS_FAKE_PAYMENTS="1",
        S3_ENDPOINT_URL=s3_server.endpoint_url,
        S3_REGION=s3_server.region,
        R2_ACCESS_KEY_ID=s3_server.access_key,
        R2_SECRET_ACCESS_KEY=s3_server.secret_key,
        R2_BUCKET_NAME=bucket,
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        SMTP_SECURITY="none",
        SMTP_FROM=SENDER,
        WORKER_POLLING_INTERVAL="0.5",
        ORPHANED_ORDER_CLEANUP_PERIOD="0",
        REFUND_FOLLOW_UP_PERIOD="0",
        WORKER_SHUTDOWN_TIMEOUT="10",
    )
    worker_port = free_port()
    # As in production: the release migrates once; serve and worker never do by themselves.
    migrate = subprocess.run(
        [sys.executable, "-m", "mierloos_entrypoints.cli", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    serve = worker = None
    try:
        serve = MierloosProcess(
            ["serve", "--port", str(port), "--demo"], env, tmp_path / "serve.log", tmp_path
        )
        serve.wait_answering(base_url + "/health", timeout=30)
        worker = MierloosProcess(
            ["worker", "--threads", "2", "--port", str(worker_port)],
            {**env, "HEALTH_HOST": "127.0.0.1"},
            tmp_path / "worker.log",
            tmp_path,
        )
        worker.wait_answering(f"http://127.0.0.1:{worker_port}/health", timeout=30)
        assert "worker: separate" in serve.log()

        buy_one_ticket(base_url, BUYER)

        engine = make_engine(database)
        with engine.connect() as connection:
            order_id = connection.execute(
                select(orders.c.id).where(orders.c.email == BUYER)
            ).scalar_one()
        engine.dispose()
        key = f"orders/{order_id}/tickets-1.pdf"
        admin = s3_server.admin_client()

        def stored() -> bytes | None:
            try:
                return bytes(admin.get_object(Bucket=bucket, Key=key)["Body"].read())
            except admin.exceptions.NoSuchKey:
                return None

        pdf = wait_for(stored, timeout=20)
        assert pdf.startswith(b"%PDF-")
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
        wait_for(lambda: tickets_mail(smtp), timeout=20)

        assert worker.terminate() == 0, worker.log()
        assert serve.terminate() in (0, -signal.SIGTERM)
    finally:
        for process in (worker, serve):
            if process is not None:
                process.close()
