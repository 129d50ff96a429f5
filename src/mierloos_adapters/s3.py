"""ObjectStorage over the S3 API with boto3: one adapter for Cloudflare R2, MinIO and AWS S3.

- R2: `S3Storage.for_r2(account_id, key_id, secret, bucket)` (endpoint from the account id,
  region "auto").
- MinIO or another S3-compatible server: give `endpoint_url` (path-style addressing is used).
- AWS S3: no `endpoint_url`, and the bucket's real region instead of "auto".

Errors never leave as boto exceptions: a missing key is `NotFound`; an unreachable server, a
timeout, throttling or a 5xx answer (after botocore's few retries) is `DependencyUnavailable`;
any other refusal (bad credentials, missing bucket, access denied) is `PermanentFailure`.
Invalid keys raise ValueError before any request is made (the rules are in `check_key`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from mierloos_adapters.object_keys import check_content_type, check_expiry, check_key
from mierloos_core.errors import DependencyUnavailable, NotFound, PermanentFailure

# Answers that say "not now" rather than "no": worth retrying later.
_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "RequestLimitExceeded",
        "PriorRequestNotComplete",
    }
)
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_R2_ACCOUNT_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_R2_JURISDICTION = re.compile(r"[a-z]{2,8}")


class S3Storage:
    """Objects in one bucket of an S3-compatible store. Thread-safe: share one instance.

    The defaults suit a web request or a job: a connection attempt gives up after
    `connect_timeout` seconds, a silent server after `read_timeout` seconds, and each call makes
    at most `max_attempts` attempts (botocore's "standard" retries, with short backoff) before
    raising DependencyUnavailable.
    """

    def __init__(
        self,
        bucket: str,
        access_key_id: str,
        secret_access_key: str,
        endpoint_url: str | None = None,
        region: str = "auto",
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
        max_pool_connections: int = 20,
    ) -> None:
        if not bucket:
            raise ValueError("bucket must not be empty")
        if endpoint_url is None and region == "auto":
            raise ValueError(
                'region "auto" needs an endpoint_url (R2, MinIO); for AWS S3 give the '
                "bucket's region, e.g. eu-central-1"
            )
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        config = Config(
            signature_version="s3v4",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=max_pool_connections,
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            # boto3 >= 1.36 adds CRC32 checksums to every upload by default, which R2 and
            # older MinIO releases refuse; send and check them only where S3 requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A session of our own: boto3's default session is not safe to share between threads,
        # while the client made here is, and is made once.
        session = boto3.session.Session()
        self._client: Any = session.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    @classmethod
    def for_r2(
        cls,
        account_id: str,
        access_key_id: str,
        secret_access_key: str,
        bucket: str,
        *,
        jurisdiction: str | None = None,
        **options: Any,
    ) -> S3Storage:
        """Cloudflare R2: endpoint `https://{account_id}.r2.cloudflarestorage.com`.

        With `jurisdiction` (e.g. "eu") the bucket's jurisdiction-specific endpoint is used.
        `options` are passed on (timeouts, attempts).
        """
        if not _R2_ACCOUNT_ID.fullmatch(account_id):
            raise ValueError("an R2 account id is letters and digits only")
        host = f"{account_id}.r2.cloudflarestorage.com"
        if jurisdiction is not None:
            if not _R2_JURISDICTION.fullmatch(jurisdiction):
                raise ValueError(f"unknown R2 jurisdiction {jurisdiction!r}")
            host = f"{account_id}.{jurisdiction}.r2.cloudflarestorage.com"
        return cls(
            bucket,
            access_key_id,
            secret_access_key,
            endpoint_url=f"https://{host}",
            region="auto",
            **options,
        )

    def __repr__(self) -> str:
        where = self.endpoint_url or f"AWS {self.region}"
        return f"S3Storage(bucket={self.bucket!r}, at={where!r})"

    def close(self) -> None:
        """Close the pooled connections (the instance must not be used afterwards)."""
        self._client.close()

    # -- the ObjectStorage port ---------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        check_content_type(content_type)
        with self._errors("put", key):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=bytes(data), ContentType=content_type
            )

    def get(self, key: str) -> bytes:
        return self.get_with_content_type(key)[0]

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing key is not an error."""
        check_key(key)
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        """Note: on AWS, without s3:ListBucket a missing key answers 403 (PermanentFailure)."""
        check_key(key)
        return self._head(key, "exists") is not None

    def url_for(self, key: str, expires_in: timedelta) -> str | None:
        """A presigned GET URL (SigV4), valid for `expires_in` (1 s to 7 days).

        Signing happens locally: no request is made, and the key need not exist yet.
        """
        check_key(key)
        seconds = check_expiry(expires_in)
        with self._errors("url_for", key):
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=seconds,
                HttpMethod="GET",
            )
        return url

    # -- beyond the port ----------------------------------------------------------------------

    def content_type(self, key: str) -> str:
        """The content type the object was stored with; NotFound for a missing key."""
        check_key(key)
        head = self._head(key, "content_type")
        if head is None:
            raise NotFound(key=key)
        return str(head.get("ContentType", "binary/octet-stream"))

    def get_with_content_type(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and content type, from one response."""
        check_key(key)
        with self._errors("get", key):
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
        return data, str(response.get("ContentType", "binary/octet-stream"))

    # -- internals ----------------------------------------------------------------------------

    def _head(self, key: str, operation: str) -> dict[str, Any] | None:
        try:
            with self._errors(operation, key):
                head: dict[str, Any] = self._client.head_object(Bucket=self.bucket, Key=key)
                return head
        except NotFound:
            return None

    @contextmanager
    def _errors(self, operation: str, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            raise _translate_client_error(exc, operation, self.bucket, key) from exc
        except (BotoConnectionError, HTTPClientError, IncompleteReadError) as exc:
            raise DependencyUnavailable(**self._context(operation, key, exc)) from exc
        except BotoCoreError as exc:  # configuration and credential problems
            raise PermanentFailure(**self._context(operation, key, exc)) from exc

    def _context(self, operation: str, key: str, exc: Exception) -> dict[str, str]:
        return {
            "service": "object storage",
            "operation": operation,
            "bucket": self.bucket,
            "key": key,
            "reason": str(exc),
        }


def _translate_client_error(
    exc: ClientError, operation: str, bucket: str, key: str
) -> NotFound | DependencyUnavailable | PermanentFailure:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _NOT_FOUND_CODES:
        kind: type[NotFound | DependencyUnavailable | PermanentFailure] = NotFound
    elif code in _TRANSIENT_CODES or status >= 500 or status in (408, 429):
        kind = DependencyUnavailable
    else:
        kind = PermanentFailure
    return kind(
        service="object storage",
        operation=operation,
        bucket=bucket,
        key=key,
        code=code,
        status=status,
        reason=str(error.get("Message", "")) or str(exc),
    )
