"""A small HTTP/1.1 client for load generators: one connection per request, a cookie jar.

httpx spends a few milliseconds of Python per request (models, hooks, pools, locks); with
hundreds of buyers in one process that made the buyers, not the site, the limit of a run.
This client does what a buyer's browser does here and no more: GET and form POSTs, cookies
by name (set, replaced, removed), no redirects followed, `Connection: close`.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode, urlsplit

import attrs


@attrs.frozen
class Reply:
    status_code: int
    headers: dict[str, str]  # lower-case names; the last value of a repeated header
    text: str


class HttpError(Exception):
    """The connection failed, timed out or the answer was not HTTP."""


class Browser:
    """One visitor: their own cookies, and their own address in X-Forwarded-For."""

    def __init__(self, base_url: str, *, forwarded_for: str, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.forwarded_for = forwarded_for
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    async def get(self, url: str) -> Reply:
        return await self.request("GET", url)

    async def post(self, url: str, data: dict[str, str]) -> Reply:
        return await self.request("POST", url, urlencode(data).encode())

    async def request(self, method: str, url: str, body: bytes | None = None) -> Reply:
        try:
            return await asyncio.wait_for(self._exchange(method, url, body), self.timeout)
        except (TimeoutError, OSError, ValueError, IndexError) as error:
            raise HttpError(f"{method} {url}: {type(error).__name__} {error}") from None

    async def _exchange(self, method: str, url: str, body: bytes | None) -> Reply:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"X-Forwarded-For: {self.forwarded_for}",
            "Connection: close",
        ]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
            raw = await reader.read()  # to the end: the server closes after its answer
        finally:
            writer.close()
        return self._parse(raw)

    def _parse(self, raw: bytes) -> Reply:
        head, _, content = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = value
            if name == "set-cookie":
                self._remember(value)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            content = _unchunk(content)
        return Reply(status, headers, content.decode("utf-8", "replace"))

    def _remember(self, set_cookie: str) -> None:
        pair, *attributes = set_cookie.split(";")
        name, _, value = pair.strip().partition("=")
        removed = any(
            a.strip().lower() in ("max-age=0", "max-age=-1")
            or (a.strip().lower().startswith("expires=") and "1970" in a)
            for a in attributes
        )
        if removed or value in ("", '""'):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value


def _unchunk(content: bytes) -> bytes:
    out = bytearray()
    while content:
        size_line, _, rest = content.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        content = rest[size + 2 :]
    return bytes(out)
