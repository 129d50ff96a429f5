"""Rules for object keys, content types and URL lifetimes, shared by every ObjectStorage.

The memory fake applies them too, so a key the fake accepts is one S3 and the disk accept.
"""

from __future__ import annotations

from datetime import timedelta

MAX_KEY_BYTES = 1024  # S3's limit, applied everywhere so a key valid here is valid on S3
MAX_CONTENT_TYPE_LENGTH = 255


def check_key(key: str) -> str:
    """Return `key` if it is a valid object key, else raise ValueError saying why.

    A key is one or more '/'-separated segments of printable text: not empty, at most 1024 bytes
    of UTF-8, no leading '/', no empty, '.' or '..' segment, no backslash, no control character.
    """
    if not isinstance(key, str):
        raise ValueError(f"object key must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError("object key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"object key {key!r} is not valid UTF-8 text") from None
    if size > MAX_KEY_BYTES:
        raise ValueError(f"object key is {size} bytes long; at most {MAX_KEY_BYTES} are allowed")
    if key.startswith("/"):
        raise ValueError(f"object key {key!r} must not start with '/'")
    if "\\" in key:
        raise ValueError(f"object key {key!r} must not contain a backslash")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise ValueError(f"object key {key!r} must not contain control characters")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(
                f"object key {key!r} must not contain empty, '.' or '..' path segments"
            )
    return key


def check_content_type(content_type: str) -> str:
    """Return `content_type` if it can be stored and sent as an HTTP header, else ValueError."""
    if not isinstance(content_type, str) or not content_type:
        raise ValueError("content type must be a non-empty str")
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH:
        raise ValueError(f"content type is longer than {MAX_CONTENT_TYPE_LENGTH} characters")
    if not all(0x20 <= ord(char) < 0x7F for char in content_type):
        raise ValueError(f"content type {content_type!r} must be printable ASCII")
    return content_type


def check_expiry(expires_in: timedelta) -> int:
    """Seconds of a URL's lifetime: a whole number from 1 s to 7 days (SigV4's limit)."""
    seconds = int(expires_in.total_seconds())
    if seconds < 1 or seconds > 7 * 24 * 3600:
        raise ValueError(f"expiry must be between 1 second and 7 days, not {expires_in}")
    return seconds
