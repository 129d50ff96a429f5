"""Fixtures for the mail tests: real SMTP servers (aiosmtpd) on 127.0.0.1.

`smtp_server` is a plain server without TLS or AUTH; `smtp_server_factory` makes servers with
STARTTLS, implicit TLS and AUTH, using a self-signed certificate made for the test session;
`silent_port` accepts connections and never answers, like a hung server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from .smtp_test_server import (
    HOST,
    ServerSecurity,
    SmtpServerFactory,
    SmtpTestServer,
    TlsFiles,
    free_port,
    make_self_signed,
)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    pytest.importorskip("cryptography", reason="makes the self-signed certificate")
    return make_self_signed(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp_server_factory(request: pytest.FixtureRequest) -> Iterator[SmtpServerFactory]:
    """Make and start servers: ``factory(security="starttls", users={"kassa": "geheim"})``."""
    servers: list[SmtpTestServer] = []

    def make(
        *, security: ServerSecurity = "none", users: dict[str, str] | None = None
    ) -> SmtpTestServer:
        files = request.getfixturevalue("tls_files") if security != "none" else None
        server = SmtpTestServer(free_port(), security=security, users=users, tls_files=files)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: SmtpServerFactory) -> SmtpTestServer:
    """A plain SMTP server: no TLS, no AUTH."""
    return smtp_server_factory()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections but never says a word: a hung mail server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((HOST, 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])
