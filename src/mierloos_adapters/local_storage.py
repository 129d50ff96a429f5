"""ObjectStorage on the local file system: the embedded default (./var/storage).

Layout under `root`:

    objects/ab/ab12...ef    one file per object, named after the SHA-256 of its key
    tmp/                    files being written; each is renamed into objects/ when complete

Each object file starts with one line of JSON (`{"format": 1, "key": ..., "content_type": ...}`)
followed by the object's bytes, so the bytes and their content type are replaced together by a
single `os.replace`: readers see the old object or the new one, never a mix, and a writer that
crashes leaves at most a stray file in tmp/ (swept away when a later LocalStorage starts), never a
half-written object. Naming files by a hash keeps every key inside the root whatever it spells, and
avoids the file system's own limits (case-insensitive names, reserved names, a key that is both an
object and a prefix of another, segment lengths).

"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from mierloos_adapters.object_keys import check_content_type, check_expiry, check_key
from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure

_FORMAT = 1
_MAX_HEADER_BYTES = 8 * 1024
_PERMANENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class LocalStorage:
    """Objects as files under `root`; safe for concurrent threads and processes on one host.

    `url_for` returns None: the web app serves these files itself, behind its own access check
    (use `get_with_content_type`). POSIX semantics are assumed (Linux, macOS): on Windows a file
    cannot be replaced while a reader holds it open.
    """

    def __init__(
        self, root: Path | str, *, stale_temp_after: timedelta = timedelta(hours=1)
    ) -> None:
        self.root = Path(root).absolute()
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"
        with self._os_errors("open", key=""):
            self._objects.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
        self._sweep_temp_files(older_than=stale_temp_after)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- the ObjectStorage port ---------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        check_content_type(content_type)
        header = json.dumps(
            {"format": _FORMAT, "key": key, "content_type": content_type}, ensure_ascii=True
        ).encode("ascii")
        target = self._path(key)
        with self._os_errors("put", key):
            target.parent.mkdir(exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as temp:
                    temp.write(header + b"\n")
                    temp.write(data)
                    temp.flush()
                    os.fsync(temp.fileno())
                os.replace(temp_name, target)
            except BaseException:
                with suppress(OSError):
                    os.unlink(temp_name)
                raise
            _fsync_directory(target.parent)

    def get(self, key: str) -> bytes:
        return self.get_with_content_type(key)[0]

    def delete(self, key: str) -> None:
        check_key(key)
        with self._os_errors("delete", key), suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def exists(self, key: str) -> bool:
        check_key(key)
        with self._os_errors("exists", key):
            try:
                os.stat(self._path(key))
            except FileNotFoundError:
                return False
            return True

    def url_for(self, key: str, expires_in: timedelta) -> str | None:
        check_key(key)
        check_expiry(expires_in)
        return None

    # -- beyond the port ----------------------------------------------------------------------

    def content_type(self, key: str) -> str:
        """The content type the object was stored with; NotFound for a missing key."""
        check_key(key)
        with self._open(key) as file:
            return self._read_header(file, key)

    def get_with_content_type(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and content type, read together from one version of the object."""
        check_key(key)
        with self._open(key) as file:
            content_type = self._read_header(file, key)
            with self._os_errors("get", key):
                return file.read(), content_type

    # -- internals ----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self._objects / digest[:2] / digest

    @contextmanager
    def _open(self, key: str) -> Iterator[BinaryIO]:
        with self._os_errors("get", key):
            try:
                file = open(self._path(key), "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                raise NotFound(key=key) from None
        with file:
            yield file

    def _read_header(self, file: BinaryIO, key: str) -> str:
        with self._os_errors("get", key):
            line = file.readline(_MAX_HEADER_BYTES)
        try:
            if not line.endswith(b"\n"):
                raise ValueError("no header line")
            header = json.loads(line)
            if header["format"] != _FORMAT or header["key"] != key:
                raise ValueError("header of another format or key")
            content_type = header["content_type"]
            if not isinstance(content_type, str):
                raise ValueError("content type is not text")
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentFailure(key=key, reason=f"damaged object file: {exc}") from exc
        return content_type

    def _sweep_temp_files(self, *, older_than: timedelta) -> None:
        """Remove files a crashed writer left in tmp/ (live writers finish well within an hour)."""
        cutoff = time.time() - older_than.total_seconds()
        with suppress(OSError):
            for entry in os.scandir(self._tmp):
                with suppress(OSError):
                    if entry.is_file() and entry.stat().st_mtime <= cutoff:
                        os.unlink(entry.path)

    @contextmanager
    def _os_errors(self, operation: str, key: str) -> Iterator[None]:
        """Turn file system errors into the domain's: permission problems are permanent,
        the rest (disk full, I/O errors, a vanished mount) may pass."""
        try:
            yield
        except OSError as exc:
            details = {"operation": operation, "key": key, "reason": str(exc)}
            if exc.errno in _PERMANENT_ERRNOS:
                raise PermanentFailure(**details) from exc
            raise DependencyUnavailable(**details) from exc


def _fsync_directory(path: Path) -> None:
    """Make a rename in `path` durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
