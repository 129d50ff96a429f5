"""The ObjectStorage contract, run against MemoryStorage, LocalStorage and S3Storage on a real
S3 server; then what only the S3 or only the local adapter promises."""

from __future__ import annotations

import errno
import hashlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import mierloos_adapters
from mierloos_adapters.local_storage import LocalStorage
from mierloos_adapters.s3 import S3Storage
from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure

from .storage_support import ContractStorage, S3TestServer, make_s3_storage

ALL_BYTES = bytes(range(256)) * 4 + b"\x00\r\n\xff" * 10
PDF = "application/pdf"
SRC_DIR = Path(mierloos_adapters.__file__).resolve().parents[1]


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*") if p.is_file()}


# --- the contract: the same assertions for every implementation -------------------------------


def test_put_then_get_returns_the_same_binary_data(storage: ContractStorage) -> None:
    storage.put("orders/1/tickets-1.pdf", ALL_BYTES, PDF)

    assert storage.get("orders/1/tickets-1.pdf") == ALL_BYTES


def test_empty_object_round_trips(storage: ContractStorage) -> None:
    storage.put("empty.txt", b"", "text/plain")

    assert storage.get("empty.txt") == b""
    assert storage.exists("empty.txt")


def test_put_keeps_the_content_type(storage: ContractStorage) -> None:
    storage.put("shows/7/poster.jpg", b"\xff\xd8\xff", "image/jpeg")
    storage.put("shows/7/poster.png", b"\x89PNG", "image/png")

    assert storage.content_type("shows/7/poster.jpg") == "image/jpeg"
    assert storage.content_type("shows/7/poster.png") == "image/png"


def test_put_overwrites_bytes_and_content_type(storage: ContractStorage) -> None:
    storage.put("shows/7/original", b"first version", "image/png")

    storage.put("shows/7/original", b"second, longer version", "image/jpeg")

    assert storage.get("shows/7/original") == b"second, longer version"
    assert storage.content_type("shows/7/original") == "image/jpeg"


def test_exists_follows_put_and_delete(storage: ContractStorage) -> None:
    assert not storage.exists("orders/2/tickets-1.pdf")

    storage.put("orders/2/tickets-1.pdf", b"%PDF", PDF)
    assert storage.exists("orders/2/tickets-1.pdf")

    storage.delete("orders/2/tickets-1.pdf")
    assert not storage.exists("orders/2/tickets-1.pdf")


def test_delete_removes_only_that_key(storage: ContractStorage) -> None:
    storage.put("orders/3/tickets-1.pdf", b"one", PDF)
    storage.put("orders/3/tickets-2.pdf", b"two", PDF)

    storage.delete("orders/3/tickets-1.pdf")

    with pytest.raises(NotFound):
        storage.get("orders/3/tickets-1.pdf")
    assert storage.get("orders/3/tickets-2.pdf") == b"two"


def test_delete_is_idempotent(storage: ContractStorage) -> None:
    storage.put("orders/4/tickets-1.pdf", b"x", PDF)

    storage.delete("orders/4/tickets-1.pdf")
    storage.delete("orders/4/tickets-1.pdf")
    storage.delete("never/stored.bin")

    assert not storage.exists("orders/4/tickets-1.pdf")


def test_get_of_a_missing_key_raises_not_found(storage: ContractStorage) -> None:
    with pytest.raises(NotFound):
        storage.get("orders/404/tickets-1.pdf")


def test_get_after_delete_raises_not_found(storage: ContractStorage) -> None:
    storage.put("orders/5/tickets-1.pdf", b"x", PDF)
    storage.delete("orders/5/tickets-1.pdf")

    with pytest.raises(NotFound):
        storage.get("orders/5/tickets-1.pdf")


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "A",
        "a/b",  # an object and a prefix of another at once
        "orders/0b6f6f0e-7a61-4c4e-9d8e-2f1c4c3b9a10/tickets-12.pdf",
        "shows/Zaal één/foto (1) & co.jpg",
        "keys/with:colons;and=signs+plus%percent",
        "long/" + "x" * 1019,  # 1024 bytes: the most S3 allows
    ],
    ids=["a", "A", "a-slash-b", "uuid-path", "unicode-spaces", "punctuation", "1024-bytes"],
)
def test_unusual_but_valid_keys_round_trip_independently(
    storage: ContractStorage, key: str
) -> None:
    sibling = key[:-1] + "~" if len(key) > 1000 else key + "~"  # same prefix, other object
    storage.put(key, key.encode(), "text/plain")
    storage.put(sibling, b"sibling", "text/plain")

    assert storage.get(key) == key.encode()
    assert storage.exists(key)
    assert storage.get(sibling) == b"sibling"


def test_keys_differing_only_in_case_are_different_objects(storage: ContractStorage) -> None:
    storage.put("Poster.jpg", b"upper", "image/jpeg")
    storage.put("poster.jpg", b"lower", "image/jpeg")

    assert storage.get("Poster.jpg") == b"upper"
    assert storage.get("poster.jpg") == b"lower"


def _payload(worker: int, round_: int) -> bytes:
    seed = hashlib.sha256(f"{worker}-{round_}".encode()).digest()
    return seed * (50 + 17 * worker + round_)


def test_concurrent_puts_and_gets_from_threads_never_mix_objects(
    storage: ContractStorage,
) -> None:
    workers, rounds = 12, 10
    every_payload = {_payload(w, r) for w in range(workers) for r in range(rounds)}
    shared = "concurrency/shared.bin"
    start = threading.Barrier(workers)

    def work(worker: int) -> list[bytes]:
        seen_on_shared = []
        start.wait()
        for round_ in range(rounds):
            own = f"concurrency/worker-{worker}/round-{round_}.bin"
            payload = _payload(worker, round_)
            storage.put(own, payload, f"application/x-worker-{worker}")
            storage.put(shared, payload, "application/octet-stream")
            assert storage.get(own) == payload
            seen_on_shared.append(storage.get(shared))
            assert storage.exists(own)
        return seen_on_shared

    with ThreadPoolExecutor(max_workers=workers) as pool:
        seen = [blob for result in pool.map(work, range(workers)) for blob in result]

    assert all(blob in every_payload for blob in seen), "a read saw a torn or mixed object"
    assert storage.get(shared) in every_payload
    for worker in range(workers):
        for round_ in range(rounds):
            key = f"concurrency/worker-{worker}/round-{round_}.bin"
            assert storage.get(key) == _payload(worker, round_)
            assert storage.content_type(key) == f"application/x-worker-{worker}"


# --- the real adapters: validation and reads of a consistent version --------------------------

INVALID_KEYS = {
    "empty": "",
    "absolute": "/orders/1.pdf",
    "parent": "../escape.txt",
    "parent-inside": "orders/../../escape.txt",
    "parent-at-end": "orders/..",
    "dot-segment": "orders/./1.pdf",
    "empty-segment": "orders//1.pdf",
    "trailing-slash": "orders/",
    "backslash": "orders\\1.pdf",
    "backslash-parent": "..\\..\\escape.txt",
    "nul": "orders/1\x00.pdf",
    "newline": "orders/1\n.pdf",
    "too-long": "x" * 1025,
    "lone-surrogate": "orders/\udc80.pdf",
}


@pytest.mark.parametrize("key", INVALID_KEYS.values(), ids=INVALID_KEYS.keys())
def test_invalid_keys_are_refused_by_every_operation(
    real_storage: LocalStorage | S3Storage, key: str
) -> None:
    operations: list[Callable[[], object]] = [
        lambda: real_storage.put(key, b"data", "text/plain"),
        lambda: real_storage.get(key),
        lambda: real_storage.get_with_content_type(key),
        lambda: real_storage.content_type(key),
        lambda: real_storage.exists(key),
        lambda: real_storage.delete(key),
        lambda: real_storage.url_for(key, timedelta(minutes=5)),
    ]
    for operation in operations:
        with pytest.raises(ValueError, match="object key"):
            operation()


@pytest.mark.parametrize(
    "content_type", ["", "text/plain\r\nX-Injected: 1", "tekst/één"], ids=["empty", "crlf", "utf8"]
)
def test_unsendable_content_types_are_refused(
    real_storage: LocalStorage | S3Storage, content_type: str
) -> None:
    with pytest.raises(ValueError, match="content type"):
        real_storage.put("shows/1/poster.jpg", b"x", content_type)

    assert not real_storage.exists("shows/1/poster.jpg")


@pytest.mark.parametrize(
    "expires_in", [timedelta(0), timedelta(seconds=-5), timedelta(days=7, seconds=1)]
)
def test_url_lifetimes_outside_one_second_to_seven_days_are_refused(
    real_storage: LocalStorage | S3Storage, expires_in: timedelta
) -> None:
    with pytest.raises(ValueError, match="expiry"):
        real_storage.url_for("orders/1/tickets-1.pdf", expires_in)


def test_get_with_content_type_returns_bytes_and_type_of_one_version(
    real_storage: LocalStorage | S3Storage,
) -> None:
    real_storage.put("shows/9/md.webp", b"RIFF....WEBP", "image/webp")

    assert real_storage.get_with_content_type("shows/9/md.webp") == (b"RIFF....WEBP", "image/webp")
    with pytest.raises(NotFound):
        real_storage.get_with_content_type("shows/9/lg.webp")
    with pytest.raises(NotFound):
        real_storage.content_type("shows/9/lg.webp")


# --- S3 only -----------------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_presigned_url_serves_bytes_and_content_type_to_a_plain_http_get(
    s3_storage: S3Storage,
) -> None:
    s3_storage.put("orders/8/tickets-1.pdf", ALL_BYTES, PDF)

    url = s3_storage.url_for("orders/8/tickets-1.pdf", timedelta(minutes=5))
    assert url is not None
    response = httpx.get(url, timeout=10, trust_env=False)

    assert response.status_code == 200
    assert response.content == ALL_BYTES
    assert response.headers["content-type"] == PDF


def test_presigned_url_is_signed_v4_for_the_requested_lifetime(s3_storage: S3Storage) -> None:
    url = s3_storage.url_for("orders/8/tickets-1.pdf", timedelta(seconds=90))
    assert url is not None

    query = _query(url)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "90"
    assert "X-Amz-Signature" in query
    # path-style: the bucket is in the path, so any S3-compatible endpoint can serve it
    assert urlsplit(url).path == f"/{s3_storage.bucket}/orders/8/tickets-1.pdf"


def test_presigned_url_stops_working_after_it_expires(
    s3_storage: S3Storage, s3_server: S3TestServer, request: pytest.FixtureRequest
) -> None:
    if not s3_server.enforces_presigned_expiry:
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason=f"{s3_server.kind} does not check X-Amz-Expires (real S3, R2, MinIO do)",
            )
        )
    s3_storage.put("orders/9/tickets-1.pdf", b"%PDF-1.7 secret", PDF)
    url = s3_storage.url_for("orders/9/tickets-1.pdf", timedelta(seconds=1))
    assert url is not None
    assert httpx.get(url, timeout=10, trust_env=False).status_code == 200

    time.sleep(2.5)  # X-Amz-Date has whole seconds: wait past date + 1 s with margin
    expired = httpx.get(url, timeout=10, trust_env=False)

    assert expired.status_code == 403
    assert b"secret" not in expired.content


def test_stopped_server_gives_dependency_unavailable_quickly_then_recovers(
    s3_outage: S3TestServer, s3_bucket: str
) -> None:
    storage = make_s3_storage(s3_outage, s3_bucket)
    storage.put("orders/10/tickets-1.pdf", b"before the outage", PDF)

    s3_outage.stop()
    operations: list[Callable[[], object]] = [
        lambda: storage.put("orders/10/tickets-2.pdf", b"during", PDF),
        lambda: storage.get("orders/10/tickets-1.pdf"),
        lambda: storage.exists("orders/10/tickets-1.pdf"),
        lambda: storage.delete("orders/10/tickets-1.pdf"),
    ]
    for operation in operations:
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable):
            operation()
        assert time.monotonic() - started < 8, "a stopped server must not make callers hang"

    s3_outage.start()
    if not s3_outage.keeps_objects_across_restart:
        s3_outage.create_bucket(s3_bucket)  # moto restarts empty
    else:
        assert storage.get("orders/10/tickets-1.pdf") == b"before the outage"
    storage.put("orders/10/tickets-2.pdf", b"after the outage", PDF)
    assert storage.get("orders/10/tickets-2.pdf") == b"after the outage"
    storage.close()


class _Always503(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # answers boto's "Expect: 100-continue" at once
    requests: list[str]

    def _answer(self) -> None:
        self.requests.append(self.command)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def always_503() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that answers every request 503; yields its URL and request log."""
    requests: list[str] = []
    handler = type("Handler", (_Always503,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_5xx_answers_become_dependency_unavailable_after_limited_retries(
    always_503: tuple[str, list[str]],
) -> None:
    url, requests = always_503
    storage = S3Storage("tickets", "key", "secret", endpoint_url=url, max_attempts=3)

    with pytest.raises(DependencyUnavailable) as raised:
        storage.put("orders/11/tickets-1.pdf", b"x", PDF)
    assert requests == ["PUT"] * 3
    assert raised.value.details["status"] == 503

    requests.clear()
    with pytest.raises(DependencyUnavailable):
        storage.get("orders/11/tickets-1.pdf")
    assert requests == ["GET"] * 3
    storage.close()


def test_a_server_that_accepts_but_never_answers_times_out_into_dependency_unavailable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes connections; nobody ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        storage = S3Storage(
            "tickets", "key", "secret", endpoint_url=url, read_timeout=0.5, max_attempts=2
        )

        started = time.monotonic()
        with pytest.raises(DependencyUnavailable):
            storage.get("orders/12/tickets-1.pdf")
        elapsed = time.monotonic() - started
        storage.close()

    assert 0.9 < elapsed < 5  # two attempts of 0.5 s each, short backoff, no hang


def test_a_missing_bucket_is_a_permanent_failure_not_a_missing_key(
    s3_server: S3TestServer, s3_bucket: str
) -> None:
    storage = make_s3_storage(s3_server, s3_bucket + "-does-not-exist")

    with pytest.raises(PermanentFailure) as raised:
        storage.get("orders/13/tickets-1.pdf")
    assert raised.value.details["code"] == "NoSuchBucket"
    with pytest.raises(PermanentFailure):
        storage.put("orders/13/tickets-1.pdf", b"x", PDF)
    storage.close()


def test_for_r2_signs_urls_for_the_account_endpoint_with_region_auto() -> None:
    storage = S3Storage.for_r2("0123456789abcdef0123456789abcdef", "key-id", "secret", "tickets")

    url = storage.url_for("orders/14/tickets-1.pdf", timedelta(minutes=10))

    assert (
        storage.endpoint_url == "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"
    )
    assert url is not None
    assert url.startswith(f"{storage.endpoint_url}/tickets/orders/14/tickets-1.pdf?")
    assert "/auto/s3/aws4_request" in _query(url)["X-Amz-Credential"]
    storage.close()


def test_for_r2_with_eu_jurisdiction_uses_the_eu_endpoint() -> None:
    storage = S3Storage.for_r2("abc123", "key-id", "secret", "tickets", jurisdiction="eu")

    assert storage.endpoint_url == "https://abc123.eu.r2.cloudflarestorage.com"
    storage.close()


@pytest.mark.parametrize("account_id", ["", "evil.example.com/", "abc@host"])
def test_for_r2_refuses_account_ids_that_would_change_the_host(account_id: str) -> None:
    with pytest.raises(ValueError, match="account id"):
        S3Storage.for_r2(account_id, "key-id", "secret", "tickets")


def test_region_auto_without_an_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match="region"):
        S3Storage("tickets", "key-id", "secret")


# --- local storage only ------------------------------------------------------------------------


def test_local_url_for_returns_none_so_the_app_serves_the_file(
    local_storage: LocalStorage,
) -> None:
    local_storage.put("orders/15/tickets-1.pdf", b"%PDF", PDF)

    assert local_storage.url_for("orders/15/tickets-1.pdf", timedelta(minutes=5)) is None


def test_local_storage_leaves_no_temp_files_behind(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    for round_ in range(3):
        for n in range(10):
            storage.put(f"orders/16/tickets-{n}.pdf", _payload(n, round_), PDF)
    storage.delete("orders/16/tickets-0.pdf")

    assert list((tmp_path / "storage" / "tmp").iterdir()) == []
    assert len(files_under(tmp_path / "storage" / "objects")) == 9


@pytest.mark.parametrize(
    "key", ["../escape.txt", "../../escape.txt", "/tmp/escape.txt", "a/../../escape.txt", "..\\x"]
)
def test_local_storage_refuses_keys_that_escape_the_root(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "inner" / "storage")
    before = files_under(tmp_path)

    with pytest.raises(ValueError, match="object key"):
        storage.put(key, b"escaped", "text/plain")

    assert files_under(tmp_path) == before


def test_local_failed_write_keeps_the_previous_object_and_no_temp_file(
    local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_storage.put("shows/17/original", b"old image", "image/png")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "simulated I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(DependencyUnavailable):
        local_storage.put("shows/17/original", b"new image", "image/jpeg")
    monkeypatch.undo()

    assert local_storage.get_with_content_type("shows/17/original") == (b"old image", "image/png")
    assert list((local_storage.root / "tmp").iterdir()) == []


def test_local_objects_outlive_the_instance_that_wrote_them(tmp_path: Path) -> None:
    LocalStorage(tmp_path / "storage").put("orders/18/tickets-1.pdf", b"%PDF kept", PDF)

    reopened = LocalStorage(tmp_path / "storage")

    assert reopened.get_with_content_type("orders/18/tickets-1.pdf") == (b"%PDF kept", PDF)


def test_local_damaged_object_file_is_a_permanent_failure(local_storage: LocalStorage) -> None:
    local_storage.put("orders/19/tickets-1.pdf", b"%PDF", PDF)
    (only_file,) = files_under(local_storage.root / "objects")
    only_file.write_bytes(b"not a header")

    with pytest.raises(PermanentFailure):
        local_storage.get("orders/19/tickets-1.pdf")


_WRITER = """
import sys
from mierloos_adapters.local_storage import LocalStorage

root, key, marker, count, size = sys.argv[1:6]
storage = LocalStorage(root)
data = marker.encode() * int(size)
for n in range(int(count)):
    storage.put(key, data, "application/x-" + marker)
    print(n, flush=True)
"""


def _start_writer(
    root: Path, key: str, marker: str, count: int, size: int
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root), key, marker, str(count), str(size)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _assert_whole_and_consistent(
    storage: LocalStorage, key: str, markers: set[str], size: int
) -> None:
    data, content_type = storage.get_with_content_type(key)
    marker = content_type.removeprefix("application/x-")
    assert marker in markers
    assert data == marker.encode() * size, "object bytes do not match their content type"


def test_local_concurrent_writer_processes_never_tear_or_mix_an_object(tmp_path: Path) -> None:
    root, key, size = tmp_path / "storage", "shows/20/original", 200_000
    markers = {"a", "b", "c", "d"}
    storage = LocalStorage(root)
    storage.put(key, b"a" * size, "application/x-a")
    writers = [_start_writer(root, key, marker, 25, size) for marker in sorted(markers)]

    reads = 0
    while any(w.poll() is None for w in writers):
        _assert_whole_and_consistent(storage, key, markers, size)
        reads += 1
    for writer in writers:
        writer.communicate(timeout=60)
        assert writer.returncode == 0

    _assert_whole_and_consistent(storage, key, markers, size)
    assert reads > 0
    assert list((root / "tmp").iterdir()) == []


def test_local_writer_killed_mid_write_never_leaves_a_partial_object(tmp_path: Path) -> None:
    root, key, size = tmp_path / "storage", "orders/21/tickets-1.pdf", 16_000_000
    storage = LocalStorage(root)
    storage.put(key, b"o" * size, "application/x-o")
    writer = _start_writer(root, key, "n", 1000, size)
    assert writer.stdout is not None
    writer.stdout.readline()  # the writer's first put is done
    deadline = time.monotonic() + 10
    while not any((root / "tmp").iterdir()) and time.monotonic() < deadline:
        pass  # wait until a later put is half-way: its temp file exists
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=30)

    leftovers = list((root / "tmp").iterdir())
    assert leftovers, "the writer was not killed in the middle of a write"
    _assert_whole_and_consistent(storage, key, {"o", "n"}, size)
    # a later start sweeps the stale temp file away (normally only those older than an hour)
    LocalStorage(root, stale_temp_after=timedelta(0))
    assert list((root / "tmp").iterdir()) == []
    _assert_whole_and_consistent(storage, key, {"o", "n"}, size)
