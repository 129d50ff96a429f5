"""Find or start a real PostgreSQL server for the tests, never silently doing without one.

In order: MIERLOOS_TEST_DATABASE_URL; a server already listening on 127.0.0.1:5432 (another
address with MIERLOOS_TEST_POSTGRES_PROBE=host:port, none with `off`); a container through
testcontainers when a Docker engine answers; a throwaway cluster made with an installed
`initdb` (on PATH or Debian's /usr/lib/postgresql/*/bin; MIERLOOS_TEST_INITDB_GLOB changes
that glob, empty for PATH only); a throwaway cluster made with the binaries that the `pgserver`
wheel ships. The last needs nothing but pip.

Under pytest-xdist each worker process finds or starts its own: a throwaway cluster has its own
temporary directory and a port the OS picked, and the one-time preparation that the workers share
(a system user, the wheel's permissions) happens under a lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import importlib
import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

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


def _installed_bindir() -> str | None:
    on_path = shutil.which("initdb")
    if on_path:
        return os.path.dirname(on_path)
    pattern = os.environ.get("MIERLOOS_TEST_INITDB_GLOB", "/usr/lib/postgresql/*/bin/initdb")
    found = sorted(glob.glob(pattern)) if pattern else []
    return os.path.dirname(found[-1]) if found else None


def _wheel_bindir() -> str:
    # located, not imported: importing pgserver sets up its own server bookkeeping
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no PostgreSQL found: set MIERLOOS_TEST_DATABASE_URL, start a server on "
            "127.0.0.1:5432, install PostgreSQL, or pip install pgserver"
        )
    return os.path.join(spec.submodule_search_locations[0], "pginstall", "bin")


def _pgserver_utils() -> ModuleType:
    with warnings.catch_warnings():  # it warns when XDG_RUNTIME_DIR is unset, as under CI
        warnings.simplefilter("ignore")
        return importlib.import_module("pgserver.utils")


@contextlib.contextmanager
def _machine_lock(name: str) -> Iterator[None]:
    """Held by one process of the machine at a time: for the parallel test workers' setup."""
    path = os.path.join(tempfile.gettempdir(), f"mierloos-tests-{name}.lock")
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _server_user(bindir: str) -> list[str]:
    """The prefix that runs a PostgreSQL program: as root, another user, since the server
    refuses to run as root (`postgres` where the system has it, else a `pgserver` user made
    the way the pgserver package makes it)."""
    if os.geteuid() != 0:
        return []
    with _machine_lock("server-user"):  # two workers must not both add the user
        return _prepared_server_user(bindir)


def _prepared_server_user(bindir: str) -> list[str]:
    import pwd

    try:
        user = pwd.getpwnam("postgres").pw_name
    except KeyError:
        user = _pgserver_utils().ensure_user_exists("pgserver").pw_name
    as_user = ["runuser", "-u", user, "--"]
    if subprocess.run([*as_user, f"{bindir}/initdb", "--version"], capture_output=True).returncode:
        # a wheel under a private folder (a root home, say): let that user reach the binaries
        utils = _pgserver_utils()
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        utils.ensure_prefix_permissions(Path(bindir))
        utils.ensure_folder_permissions(Path(bindir), readable)
        utils.ensure_folder_permissions(Path(bindir).parent / "lib", readable)
    return as_user


class PrivateCluster:
    """A throwaway PostgreSQL cluster made with initdb, which a test may stop and start again.

    The binaries are an installed PostgreSQL's, else the `pgserver` wheel's. `stop()` and
    `start()` keep the port and the data, so clients see a real server restart.
    """

    def __init__(self) -> None:
        self.bindir = _installed_bindir() or _wheel_bindir()
        self.data = tempfile.mkdtemp(prefix="mierloos-pg-")
        self.port = _free_port()
        self.as_postgres = _server_user(self.bindir)
        if self.as_postgres:
            shutil.chown(self.data, self.as_postgres[2])
        self._pg("initdb", "-D", self.data, "-U", "postgres", "-A", "trust")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._started_once = False

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, f"{self.bindir}/{tool}", *args], check=True, capture_output=True
        )

    def start(self) -> None:
        if not self._started_once:
            self._first_start()
            return
        self._start()

    def _first_start(self) -> None:
        """Start on the chosen port, or on another if something took it since (a parallel
        worker's server, say): the port only stays fixed across later restarts."""
        for attempt in range(3):
            try:
                self._start()
                break
            except subprocess.CalledProcessError:
                if attempt == 2 or "could not bind" not in self._log():
                    raise
                self.port = _free_port()
                self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._started_once = True

    def _log(self) -> str:
        with contextlib.suppress(OSError):
            return Path(self.data, "log").read_text(errors="replace")
        return ""

    def _start(self) -> None:
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
    probe = os.environ.get("MIERLOOS_TEST_POSTGRES_PROBE", "127.0.0.1:5432")
    local = f"postgresql+psycopg://postgres@{probe}/postgres"
    if probe != "off" and _can_connect(local):
        yield local
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as container:
            yield container.get_connection_url()
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
