"""A real SMTP server (aiosmtpd) running in the test process on 127.0.0.1, with knobs.

Every server records what it received, can refuse (451, 550, ...) on RCPT or DATA, and can be
stopped and started again on the same port to play "the mail server is down". The fixtures
that make them are in this folder's conftest.py.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
SERVER_NAME = "mail.test.local"

ServerSecurity = Literal["none", "starttls", "tls"]


@attrs.frozen
class ReceivedMail:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    login: str | None  # the AUTH user, None without AUTH
    tls: bool  # whether the session was encrypted


@attrs.frozen
class TlsFiles:
    certificate: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate (hostname checked too)."""
        return ssl.create_default_context(cafile=str(self.certificate))


class _Recorder:
    """The aiosmtpd handler: refuses on request, else keeps the message."""

    def __init__(self, server: SmtpTestServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._server.refuse_recipients is not None:
            return self._server.refuse_recipients
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._server.refuse_data is not None:
            return self._server.refuse_data
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._server.lock:
            self._server.received.append(
                ReceivedMail(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    raw=raw,
                    message=message,
                    login=session.auth_data if session.authenticated else None,
                    tls=_encrypted(server),
                )
            )
        return "250 Message accepted for delivery"


def _encrypted(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class SmtpTestServer:
    """An aiosmtpd server with knobs. Set `refuse_recipients` or `refuse_data` to a reply
    such as ``"451 4.3.0 Try again later"`` or ``"550 5.1.1 No such user"``.
    """

    def __init__(
        self,
        port: int,
        *,
        security: ServerSecurity = "none",
        users: dict[str, str] | None = None,
        tls_files: TlsFiles | None = None,
    ) -> None:
        if security != "none" and tls_files is None:
            raise ValueError("TLS needs a certificate")
        self.host = HOST
        self.port = port
        self.security = security
        self.users = dict(users or {})
        self.tls_files = tls_files
        self.refuse_recipients: str | None = None
        self.refuse_data: str | None = None
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def messages(self) -> list[ReceivedMail]:
        with self.lock:
            return list(self.received)

    def start(self) -> None:
        assert self._controller is None, "already running"
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "server_hostname": SERVER_NAME,
            "ready_timeout": 5.0,
        }
        if self.users:
            kwargs["authenticator"] = self._authenticate
            # AUTH is offered, not demanded: tests check who logged in through `login`.
            # With STARTTLS, AUTH only after it; implicit TLS is encrypted from the start.
            kwargs["auth_require_tls"] = self.security == "starttls"
        if self.security == "starttls":
            assert self.tls_files is not None
            kwargs["tls_context"] = self.tls_files.server_context()
            kwargs["require_starttls"] = True
        elif self.security == "tls":
            assert self.tls_files is not None
            kwargs["ssl_context"] = self.tls_files.server_context()
        controller = Controller(_Recorder(self), **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        if self.users.get(login) != auth_data.password.decode():
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def make_self_signed(directory: Path) -> TlsFiles:
    """A certificate for 127.0.0.1 and localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mierloos test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(certificate=directory / "smtp-cert.pem", key=directory / "smtp-key.pem")
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


SmtpServerFactory = Callable[..., SmtpTestServer]
