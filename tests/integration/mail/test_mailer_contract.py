"""The Mailer contract, run against the memory fake, the .eml outbox and SMTP to a real server.

Then what only SMTP has: servers that are down, hang, defer (4xx) or refuse (5xx), TLS and AUTH.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest

from mierloos_adapters.email_templates import EXAMPLE_CONTEXT, TEMPLATE_CONTEXT, JinjaEmailTemplates
from mierloos_adapters.file_mailer import FileMailer
from mierloos_adapters.memory import MemoryMailer
from mierloos_adapters.smtp import SmtpMailer
from mierloos_core.errors import DependencyUnavailable, PermanentFailure
from mierloos_core.model.mail import Attachment, OutgoingEmail
from mierloos_core.ports import Mailer

from .smtp_test_server import SmtpServerFactory, SmtpTestServer, TlsFiles

SENDER = "Ons Mierloos Theater <kaarten@theater.example>"
RECIPIENT = "anna@example.nl"

LINK_KEY = {
    "order_received": "order_url",
    "payment_link": "payment_url",
    "payment_required": "order_url",
    "order_confirmed": "order_url",
    "tickets_ready": "download_url",
    "order_cancelled": "order_url",
    "order_refunded": "order_url",
    "payment_reversed": "admin_url",
    "password_reset": "reset_url",
    "account_created": "login_url",
    "waitlist_joined": "waitlist_url",
    "waitlist_offer": "offer_url",
    "phone_booking": "order_url",
    "waitlist_cancelled": "agenda_url",
}

MAIL = OutgoingEmail(
    to=RECIPIENT, subject="Je kaarten", text="Tot ziens!\n", html="<p>Tot ziens!</p>"
)


RESET_TOKEN = "tK9-Zq2rW8xYv4LmN0pQsT6uVb3cDe5fGh7jK1nM2o"
RESET_URL = f"https://kaarten.theater.example/wachtwoord/nieuw?token={RESET_TOKEN}&lang=nl"


@attrs.frozen
class Delivered:
    """What a recipient would see, whichever way the e-mail travelled."""

    to: str
    subject: str
    text: str
    html: str | None
    message_id: str | None
    attachments: tuple[Attachment, ...] = ()


@attrs.frozen
class MailerUnderTest:
    name: str
    mailer: Mailer
    delivered: Callable[[], list[Delivered]]


def from_mime(message: EmailMessage) -> Delivered:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(text_part, EmailMessage)

    def content(part: EmailMessage) -> str:
        # On the wire and in .eml files lines end in CRLF; compare the text itself.
        return str(part.get_content()).replace("\r\n", "\n")

    return Delivered(
        to=str(message["To"]),
        subject=str(message["Subject"]),
        text=content(text_part),
        html=content(html_part) if isinstance(html_part, EmailMessage) else None,
        message_id=str(message["Message-ID"]),
        attachments=tuple(
            Attachment(
                filename=str(part.get_filename()),
                content_type=part.get_content_type(),
                data=part.get_payload(decode=True),
            )
            for part in message.iter_attachments()
            if isinstance(part, EmailMessage)
        ),
    )


def read_outbox(outbox: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


@pytest.fixture(params=["memory", "file", "smtp"])
def mailer_under_test(request: pytest.FixtureRequest, tmp_path: Path) -> MailerUnderTest:
    if request.param == "memory":
        memory = MemoryMailer()
        return MailerUnderTest(
            "memory",
            memory,
            lambda: [
                Delivered(m.to, m.subject, m.text, m.html, m.message_id, m.attachments)
                for m in memory.sent
            ],
        )
    if request.param == "file":
        outbox = tmp_path / "outbox"
        return MailerUnderTest(
            "file",
            FileMailer(outbox, sender=SENDER),
            lambda: [from_mime(m) for m in read_outbox(outbox)],
        )
    server: SmtpTestServer = request.getfixturevalue("smtp_server")
    mailer = SmtpMailer(server.host, server.port, sender=SENDER, security="none", timeout=5.0)
    return MailerUnderTest(
        "smtp", mailer, lambda: [from_mime(m.message) for m in server.messages()]
    )


@pytest.fixture(scope="module")
def templates() -> JinjaEmailTemplates:
    return JinjaEmailTemplates(base_url="https://kaarten.theater.example")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def hrefs(document: str) -> list[str]:
    parser = _Links()
    parser.feed(document)
    return parser.hrefs


# --- the contract: the same assertions for every mailer ---------------------------------------


@pytest.mark.parametrize("template", sorted(TEMPLATE_CONTEXT))
def test_rendered_email_arrives_with_recipient_subject_parts_and_link(
    mailer_under_test: MailerUnderTest, templates: JinjaEmailTemplates, template: str
) -> None:
    context = dict(EXAMPLE_CONTEXT[template])
    if template == "password_reset":
        context["reset_url"] = RESET_URL  # long, with & and a query: must survive intact
    email = templates.render(template, to=RECIPIENT, context=context)

    mailer_under_test.mailer.send(email)

    [delivered] = mailer_under_test.delivered()
    link = context[LINK_KEY[template]]
    assert delivered.to == RECIPIENT
    assert delivered.subject == email.subject
    assert delivered.text == email.text
    assert delivered.html == email.html
    assert link in delivered.text.splitlines()
    assert delivered.html is not None
    assert link in hrefs(delivered.html)


def test_english_email_arrives_in_english(
    mailer_under_test: MailerUnderTest, templates: JinjaEmailTemplates
) -> None:
    email = templates.render(
        "tickets_ready", to=RECIPIENT, context=EXAMPLE_CONTEXT["tickets_ready"], locale="en"
    )
    mailer_under_test.mailer.send(email)

    [delivered] = mailer_under_test.delivered()
    assert delivered.subject == "Your tickets for order OMT-2026-0042"
    assert "Download them here (PDF):" in delivered.text


def test_non_ascii_subject_and_body_survive(mailer_under_test: MailerUnderTest) -> None:
    email = OutgoingEmail(
        to=RECIPIENT,
        subject="Première van Café Één: € 12,50 — déjà vu",
        text="Één kaart voor de première à € 12,50.\nCafé open vanaf 19:00 — tot ziens!\n",
        html="<p>Één kaart voor de <em>première</em> à € 12,50.</p>\n",
    )
    mailer_under_test.mailer.send(email)

    [delivered] = mailer_under_test.delivered()
    assert delivered.subject == email.subject
    assert delivered.text == email.text
    assert delivered.html == email.html


def test_text_only_email_arrives_without_html(mailer_under_test: MailerUnderTest) -> None:
    email = OutgoingEmail(to=RECIPIENT, subject="Alleen tekst", text="Geen HTML hier.\n")
    mailer_under_test.mailer.send(email)

    [delivered] = mailer_under_test.delivered()
    assert delivered.text == "Geen HTML hier.\n"
    assert delivered.html is None


# Every byte value, CR and LF on their own and together, a line far longer than SMTP allows, and
# no trailing newline: what a PDF's compressed streams look like to a transport.
BINARY = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\r\n\r.\r\n" + b"x" * 5000 + b"\n%%EOF\r"


def test_attachments_arrive_intact_beside_text_and_html(
    mailer_under_test: MailerUnderTest, templates: JinjaEmailTemplates
) -> None:
    email = attrs.evolve(
        templates.render(
            "tickets_ready",
            to=RECIPIENT,
            context={**EXAMPLE_CONTEXT["tickets_ready"], "attached": True},
        ),
        attachments=(
            Attachment(
                filename="kaarten-OMT-2026-0042.pdf", content_type="application/pdf", data=BINARY
            ),
            Attachment(
                filename="zaalplan.txt", content_type="text/plain", data="Zaal één\n".encode()
            ),
        ),
    )

    mailer_under_test.mailer.send(email)

    [delivered] = mailer_under_test.delivered()
    assert delivered.attachments == email.attachments
    assert delivered.text == email.text
    assert delivered.html == email.html
    assert "bijlage" in delivered.text
    assert EXAMPLE_CONTEXT["tickets_ready"]["download_url"] in delivered.text.splitlines()


def test_an_email_without_attachments_has_none(mailer_under_test: MailerUnderTest) -> None:
    mailer_under_test.mailer.send(MAIL)

    [delivered] = mailer_under_test.delivered()
    assert delivered.attachments == ()


def test_given_message_id_is_kept_on_every_send(mailer_under_test: MailerUnderTest) -> None:
    email = OutgoingEmail(
        to=RECIPIENT,
        subject="Herhaald",
        text="Tweemaal.\n",
        message_id="job-5f1c2a@theater.example",
    )
    mailer_under_test.mailer.send(email)
    mailer_under_test.mailer.send(email)

    first, second = mailer_under_test.delivered()
    assert first.message_id is not None
    assert "job-5f1c2a@theater.example" in first.message_id
    assert second.message_id == first.message_id


# --- MIME details shared by the file and SMTP mailers -----------------------------------------


def test_wire_message_is_multipart_alternative_with_headers_and_7bit_clean(
    smtp_server: SmtpTestServer, templates: JinjaEmailTemplates
) -> None:
    email = templates.render(
        "password_reset", to=RECIPIENT, context={"name": "Zoë", "reset_url": RESET_URL}
    )
    SmtpMailer(smtp_server.host, smtp_server.port, sender=SENDER, security="none").send(email)

    [received] = smtp_server.messages()
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    assert str(message["From"]) == SENDER
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@theater.example>")
    assert received.mail_from == "kaarten@theater.example"
    assert received.rcpt_tos == [RECIPIENT]
    received.raw.decode("ascii")  # no 8-bit bytes: any relay can carry it


def test_wire_message_with_an_attachment_is_mixed_base64_and_7bit_clean(
    smtp_server: SmtpTestServer,
) -> None:
    pdf = Attachment(
        filename="kaarten-OMT-2026-0042.pdf", content_type="application/pdf", data=BINARY
    )
    email = attrs.evolve(MAIL, attachments=(pdf,))
    SmtpMailer(smtp_server.host, smtp_server.port, sender=SENDER, security="none").send(email)

    [received] = smtp_server.messages()
    message = received.message
    assert message.get_content_type() == "multipart/mixed"
    body, attached = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert attached.get_content_disposition() == "attachment"
    assert attached["Content-Transfer-Encoding"] == "base64"
    assert attached.get_filename() == "kaarten-OMT-2026-0042.pdf"
    received.raw.decode("ascii")


def test_message_ids_without_a_given_id_are_unique(smtp_server: SmtpTestServer) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, sender=SENDER, security="none")
    email = OutgoingEmail(to=RECIPIENT, subject="Twee keer", text="x\n")
    mailer.send(email)
    mailer.send(email)

    first, second = (m.message["Message-ID"] for m in smtp_server.messages())
    assert first != second


# --- SMTP: failures ----------------------------------------------------------------------------


def plain_mailer(server: SmtpTestServer, *, timeout: float = 10.0) -> SmtpMailer:
    return SmtpMailer(server.host, server.port, sender=SENDER, security="none", timeout=timeout)


def test_server_down_is_unavailable_at_once_then_delivery_works_after_restart(
    smtp_server: SmtpTestServer,
) -> None:
    mailer = plain_mailer(smtp_server, timeout=5.0)
    smtp_server.stop()

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        mailer.send(MAIL)
    assert time.monotonic() - started < 1.0

    smtp_server.start()
    mailer.send(MAIL)
    assert [m.message["Subject"] for m in smtp_server.messages()] == ["Je kaarten"]


def test_hung_server_times_out_as_unavailable(silent_port: int) -> None:
    mailer = SmtpMailer("127.0.0.1", silent_port, sender=SENDER, security="none", timeout=0.5)

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        mailer.send(MAIL)
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("stage", ["refuse_recipients", "refuse_data"])
def test_temporary_refusal_451_is_unavailable_and_retry_succeeds(
    smtp_server: SmtpTestServer, stage: str
) -> None:
    mailer = plain_mailer(smtp_server)
    setattr(smtp_server, stage, "451 4.3.0 Mailbox temporarily unavailable, try again later")

    with pytest.raises(DependencyUnavailable) as caught:
        mailer.send(MAIL)
    assert caught.value.details["smtp_code"] == 451
    assert smtp_server.messages() == []

    setattr(smtp_server, stage, None)
    mailer.send(MAIL)
    assert len(smtp_server.messages()) == 1


@pytest.mark.parametrize(
    ("stage", "reply", "code"),
    [
        ("refuse_recipients", "550 5.1.1 No such user here", 550),
        ("refuse_data", "554 5.7.1 Message rejected as spam", 554),
    ],
)
def test_permanent_refusal_5xx_is_a_permanent_failure(
    smtp_server: SmtpTestServer, stage: str, reply: str, code: int
) -> None:
    setattr(smtp_server, stage, reply)

    with pytest.raises(PermanentFailure) as caught:
        plain_mailer(smtp_server).send(MAIL)
    assert caught.value.details["smtp_code"] == code
    assert smtp_server.messages() == []


# --- SMTP: TLS and AUTH ------------------------------------------------------------------------


USERS = {"kassa": "geheim-wachtwoord"}


def test_plain_connection_with_auth_logs_in_and_delivers(
    smtp_server_factory: SmtpServerFactory,
) -> None:
    server = smtp_server_factory(users=USERS)
    mailer = SmtpMailer(
        server.host, server.port, "kassa", "geheim-wachtwoord", sender=SENDER, security="none"
    )
    mailer.send(MAIL)

    [received] = server.messages()
    assert received.login == "kassa"
    assert received.tls is False


def test_starttls_with_auth_encrypts_logs_in_and_delivers(
    smtp_server_factory: SmtpServerFactory, tls_files: TlsFiles
) -> None:
    server = smtp_server_factory(security="starttls", users=USERS)
    mailer = SmtpMailer(
        server.host,
        server.port,
        "kassa",
        "geheim-wachtwoord",
        sender=SENDER,
        security="starttls",
        ssl_context=tls_files.client_context(),
    )
    mailer.send(MAIL)

    [received] = server.messages()
    assert received.login == "kassa"
    assert received.tls is True
    assert received.message["Subject"] == "Je kaarten"


def test_implicit_tls_with_auth_encrypts_logs_in_and_delivers(
    smtp_server_factory: SmtpServerFactory, tls_files: TlsFiles
) -> None:
    server = smtp_server_factory(security="tls", users=USERS)
    mailer = SmtpMailer(
        server.host,
        server.port,
        "kassa",
        "geheim-wachtwoord",
        sender=SENDER,
        security="tls",
        ssl_context=tls_files.client_context(),
    )
    mailer.send(MAIL)

    [received] = server.messages()
    assert received.login == "kassa"
    assert received.tls is True


def test_wrong_password_is_a_permanent_failure(
    smtp_server_factory: SmtpServerFactory, tls_files: TlsFiles
) -> None:
    server = smtp_server_factory(security="starttls", users=USERS)
    mailer = SmtpMailer(
        server.host,
        server.port,
        "kassa",
        "fout",
        sender=SENDER,
        security="starttls",
        ssl_context=tls_files.client_context(),
    )
    with pytest.raises(PermanentFailure) as caught:
        mailer.send(MAIL)
    assert caught.value.details["smtp_code"] == 535
    assert server.messages() == []


def test_untrusted_certificate_is_refused_permanently(
    smtp_server_factory: SmtpServerFactory,
) -> None:
    server = smtp_server_factory(security="starttls")
    # The default context trusts the system's authorities, not our self-signed certificate.
    mailer = SmtpMailer(server.host, server.port, sender=SENDER, security="starttls")

    with pytest.raises(PermanentFailure) as caught:
        mailer.send(MAIL)
    assert caught.value.details["reason"] == "certificate not trusted"
    assert server.messages() == []


def test_starttls_demanded_from_a_server_without_it_is_a_permanent_failure(
    smtp_server: SmtpTestServer,
) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, sender=SENDER, security="starttls")

    with pytest.raises(PermanentFailure) as caught:
        mailer.send(MAIL)
    assert caught.value.details["reason"] == "server lacks a required extension"
    assert smtp_server.messages() == []


# --- SMTP: logs never carry the reset link -----------------------------------------------------


@pytest.fixture
def reset_email(templates: JinjaEmailTemplates) -> OutgoingEmail:
    return templates.render(
        "password_reset", to=RECIPIENT, context={"name": "Anna", "reset_url": RESET_URL}
    )


def our_records(caplog: pytest.LogCaptureFixture) -> Iterator[logging.LogRecord]:
    """Every record except the test server's own (aiosmtpd logs DATA lines at DEBUG)."""
    return (r for r in caplog.records if not r.name.startswith("mail.log"))


def assert_no_token(records: Iterator[logging.LogRecord]) -> int:
    count = 0
    for record in records:
        count += 1
        rendered = record.getMessage() + repr(vars(record))
        assert RESET_TOKEN not in rendered, record.name
    return count


def test_no_log_record_contains_the_reset_token(
    smtp_server: SmtpTestServer,
    reset_email: OutgoingEmail,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    mailer = plain_mailer(smtp_server)

    mailer.send(reset_email)
    smtp_server.refuse_recipients = "550 5.1.1 No such user here"
    with pytest.raises(PermanentFailure):
        mailer.send(reset_email)
    smtp_server.refuse_recipients = "451 4.3.0 Try again later"
    with pytest.raises(DependencyUnavailable):
        mailer.send(reset_email)
    smtp_server.stop()
    with pytest.raises(DependencyUnavailable):
        mailer.send(reset_email)
    FileMailer(tmp_path / "outbox").send(reset_email)

    # The token did travel (so the check below is not vacuous), just never into a log.
    assert RESET_TOKEN in from_mime(smtp_server.messages()[0].message).text
    logged = [r for r in our_records(caplog) if r.name.startswith("mierloos_adapters")]
    assert len(logged) >= 5  # sent, refused, deferred, down, written: the logging is there
    assert assert_no_token(our_records(caplog)) >= len(logged)
