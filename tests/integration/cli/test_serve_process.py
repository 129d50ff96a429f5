"""`mierloos serve` as a real process on the embedded default: it sells, and its worker delivers."""

from __future__ import annotations

import email
import email.policy
import io
import re
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from mierloos_adapters.local_storage import LocalStorage
from tests.integration.cli.processes import (
    MierloosProcess,
    buy_one_ticket,
    command_env,
    free_port,
    order_id,
    wait_for,
)

pytestmark = pytest.mark.slow

BUYER = "koper@example.nl"
# A stop asked for with SIGTERM (or Ctrl-C) is a clean stop: exit 0, not 143.
STOPPED = (0,)


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator:
    started: list[MierloosProcess] = []

    def start(var_dir: Path, *options: str) -> tuple[MierloosProcess, str]:
        port = free_port()
        process = MierloosProcess(
            ["serve", "--port", str(port), *options],
            command_env(
                MIERLOOS_VAR_DIR=str(var_dir),
                ORPHANED_ORDER_CLEANUP_PERIOD="0",
                REFUND_FOLLOW_UP_PERIOD="0",
            ),
            tmp_path / f"serve-{len(started)}.log",
            cwd=tmp_path,
        )
        started.append(process)
        base_url = f"http://127.0.0.1:{port}"
        process.wait_answering(base_url + "/health")
        return process, base_url

    yield start
    for process in started:
        process.close()


def tickets_mail(outbox: Path) -> email.message.EmailMessage | None:
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if BUYER in str(message["To"]) and str(message["Subject"]).startswith("Je kaarten"):
            return message  # type: ignore[return-value]
    return None


def test_serve_sells_a_ticket_and_its_embedded_worker_stores_the_pdf_and_writes_the_mail(
    tmp_path, start_serve
):
    var_dir = tmp_path / "var"
    serve, base_url = start_serve(var_dir)

    order_page = buy_one_ticket(base_url, BUYER)

    key = f"orders/{order_id(var_dir, BUYER)}/tickets-1.pdf"
    storage = LocalStorage(var_dir / "storage")
    wait_for(lambda: storage.exists(key), 15)
    assert len(PdfReader(io.BytesIO(storage.get(key))).pages) == 1
    mail = wait_for(lambda: tickets_mail(var_dir / "outbox"), 15)
    assert order_page.split("/")[-1] in mail.get_body(("plain",)).get_content()
    [attached] = mail.iter_attachments()
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename().startswith("kaarten-")
    assert attached.get_content() == storage.get(key)
    metrics = httpx.get(base_url + "/metrics").text
    assert re.search(r'mierloos_jobs_total\{outcome="ok",type="pdf_generation"\} 1\.0', metrics)
    assert re.search(
        r'mierloos_jobs_stored\{status="completed",type="pdf_generation"\} 1\.0', metrics
    )
    output = serve.log()
    assert f"Ons Mierloos Theater is open at {base_url}" in output
    assert "worker: in this process" in output

    assert serve.terminate() in STOPPED
    assert "embedded worker stopped" in serve.log()
    assert "Application shutdown complete" in serve.log()


def test_the_first_start_creates_a_staff_login_printed_once_and_kept_private(tmp_path, start_serve):
    var_dir = tmp_path / "var"
    first, _ = start_serve(var_dir, "--no-worker")
    login_file = var_dir / "staff-login.txt"
    password = re.search(r"wachtwoord: (\S+)", login_file.read_text())
    assert password is not None
    assert f"kassa@ons-mierloos-theater.nl / {password.group(1)}" in first.log()
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600
    assert first.terminate() in STOPPED

    again, base_url = start_serve(var_dir, "--no-worker")

    assert password.group(1) not in again.log()
    assert f"password in {login_file}" in again.log()
    with httpx.Client(base_url=base_url) as browser:
        form = browser.get("/account/inloggen")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        answer = browser.post(
            "/account/inloggen",
            data={
                "csrf_token": token.group(1),
                "email": "kassa@ons-mierloos-theater.nl",
                "password": password.group(1),
            },
        )
    assert answer.status_code == 303


def test_without_a_worker_the_payment_jobs_wait_in_the_table(tmp_path, start_serve):
    var_dir = tmp_path / "var"
    serve, base_url = start_serve(var_dir, "--no-worker")

    buy_one_ticket(base_url, BUYER)

    assert "worker: separate" in serve.log()
    metrics = httpx.get(base_url + "/metrics").text
    assert re.search(
        r'mierloos_jobs_stored\{status="pending",type="payment_webhook"\} 1\.0', metrics
    )
    assert not LocalStorage(var_dir / "storage").exists(
        f"orders/{order_id(var_dir, BUYER)}/tickets-1.pdf"
    )


def test_ctrl_c_stops_serve_with_exit_0(tmp_path, start_serve):
    serve, _ = start_serve(tmp_path / "var", "--no-demo")
    serve.process.send_signal(signal.SIGINT)
    assert serve.process.wait(20) == 0


def test_serve_on_a_port_in_use_is_one_line_and_exit_1(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mierloos_entrypoints.cli",
                "serve",
                "--no-demo",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            env=command_env(MIERLOOS_VAR_DIR=str(tmp_path / "var")),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1, done.stderr
    assert f"127.0.0.1:{port}" in errors[0]
    assert "Traceback" not in done.stdout + done.stderr


def test_the_access_log_never_holds_an_order_secret(tmp_path, start_serve):
    serve, base_url = start_serve(tmp_path / "var", "--no-worker")
    order_page = buy_one_ticket(base_url, BUYER)
    secret = order_page.rstrip("/").split("/")[-1]
    httpx.get(order_page)
    httpx.get(f"{order_page}/kaarten.pdf")
    httpx.get(f"{base_url}/api/orders/{secret}")
    httpx.get(f"{base_url}/account/inloggen", params={"next": f"/bestelling/{secret}"})

    wait_for(lambda: "/api/orders/[verborgen]" in serve.log(), 10)
    log = serve.log()
    assert secret not in log
    assert "/bestelling/[verborgen]/kaarten.pdf" in log


def test_the_embedded_database_and_outbox_are_private(tmp_path, start_serve):
    var_dir = tmp_path / "var"
    _serve, base_url = start_serve(var_dir)
    buy_one_ticket(base_url, BUYER)
    wait_for(lambda: list((var_dir / "outbox").glob("*.eml")) or None, 20)

    assert stat.S_IMODE((var_dir / "mierloos.db").stat().st_mode) == 0o600
    for mail in (var_dir / "outbox").glob("*.eml"):
        assert stat.S_IMODE(mail.stat().st_mode) == 0o600
