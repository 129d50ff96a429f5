"""Configuration from environment variables, validated at start-up.

With nothing set, everything runs embedded: SQLite under ./var, files under ./var/storage,
mail as .eml files in ./var/outbox, the fake payment provider, a worker inside the web process.
Every problem is reported in one ConfigError, one line per variable, never with a secret.
"""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import attrs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mierloos_adapters.sqlalchemy.engine import normalize_database_url
from mierloos_entrypoints.log_settings import logging_problems

StorageKind = Literal["local", "s3"]


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("configuration problems:\n" + "\n".join(f"- {p}" for p in problems))


@attrs.frozen(kw_only=True)
class S3Settings:
    bucket: str
    access_key_id: str = attrs.field(repr=False)
    secret_access_key: str = attrs.field(repr=False)
    endpoint_url: str | None
    region: str


@attrs.frozen(kw_only=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None = attrs.field(repr=False)
    sender: str
    security: Literal["starttls", "tls", "none"]


@attrs.frozen(kw_only=True)
class Settings:
    var_dir: Path
    database_url: str
    base_url: str
    secret_key: str = attrs.field(repr=False)
    s3: S3Settings | None
    smtp: SmtpSettings | None
    mollie_api_key: str | None = attrs.field(repr=False)
    mollie_api_endpoint: str | None
    worker_polling_interval: float
    worker_max_attempts: int
    order_ttl_minutes: int
    embedded_worker: bool
    sender: str
    metrics_token: str | None = attrs.field(default=None, repr=False)
    """Bearer token for the web site's /metrics; without one only loopback clients get it."""
    fake_payments: bool = False
    """MIERLOOS_FAKE_PAYMENTS=1: the fake provider outside the embedded setup (demos, tests)."""
    checkouts_per_client: int = 20
    """Orders one client address may place per 10 minutes; 0 = no limit."""

    @property
    def staff_email(self) -> str | None:
        """The theatre's own mailbox (the address of SMTP_FROM): where staff alerts go."""
        address = parseaddr(self.sender)[1]
        return address or None

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def fake_payments_allowed(self) -> bool:
        """Whether the fake provider may stand in for Mollie: anyone can 'pay' on its page."""
        return self.is_embedded or self.fake_payments

    @property
    def storage_dir(self) -> Path:
        return self.var_dir / "storage"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    def describe(self) -> list[str]:
        """What runs where, for start-up logs; no secrets."""
        db = urlparse(self.database_url)
        return [
            f"database: {db.scheme} {db.hostname or db.path}",
            f"storage: {'s3 bucket ' + self.s3.bucket if self.s3 else self.storage_dir}",
            f"mail: {'smtp ' + self.smtp.host if self.smtp else self.outbox_dir}",
            f"payments: {'mollie' if self.mollie_api_key else 'fake provider'}",
            f"worker: {'in this process' if self.embedded_worker else 'separate'}",
            f"metrics: {'bearer token' if self.metrics_token else 'loopback clients only'}",
        ]


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name, "").strip()
        return value or default

    def number(name: str, default: str, kind: type[int] | type[float], low: float) -> float:
        raw = get(name, default) or default
        try:
            value = kind(raw)
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return kind(default)
        if value < low:
            problems.append(f"{name} must be at least {low}")
        return value

    var_dir = Path(get("MIERLOOS_VAR_DIR", "var") or "var").resolve()
    database_url = normalize_database_url(
        get("DATABASE_URL") or f"sqlite:///{var_dir / 'mierloos.db'}"
    )
    if not database_url.startswith(("sqlite", "postgresql")):
        problems.append("DATABASE_URL must be a postgresql:// or sqlite:/// URL")
    elif not _valid_database_url(database_url):
        # The URL itself is never repeated: it may hold a password.
        problems.append("DATABASE_URL cannot be parsed (is its port a number?)")

    base_url = (get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    parsed = urlparse(base_url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        problems.append("BASE_URL must be an absolute http(s) URL, e.g. https://tickets.example.nl")

    production = not database_url.startswith("sqlite")
    secret_key = get("SECRET_KEY")
    if secret_key is None:
        if production:
            problems.append("SECRET_KEY is required outside the embedded setup (32+ characters)")
            secret_key = ""
        else:
            secret_key = _embedded_secret(var_dir)
    elif len(secret_key) < 32:
        problems.append("SECRET_KEY must be at least 32 characters long")
    elif (weakness := secret_key_weakness(secret_key)) is not None:
        problems.append(f"SECRET_KEY {weakness}")

    s3 = None
    r2_account = get("R2_ACCOUNT_ID")
    endpoint = get("S3_ENDPOINT_URL")
    if r2_account or endpoint or get("R2_BUCKET_NAME"):
        missing = [
            name
            for name in ("R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_BUCKET_NAME")
            if not get(name)
        ]
        if not (r2_account or endpoint):
            missing.append("R2_ACCOUNT_ID (or S3_ENDPOINT_URL)")
        problems.extend(f"{name} is required for object storage" for name in missing)
        if not missing:
            s3 = S3Settings(
                bucket=get("R2_BUCKET_NAME") or "",
                access_key_id=get("R2_ACCESS_KEY_ID") or "",
                secret_access_key=get("R2_SECRET_ACCESS_KEY") or "",
                endpoint_url=endpoint or f"https://{r2_account}.r2.cloudflarestorage.com",
                region=get("S3_REGION", "auto") or "auto",
            )

    sender = get("SMTP_FROM", "Ons Mierloos Theater <kaarten@localhost>") or ""
    smtp = None
    if get("SMTP_HOST"):
        port = int(number("SMTP_PORT", "587", int, 1))
        security = (get("SMTP_SECURITY") or ("tls" if port == 465 else "starttls")).lower()
        if security not in {"starttls", "tls", "none"}:
            problems.append("SMTP_SECURITY must be starttls, tls or none")
            security = "starttls"
        if not get("SMTP_FROM"):
            problems.append("SMTP_FROM is required with SMTP_HOST")
        smtp = SmtpSettings(
            host=get("SMTP_HOST") or "",
            port=port,
            username=get("SMTP_USER"),
            password=get("SMTP_PASSWORD"),
            sender=sender,
            security=security,  # type: ignore[arg-type]
        )

    mollie_key = get("MOLLIE_API_KEY")
    if mollie_key and not (mollie_key.startswith(("test_", "live_")) and len(mollie_key) >= 30):
        problems.append("MOLLIE_API_KEY must look like test_... or live_... (30+ characters)")
    fake_payments = _flag(get("MIERLOOS_FAKE_PAYMENTS", "0") or "0")
    if mollie_key is None and production and not fake_payments:
        problems.append(
            "MOLLIE_API_KEY is required outside the embedded setup"
            " (MIERLOOS_FAKE_PAYMENTS=1 for a demo without payments)"
        )

    polling = float(number("WORKER_POLLING_INTERVAL", "5", float, 0.01))
    attempts = int(number("WORKER_MAX_ATTEMPTS", "5", int, 1))
    ttl = int(number("ORDER_TTL_MINUTES", "15", int, 1))
    checkouts_per_client = int(number("CHECKOUTS_PER_CLIENT", "20", int, 0))
    metrics_token = get("METRICS_TOKEN")
    if metrics_token is not None and len(metrics_token) < 16:
        problems.append("METRICS_TOKEN must be at least 16 characters long")

    embedded_worker = _flag(get("MIERLOOS_EMBEDDED_WORKER", "1" if not production else "0") or "0")

    problems += logging_problems(env)  # LOG_LEVEL, LOG_FORMAT

    if problems:
        raise ConfigError(problems)
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        base_url=base_url,
        secret_key=secret_key,
        s3=s3,
        smtp=smtp,
        mollie_api_key=mollie_key,
        mollie_api_endpoint=get("MOLLIE_API_ENDPOINT"),
        worker_polling_interval=polling,
        worker_max_attempts=attempts,
        order_ttl_minutes=ttl,
        embedded_worker=embedded_worker,
        sender=sender,
        metrics_token=metrics_token,
        fake_payments=fake_payments,
        checkouts_per_client=checkouts_per_client,
    )


def _valid_database_url(url: str) -> bool:
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        return False
    return True


# Values shipped in examples (the compose file's own once): anyone can read them.
_PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "your-secret", "example")
MIN_SECRET_BITS = 96
_USE_RANDOM = "use a random value, e.g. openssl rand -base64 48"


def secret_key_weakness(key: str) -> str | None:
    """Why `key` is no secret (a known placeholder, too little entropy), or None."""
    lowered = key.lower()
    if any(marker in lowered for marker in _PLACEHOLDERS):
        return f"is a placeholder from an example; {_USE_RANDOM}"
    counts = Counter(key)
    bits = -sum(n * math.log2(n / len(key)) for n in counts.values())
    if bits < MIN_SECRET_BITS or len(counts) < 12:
        return f"is too predictable (repeated or few different characters); {_USE_RANDOM}"
    return None


def _embedded_secret(var_dir: Path) -> str:
    """A per-installation key kept in ./var, so sessions survive restarts of the embedded site."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on the first key written.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key
