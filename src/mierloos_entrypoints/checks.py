"""`mierloos check`: is every dependency of this configuration reachable?"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import text

from mierloos_adapters.migrations import current_revision, schema_behind
from mierloos_core.errors import MierloosError
from mierloos_entrypoints.config import Settings
from mierloos_entrypoints.container import build_container

Check = tuple[str, bool, str]


def run_checks(settings: Settings) -> Iterator[Check]:
    container = build_container(settings)
    yield _database(container)
    yield _storage(container, settings)
    yield _mail(settings)
    yield _payments(container, settings)


def _database(container) -> Check:  # type: ignore[no-untyped-def]
    try:
        with container.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        behind = schema_behind(container.engine())
        version = current_revision(container.engine())
    except Exception as error:
        return ("database", False, _short(error))
    if behind is not None:
        return ("database", False, f"reachable, but {behind}")
    return ("database", True, f"reachable, schema revision {version}")


def _storage(container, settings: Settings) -> Check:  # type: ignore[no-untyped-def]
    if settings.s3 is None and not (settings.is_embedded or settings.local_storage):
        return (
            "storage",
            False,
            "local files outside the embedded setup: set R2_*/S3_ENDPOINT_URL"
            " (or MIERLOOS_LOCAL_STORAGE=1 to keep files on this machine on purpose)",
        )
    where = f"bucket {settings.s3.bucket!r}: " if settings.s3 else ""
    storage = container.storage()
    key = "health/check.txt"
    try:
        storage.put(key, b"ok", "text/plain")
        data = storage.get(key)
        storage.url_for(key, timedelta(minutes=1))
        storage.delete(key)
    except Exception as error:
        return ("storage", False, where + _short(error))
    return ("storage", data == b"ok", f"{where}{type(storage).__name__} read and write")


def _mail(settings: Settings) -> Check:
    smtp = settings.smtp
    if smtp is None:
        if not (settings.is_embedded or settings.file_mailer):
            return (
                "mail",
                False,
                "no SMTP_HOST outside the embedded setup: mail would never leave this machine"
                " (MIERLOOS_FILE_MAILER=1 to write .eml files on purpose)",
            )
        return ("mail", True, f"written to {settings.outbox_dir}")
    try:
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=10, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
        with client:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.noop()
    except Exception as error:
        return ("mail", False, _short(error))
    return ("mail", True, f"smtp {smtp.host}:{smtp.port} answers")


def _payments(container, settings: Settings) -> Check:  # type: ignore[no-untyped-def]
    if settings.mollie_api_key is None:
        if settings.is_embedded:
            return ("payments", True, "fake provider (no MOLLIE_API_KEY)")
        if settings.fake_payments:
            return (
                "payments",
                True,
                "warning: fake provider by MIERLOOS_FAKE_PAYMENTS=1, tickets without paying",
            )
        return (
            "payments",
            False,
            "fake provider outside the embedded setup: set MOLLIE_API_KEY",
        )
    mode = "live" if settings.mollie_api_key.startswith("live_") else "test"
    try:
        container.payment_gateway().verify_credentials()
    except MierloosError as error:
        status = error.details.get("status")
        answer = f" (HTTP {status})" if status else ""
        return ("payments", False, f"mollie, {mode} key: {error.message}{answer}")
    return ("payments", True, f"mollie, {mode} key accepted")


def _short(error: Exception) -> str:
    if isinstance(error, MierloosError):
        # The adapters keep what the service answered in the details; the message is generic.
        said = [str(error.details[k]) for k in ("code", "status", "reason") if error.details.get(k)]
        if said:
            return f"{type(error).__name__}: {' '.join(said)[:200]}"
    return (
        f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        if str(error)
        else type(error).__name__
    )
