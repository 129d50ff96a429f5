"""The SMTP mailer makes its TLS context once, and never for a relay without TLS."""

from __future__ import annotations

import ssl

import pytest

from mierloos_adapters import smtp
from mierloos_adapters.smtp import SmtpMailer
from mierloos_core.model.mail import OutgoingEmail

from .smtp_test_server import SmtpServerFactory, TlsFiles

SENDER = "Ons Mierloos Theater <kaarten@theater.example>"
MAIL = OutgoingEmail(to="anna@example.nl", subject="Je kaarten", text="Tot straks.\n")


@pytest.fixture
def contexts_made(monkeypatch: pytest.MonkeyPatch, tls_files: TlsFiles) -> list[ssl.SSLContext]:
    """Every TLS context the mailer makes (each trusts the test server's certificate)."""
    made: list[ssl.SSLContext] = []
    original = ssl.create_default_context

    def make(*args: object, **kwargs: object) -> ssl.SSLContext:
        if args or kwargs:  # the test server's side, not the mailer's
            return original(*args, **kwargs)  # type: ignore[arg-type]
        made.append(tls_files.client_context())
        return made[-1]

    monkeypatch.setattr(smtp.ssl, "create_default_context", make)
    return made


def test_a_relay_without_tls_costs_no_tls_context(
    smtp_server_factory: SmtpServerFactory, contexts_made: list[ssl.SSLContext]
) -> None:
    server = smtp_server_factory(security="none")
    mailer = SmtpMailer(server.host, server.port, sender=SENDER, security="none")

    mailer.send(MAIL)
    mailer.send(MAIL)

    assert len(server.messages()) == 2
    assert contexts_made == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_every_mail_over_tls_uses_the_one_context(
    smtp_server_factory: SmtpServerFactory, contexts_made: list[ssl.SSLContext], security: str
) -> None:
    server = smtp_server_factory(security=security)
    mailer = SmtpMailer(server.host, server.port, sender=SENDER, security=security)  # type: ignore[arg-type]

    for _ in range(3):
        mailer.send(MAIL)

    received = server.messages()
    assert [m.tls for m in received] == [True, True, True]
    assert len(contexts_made) == 1
