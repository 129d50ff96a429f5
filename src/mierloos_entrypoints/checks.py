"""`mierloos check`: is every dependency of this configuration reachable?"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import text

from mierloos_adapters.migrations import head_revision
from mierloos_entrypoints.config import Settings
from mierloos_entrypoints.container import build_container

Check = tuple[str, bool, str]


def run_checks(settings: Settings) -> Iterator[Check]:
    container = build_container(settings)
    yield _database(container)
    yield _storage(container)
    yield _mail(settings)
    yield _payments(settings)


def _database(container) -> Check:  # type: ignore[no-untyped-def]
    try:
        with container.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as error:
        return ("database", False, _short(error))
    head = head_revision()
    if version != head:
        return (
            "database",
            False,
            f"reachable, but the schema is at revision {version}, this release needs {head}:"
            " run `mierloos migrate`",
        )
    return ("database", True, f"reachable, schema revision {version}")


def _storage(container) -> Check:  # type: ignore[no-untyped-def]
    storage = container.storage()
    key = "health/check.txt"
    try:
        storage.put(key, b"ok", "text/plain")
        data = storage.get(key)
        storage.url_for(key, timedelta(minutes=1))
        storage.delete(key)
    except Exception as error:
        return ("storage", False, _short(error))
    return ("storage", data == b"ok", type(storage).__name__ + " read and write")


def _mail(settings: Settings) -> Check:
    smtp = settings.smtp
    if smtp is None:
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


def _payments(settings: Settings) -> Check:
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
    return ("payments", True, f"mollie, {mode} key of the right form")


def _short(error: Exception) -> str:
    return (
        f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        if str(error)
        else type(error).__name__
    )
