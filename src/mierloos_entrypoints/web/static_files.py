"""Static files with content hashes in their URLs, so browsers may keep them for a year."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
_FOREVER = "public, max-age=31536000, immutable"
_AN_HOUR = "public, max-age=3600"


@functools.cache
def content_hash(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """``/static/site.css?v=<hash>``: a new release's file gets a new URL."""
    return f"/static/{name}?v={content_hash(name)}"


class HashedStaticFiles(StaticFiles):
    """Cached for a year when asked for by the current content hash, for an hour otherwise."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            query = scope.get("query_string", b"").decode("latin-1")
            hashed = query == f"v={_hash_or_empty(path)}"
            response.headers["Cache-Control"] = _FOREVER if hashed else _AN_HOUR
        return response


def _hash_or_empty(path: str) -> str:
    try:
        return content_hash(path)
    except OSError:
        return ""
