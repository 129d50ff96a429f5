"""Support for the storage tests: the contract's type, and real S3 servers that a test can stop
and start again.

The S3 server is chosen in this order (see `start_s3_server`):
1. MIERLOOS_TEST_S3_URL (with MIERLOOS_TEST_S3_ACCESS_KEY, MIERLOOS_TEST_S3_SECRET_KEY and
   optionally MIERLOOS_TEST_S3_REGION, default us-east-1): a server someone else runs. The
   tests reach it through a small TCP relay on 127.0.0.1, which is what `stop()` cuts.
2. MinIO in Docker through testcontainers, when both are available. `stop()` stops the
   container; it keeps its data and its host port.
3. moto's standalone server (`python -m moto.server`) as a subprocess on a free port of
   127.0.0.1. `stop()` ends the process; `start()` runs a new one on the same port, which
   starts EMPTY: moto keeps everything in memory, so buckets and objects are lost.
MIERLOOS_TEST_S3_BACKEND=moto|minio forces the choice between 2 and 3;
MIERLOOS_TEST_MINIO_IMAGE picks the MinIO image (default: testcontainers' pinned release).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import ClientError

from mierloos_adapters.s3 import S3Storage
from mierloos_core.ports import ObjectStorage

START_TIMEOUT = 30.0


class ContractStorage(ObjectStorage, Protocol):
    """The port, plus the content type lookup that every adapter under test offers."""

    def content_type(self, key: str) -> str: ...


class S3ServerUnavailable(RuntimeError):
    """No S3 server could be had for the tests."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_http(url: str, *, timeout: float, alive: Any = None) -> None:
    """Wait until `url` answers anything over HTTP; `alive()` False aborts early."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise S3ServerUnavailable(f"the server behind {url} exited while starting")
        try:
            httpx.get(url, timeout=1.0, trust_env=False)
        except httpx.HTTPError as exc:
            last_error = exc
            time.sleep(0.05)
        else:
            return
    raise S3ServerUnavailable(f"{url} did not answer within {timeout:.0f} s: {last_error}")


class S3TestServer(ABC):
    """An S3 endpoint for tests, with credentials, that a test may stop and start again."""

    kind: str
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str  # what the adapter under test is configured with
    admin_region: str = "us-east-1"  # what bucket management uses
    enforces_presigned_expiry: bool = True
    keeps_objects_across_restart: bool = True

    @abstractmethod
    def stop(self) -> None:
        """Make the endpoint unreachable (connections are refused)."""

    @abstractmethod
    def start(self) -> None:
        """Make the endpoint reachable again, on the same address; wait until it answers."""

    def close(self) -> None:
        """Release everything for good."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._shutdown()

    @abstractmethod
    def _shutdown(self) -> None:
        """Stop the server for good."""

    @property
    def running(self) -> bool:
        return getattr(self, "_running", True)

    _admin: Any = None

    def admin_client(self) -> Any:
        """A boto3 client for bucket management (made once: making one takes ~0.3 s)."""
        if self._admin is None:
            self._admin = self._make_admin_client()
        return self._admin

    def _make_admin_client(self) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.admin_region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=3,
                read_timeout=10,
                retries={"total_max_attempts": 2, "mode": "standard"},
            ),
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create (or keep) a bucket; a fresh uniquely named one without `name`."""
        name = name or f"mierloos-test-{uuid.uuid4().hex[:16]}"
        client = self.admin_client()
        try:
            client.create_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                raise
        return name

    def remove_bucket(self, name: str) -> None:
        """Delete a bucket and its objects, best effort (the server may be gone)."""
        client = self.admin_client()
        try:
            paginator = client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=name):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
            client.delete_bucket(Bucket=name)
        except Exception:  # cleanup of a test bucket must not fail a test
            pass


class MotoServer(S3TestServer):
    """`python -m moto.server` in a subprocess; restarting it loses every bucket."""

    kind = "moto"
    access_key = "mierloos-test"
    secret_key = "mierloos-test-secret"  # moto checks no signatures: any key works
    region = "auto"  # as configured for R2
    enforces_presigned_expiry = False  # moto 5 serves presigned URLs past X-Amz-Expires
    keeps_objects_across_restart = False

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._log: TextIO | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self._log = open(self._log_path, "a")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_for_http(
                f"{self.endpoint_url}/moto-api/", timeout=START_TIMEOUT, alive=lambda: self.running
            )
        except S3ServerUnavailable as exc:
            self.stop()
            log = self._log_path.read_text(errors="replace")[-2000:]
            raise S3ServerUnavailable(f"moto server did not start: {exc}\n{log}") from exc

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _shutdown(self) -> None:
        self.stop()


class MinioServer(S3TestServer):
    """MinIO in a Docker container (testcontainers) bound to a fixed port of 127.0.0.1."""

    kind = "minio"
    access_key = "mierloos-test"
    secret_key = "mierloos-test-secret"
    region = "us-east-1"

    def __init__(self, image: str | None) -> None:
        from testcontainers.minio import MinioContainer

        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        options: dict[str, Any] = {"access_key": self.access_key, "secret_key": self.secret_key}
        if image:
            options["image"] = image
        # a fixed host port, so that the container can be stopped and started on the same URL
        self._container: Any = MinioContainer(**options).with_bind_ports(
            9000, ("127.0.0.1", self.port)
        )
        self._container.start()
        self._running = True
        wait_for_http(f"{self.endpoint_url}/minio/health/live", timeout=START_TIMEOUT)

    def stop(self) -> None:
        self._container.get_wrapped_container().stop(timeout=2)
        self._running = False

    def start(self) -> None:
        if self._running:
            return
        self._container.get_wrapped_container().start()
        self._running = True
        wait_for_http(f"{self.endpoint_url}/minio/health/live", timeout=START_TIMEOUT)

    def _shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self._container.stop()


class TcpRelay:
    """Forwards connections from a port of 127.0.0.1 to another address, until stopped."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._sockets.discard(source)
            source.close()


class ExternalServer(S3TestServer):
    """A server given by MIERLOOS_TEST_S3_URL, reached through a TcpRelay that stop() cuts."""

    kind = "external"

    def __init__(self, url: str, access_key: str, secret_key: str, region: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise S3ServerUnavailable(f"MIERLOOS_TEST_S3_URL must be an http:// URL, not {url!r}")
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.admin_region = region if region != "auto" else "us-east-1"
        self._relay = TcpRelay(parts.hostname, parts.port or 80)
        self.endpoint_url = f"http://127.0.0.1:{self._relay.port}"
        self.start()
        try:
            is_moto = _is_moto(self.endpoint_url)
        except S3ServerUnavailable:
            self.stop()
            raise
        if is_moto:  # e.g. a moto server run by CI
            self.kind = "external moto"
            self.enforces_presigned_expiry = False

    def stop(self) -> None:
        self._relay.stop()
        self._running = False

    def start(self) -> None:
        if getattr(self, "_running", False):
            return
        self._relay.start()
        self._running = True

    def _shutdown(self) -> None:
        self.stop()


def _is_moto(endpoint_url: str) -> bool:
    try:
        answer = httpx.get(f"{endpoint_url}/moto-api/data.json", timeout=5, trust_env=False)
    except httpx.HTTPError as exc:
        raise S3ServerUnavailable(f"MIERLOOS_TEST_S3_URL does not answer: {exc}") from exc
    if answer.status_code != 200:
        return False
    try:
        return isinstance(answer.json(), dict)  # moto's state dump; S3 answers XML here
    except ValueError:
        return False


def _docker_available() -> bool:
    """True when testcontainers' MinIO module is installed and a Docker engine answers."""
    try:
        importlib.import_module("testcontainers.minio")
        docker: Any = importlib.import_module("docker")
        client = docker.from_env(timeout=5)
    except Exception:  # not installed, or no engine configured
        return False
    try:
        return bool(client.ping())
    except Exception:  # an engine configured but not answering
        return False
    finally:
        client.close()


def start_s3_server(work_dir: Path) -> S3TestServer:
    """The first S3 server that can be had (see the module's docstring); never None."""
    url = os.environ.get("MIERLOOS_TEST_S3_URL")
    if url:
        access_key = os.environ.get("MIERLOOS_TEST_S3_ACCESS_KEY")
        secret_key = os.environ.get("MIERLOOS_TEST_S3_SECRET_KEY")
        if not access_key or not secret_key:
            raise S3ServerUnavailable(
                "MIERLOOS_TEST_S3_URL is set but MIERLOOS_TEST_S3_ACCESS_KEY or "
                "MIERLOOS_TEST_S3_SECRET_KEY is not"
            )
        region = os.environ.get("MIERLOOS_TEST_S3_REGION", "us-east-1")
        return ExternalServer(url, access_key, secret_key, region)

    backend = os.environ.get("MIERLOOS_TEST_S3_BACKEND", "").lower()
    failures: list[str] = []
    if backend in ("", "minio"):
        if _docker_available():
            try:
                return MinioServer(os.environ.get("MIERLOOS_TEST_MINIO_IMAGE"))
            except Exception as exc:
                failures.append(f"MinIO in Docker: {exc}")
        else:
            failures.append("MinIO: no reachable Docker engine or testcontainers[minio]")
        if backend == "minio":
            raise S3ServerUnavailable("; ".join(failures))
    try:
        return MotoServer(work_dir / "moto-server.log")
    except Exception as exc:
        failures.append(f"moto server: {exc}")
        raise S3ServerUnavailable(
            "no S3 server for the storage tests. Tried: " + "; ".join(failures)
        ) from exc


def make_s3_storage(server: S3TestServer, bucket: str) -> S3Storage:
    """S3Storage as production configures it (default timeouts), on `server`."""
    return S3Storage(
        bucket,
        server.access_key,
        server.secret_key,
        endpoint_url=server.endpoint_url,
        region=server.region,
    )
