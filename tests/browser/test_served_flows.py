"""A real browser against a real `mierloos serve` process, its worker inside, mail over SMTP.

These are the flows that need the background jobs: the PDF a visitor downloads, the reset
link that arrives by e-mail, and a failed job that staff retry from the dashboard.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import screenshot
from tests.integration.cli.processes import MierloosProcess, command_env, free_port, wait_for
from tests.integration.mail.smtp_test_server import ReceivedMail, SmtpTestServer
from tests.integration.mail.smtp_test_server import free_port as free_smtp_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STAFF_EMAIL = "kassa@ons-mierloos-theater.nl"


@dataclass
class ServedSite:
    base_url: str
    var_dir: Path
    mail: SmtpTestServer
    process: MierloosProcess

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def staff_password(self) -> str:
        found = re.search(r"wachtwoord: (\S+)", (self.var_dir / "staff-login.txt").read_text())
        assert found is not None, "serve wrote the demo staff login"
        return found.group(1)

    def mail_to(self, address: str, subject_start: str, timeout: float = 20) -> ReceivedMail:
        def arrived() -> ReceivedMail | None:
            for mail in self.mail.messages():
                subject = str(mail.message["Subject"])
                if address in mail.rcpt_tos and subject.startswith(subject_start):
                    return mail
            return None

        found: ReceivedMail = wait_for(arrived, timeout)
        return found


@pytest.fixture
def served_site(tmp_path: Path) -> Iterator[ServedSite]:
    mail = SmtpTestServer(free_smtp_port())
    mail.start()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    var_dir = tmp_path / "var"
    process = MierloosProcess(
        ["serve", "--port", str(port)],
        command_env(
            MIERLOOS_VAR_DIR=str(var_dir),
            BASE_URL=base_url,
            SMTP_HOST=mail.host,
            SMTP_PORT=str(mail.port),
            SMTP_SECURITY="none",
            SMTP_FROM="Ons Mierloos Theater <kaarten@ons-mierloos-theater.nl>",
            WORKER_POLLING_INTERVAL="0.2",
            ORPHANED_ORDER_CLEANUP_PERIOD="0",
            REFUND_FOLLOW_UP_PERIOD="0",
        ),
        tmp_path / "serve.log",
        cwd=tmp_path,
    )
    try:
        process.wait_answering(base_url + "/health")
        yield ServedSite(base_url=base_url, var_dir=var_dir, mail=mail, process=process)
    finally:
        process.terminate()
        process.close()
        mail.stop()


def _reload_until(page: Page, ready: Callable[[], bool], timeout: float = 20) -> None:
    """What a visitor does when the page says "refresh in a moment"."""

    def check() -> bool:
        if ready():
            return True
        page.reload()
        return False

    wait_for(check, timeout, interval=0.5)


def _log_in(page: Page, site: ServedSite, email: str, password: str) -> None:
    page.goto(site.url("/account/inloggen"))
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def test_a_visitor_buys_two_tickets_and_downloads_the_pdf(
    page: Page, served_site: ServedSite
) -> None:
    page.goto(served_site.url("/"))
    page.get_by_role("link", name="De Gebroeders Mierlo").click()
    first = page.locator("li.performance").first
    first.get_by_label("Aantal kaarten").select_option("2")
    first.get_by_role("button", name="In winkelwagen").click()
    page.get_by_role("link", name="Afrekenen").click()
    page.get_by_label("Naam").fill("Marieke van den Heuvel")
    page.get_by_label("E-mailadres").fill("marieke@example.nl")
    page.get_by_role("button", name="Bestellen en betalen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Testbetaling")
    page.get_by_role("button", name="Betalen").click()

    expect(page.locator(".order-status")).to_contain_text("Betaald")
    download_link = page.get_by_role("link", name="Download je kaarten (pdf)")
    _reload_until(page, lambda: download_link.count() == 1)
    screenshot(page, "visitor-order-paid-tickets-ready")
    with page.expect_download() as downloading:
        download_link.click()
    pdf = Path(downloading.value.path()).read_bytes()

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2, "one page per ticket"
    assert "De Gebroeders Mierlo" in reader.pages[0].extract_text()
    tickets_mail = served_site.mail_to("marieke@example.nl", "Je kaarten")
    order_number = page.get_by_role("heading", level=1).inner_text().split()[-1]
    assert order_number in tickets_mail.message.get_body(("plain",)).get_content()


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    page: Page, served_site: ServedSite
) -> None:
    page.goto(served_site.url("/account/registreren"))
    page.get_by_label("Naam").fill("Sanne de Wit")
    page.get_by_label("E-mailadres").fill("sanne@example.nl")
    page.get_by_label("Wachtwoord", exact=True).fill("oud-wachtwoord-van-sanne")
    page.get_by_label("Wachtwoord herhalen").fill("oud-wachtwoord-van-sanne")
    page.get_by_role("button", name="Account aanmaken").click()
    page.get_by_role("button", name="Uitloggen", exact=True).click()

    page.goto(served_site.url("/account/inloggen"))
    page.get_by_role("link", name=re.compile("Wachtwoord vergeten", re.IGNORECASE)).click()
    page.get_by_label("E-mailadres").fill("sanne@example.nl")
    page.get_by_role("button", name="Stuur mij een link").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    mail = served_site.mail_to("sanne@example.nl", "Stel een nieuw wachtwoord in")
    body = mail.message.get_body(("plain",)).get_content()
    link = re.search(re.escape(served_site.base_url) + r"/account/wachtwoord-herstellen/\S+", body)
    assert link is not None, body
    page.goto(link.group(0))
    page.get_by_label("Wachtwoord", exact=True).fill("nieuw-wachtwoord-van-sanne")
    page.get_by_label("Wachtwoord herhalen").fill("nieuw-wachtwoord-van-sanne")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.get_by_role("button", name="Uitloggen", exact=True)).to_be_visible()
    page.get_by_role("button", name="Uitloggen", exact=True).click()

    _log_in(page, served_site, "sanne@example.nl", "oud-wachtwoord-van-sanne")
    expect(page.get_by_role("alert")).to_contain_text("horen niet bij elkaar")
    _log_in(page, served_site, "sanne@example.nl", "nieuw-wachtwoord-van-sanne")
    expect(page.get_by_role("button", name="Uitloggen", exact=True)).to_be_visible()
    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Nieuw wachtwoord")
    screenshot(page, "password-reset-link-used-once")
    assert "wachtwoord-herstellen/" not in served_site.process.log().replace(
        "/account/wachtwoord-herstellen/[verborgen]", ""
    ), "the reset token never reaches the server's log"


def test_staff_retry_a_failed_job_from_the_dashboard(page: Page, served_site: ServedSite) -> None:
    # The demo staff account's welcome mail goes out at start-up: let it arrive first, so the
    # only job that fails below is the reset mail.
    served_site.mail_to(STAFF_EMAIL, "Welkom bij")
    served_site.mail.refuse_recipients = "550 5.1.1 Mailbox unavailable"
    page.goto(served_site.url("/account/wachtwoord-vergeten"))
    page.get_by_label("E-mailadres").fill(STAFF_EMAIL)
    page.get_by_role("button", name="Stuur mij een link").click()

    _log_in(page, served_site, STAFF_EMAIL, served_site.staff_password())
    page.goto(served_site.url("/beheer/taken?status=failed"))
    failed = page.locator("table.admin tbody tr", has=page.locator("td.job-failed"))
    _reload_until(page, lambda: failed.count() == 1)
    failed.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Taak")
    expect(page.locator("main")).to_contain_text("550")

    served_site.mail.refuse_recipients = None  # the mail server is fixed
    page.get_by_role("button", name="Opnieuw proberen").click()

    served_site.mail_to(STAFF_EMAIL, "Stel een nieuw wachtwoord in")
    page.goto(served_site.url("/beheer/taken"))
    _reload_until(page, lambda: page.locator('dd[data-status="failed"]').inner_text() == "0")
    expect(page.locator('dd[data-status="completed"]')).not_to_have_text("0")
    screenshot(page, "staff-retried-a-failed-job")
