"""Find or start a real PostgreSQL server for the tests, never silently doing without one.

In order: MIERLOOS_TEST_DATABASE_URL; a container through testcontainers when a Docker engine
answers; a server already listening on 127.0.0.1:5432; a throwaway cluster made with initdb.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator

import psycopg


def _can_connect(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCluster:
    """A throwaway PostgreSQL cluster made with initdb, which a test may stop and start again.

    `stop()` and `start()` keep the port and the data, so clients see a real server restart.
    """

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise RuntimeError(
                "no initdb found: install PostgreSQL or set MIERLOOS_TEST_DATABASE_URL"
            )
        self.bindir = os.path.dirname(binaries[-1])
        self.data = tempfile.mkdtemp(prefix="mierloos-pg-")
        self.port = _free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(self.data, "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self._pg("initdb", "-D", self.data, "-U", "postgres", "-A", "trust")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, f"{self.bindir}/{tool}", *args], check=True, capture_output=True
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", self.data, "-w", "-l", f"{self.data}/log", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", self.data, "-w", "-m", mode, "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.data, ignore_errors=True)


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started PrivateCluster, removed afterwards."""
    cluster = PrivateCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """An admin URL to a PostgreSQL server that lives at least as long as the context."""
    configured = os.environ.get("MIERLOOS_TEST_DATABASE_URL")
    if configured:
        if not _can_connect(configured):
            raise RuntimeError("MIERLOOS_TEST_DATABASE_URL is set but the server does not answer")
        yield configured
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as container:
            yield container.get_connection_url()
        return
    local = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if _can_connect(local):
        yield local
        return
    with private_cluster() as cluster:
        yield cluster.url


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server, dropped afterwards."""
    name = f"mierloos_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
