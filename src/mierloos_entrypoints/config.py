"""Configuration from environment variables, validated at start-up.

With nothing set, everything runs embedded: SQLite under ./var, files under ./var/storage,
mail as .eml files in ./var/outbox, the fake payment provider, a worker inside the web process.
Every problem is reported in one ConfigError, one line per variable, never with a secret.
The variables and their meaning are listed in `config_variables`; `load_settings` reads them
one concern at a time (database, site, storage, mail, payments, worker, ...), and
`load_worker_config` only the worker's.
"""

from __future__ import annotations

import ipaddress
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
from mierloos_entrypoints.config_variables import (
    SETTING_NAMES,
    settings_table,  # noqa: F401 - imported from here too, to print the README's table
)
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


#: The default MIERLOOS_JOB_HANDLERS: the composition root's handlers.
DEFAULT_JOB_HANDLERS = "mierloos_entrypoints.worker:build_registry"


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """The worker's own variables (their meaning is in `config_variables.SETTINGS`)."""

    polling_interval: float = 5.0
    max_attempts: int = 5
    lease_seconds: float = 60.0
    shutdown_timeout: float = 600.0
    stuck_seconds: float = 30.0
    orphaned_order_cleanup_period: float = 300.0
    refund_follow_up_period: float = 600.0
    jobs_retention_days: float = 30.0
    waitlist_retention_days: float = 30.0
    health_port: int = 8080
    health_host: str = "0.0.0.0"  # noqa: S104 - probes come from outside
    job_handlers: str = DEFAULT_JOB_HANDLERS


@attrs.frozen(kw_only=True)
class WorkerConfig:
    """What a worker process runs with: the database, its own settings, the /metrics token.

    `load_worker_config` reads only these, for a worker whose handlers need none of the site's
    settings (`python -m mierloos_entrypoints.worker`, Dramatiq's own command); the default
    handlers build the container, which loads them all.
    """

    database_url: str
    worker: WorkerSettings
    metrics_token: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class Settings:
    """The site's settings, one field per variable (their meaning is in
    `config_variables.SETTINGS`); `worker` holds the worker's own."""

    var_dir: Path
    database_url: str
    base_url: str
    secret_key: str = attrs.field(repr=False)
    s3: S3Settings | None
    smtp: SmtpSettings | None
    mollie_api_key: str | None = attrs.field(repr=False)
    mollie_api_endpoint: str | None
    order_ttl_minutes: int
    embedded_worker: bool
    sender: str
    metrics_token: str | None = attrs.field(default=None, repr=False)
    fake_payments: bool = False
    database_pool_size: int = 10
    web_threads: int = 10
    checkouts_per_client: int = 20
    waitlist_offer_hours: float = 24.0
    max_unpaid_tickets_per_performance: int = 10
    phone_pay_before_minutes: int = 30
    counter_after_start_minutes: int = 30
    local_storage: bool = False
    file_mailer: bool = False
    redis_url: str | None = attrs.field(default=None, repr=False)
    worker: WorkerSettings = attrs.field(factory=WorkerSettings)

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
        """Whether the fake provider may stand in for Mollie: anyone can 'pay' on its page.

        Only on a site for this machine alone (embedded, links to loopback), or when asked
        for by name. `mierloos serve` also refuses it on a non-loopback listening address.
        """
        local = self.is_embedded and is_loopback_host(urlparse(self.base_url).hostname or "")
        return local or self.fake_payments

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


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Reader:
    """Reads the documented variables of one environment, gathering every problem."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.env = dict(environ)
        self.problems: list[str] = []

    def get(self, name: str, default: str | None = None) -> str | None:
        if name not in SETTING_NAMES:  # every setting is documented in SETTINGS
            raise KeyError(name)
        value = self.env.get(name, "").strip()
        return value or default

    def flag(self, name: str, default: str = "0") -> bool:
        return (self.get(name, default) or default).lower() in {"1", "true", "yes", "on"}

    def number(
        self,
        name: str,
        default: str,
        kind: type[int] | type[float],
        low: float,
        high: float = math.inf,
    ) -> float:
        raw = self.get(name, default) or default
        try:
            value = kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            self.problems.append(f"{name} must be {what}, got {raw[:40]!r}")
            return kind(default)
        if not math.isfinite(value) or not low <= value <= high:
            bounds = f"at least {low:g}" if high == math.inf else f"from {low:g} to {high:g}"
            self.problems.append(f"{name} must be {bounds}, got {raw[:40]!r}")
            return kind(default)
        return value


# The numeric settings: the Settings field, its variable, default, kind, lowest and highest value.
_NUMBERS: tuple[tuple[str, str, str, type[int] | type[float], float, float], ...] = (
    ("database_pool_size", "DATABASE_POOL_SIZE", "10", int, 1, 500),
    ("web_threads", "WEB_THREADS", "10", int, 1, 500),
    ("order_ttl_minutes", "ORDER_TTL_MINUTES", "15", int, 1, math.inf),
    ("waitlist_offer_hours", "WAITLIST_OFFER_HOURS", "24", float, 0.1, math.inf),
    ("checkouts_per_client", "CHECKOUTS_PER_CLIENT", "20", int, 0, math.inf),
    (
        "max_unpaid_tickets_per_performance",
        "MAX_UNPAID_TICKETS_PER_PERFORMANCE",
        "10",
        int,
        0,
        math.inf,
    ),
    ("phone_pay_before_minutes", "PHONE_BOOKING_PAY_BEFORE_MINUTES", "30", int, 0, 24 * 60),
    ("counter_after_start_minutes", "COUNTER_SALES_AFTER_START_MINUTES", "30", int, 0, 240),
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    read = _Reader(os.environ if environ is None else environ)
    var_dir, database_url = _database(read)
    production = not database_url.startswith("sqlite")
    base_url = _base_url(read)
    secret_key = _secret_key(read, var_dir, production=production)
    s3 = _object_storage(read)
    sender, smtp = _mail(read)
    mollie_key, fake_payments = _payments(read, base_url, production=production)
    numbers = {
        field: kind(read.number(name, default, kind, low, high))
        for field, name, default, kind, low, high in _NUMBERS
    }
    worker = _worker(read)
    metrics_token = _metrics_token(read)
    redis_url = read.get("REDIS_URL")
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        read.problems.append("REDIS_URL must be a redis://, rediss:// or unix:// URL")
    embedded_worker = read.flag("MIERLOOS_EMBEDDED_WORKER", "1" if not production else "0")
    read.problems += logging_problems(read.env)  # LOG_LEVEL, LOG_FORMAT
    if read.problems:
        raise ConfigError(read.problems)
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        base_url=base_url,
        secret_key=secret_key,
        s3=s3,
        smtp=smtp,
        mollie_api_key=mollie_key,
        mollie_api_endpoint=read.get("MOLLIE_API_ENDPOINT"),
        embedded_worker=embedded_worker,
        sender=sender,
        metrics_token=metrics_token,
        fake_payments=fake_payments,
        local_storage=read.flag("MIERLOOS_LOCAL_STORAGE"),
        file_mailer=read.flag("MIERLOOS_FILE_MAILER"),
        redis_url=redis_url,
        worker=worker,
        **numbers,
    )


def load_worker_config(environ: Mapping[str, str] | None = None) -> WorkerConfig:
    """Only the worker's variables (see `WorkerConfig`); ConfigError lists their problems."""
    read = _Reader(os.environ if environ is None else environ)
    _, database_url = _database(read)
    worker = _worker(read)
    metrics_token = _metrics_token(read)
    if read.problems:
        raise ConfigError(read.problems)
    return WorkerConfig(database_url=database_url, worker=worker, metrics_token=metrics_token)


def _database(read: _Reader) -> tuple[Path, str]:
    """MIERLOOS_VAR_DIR and DATABASE_URL (by default a SQLite file in the var directory)."""
    var_dir = Path(read.get("MIERLOOS_VAR_DIR", "var") or "var").resolve()
    database_url = normalize_database_url(
        read.get("DATABASE_URL") or f"sqlite:///{var_dir / 'mierloos.db'}"
    )
    if not database_url.startswith(("sqlite", "postgresql")):
        read.problems.append("DATABASE_URL must be a postgresql:// or sqlite:/// URL")
    elif not _valid_database_url(database_url):
        # The URL itself is never repeated: it may hold a password.
        read.problems.append("DATABASE_URL cannot be parsed (is its port a number?)")
    return var_dir, database_url


def _base_url(read: _Reader) -> str:
    base_url = (read.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    parsed = urlparse(base_url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        read.problems.append(
            "BASE_URL must be an absolute http(s) URL, e.g. https://tickets.example.nl"
        )
    return base_url


def _secret_key(read: _Reader, var_dir: Path, *, production: bool) -> str:
    secret_key = read.get("SECRET_KEY")
    if secret_key is None:
        if production:
            read.problems.append(
                "SECRET_KEY is required outside the embedded setup (32+ characters)"
            )
            return ""
        return _embedded_secret(var_dir)
    if len(secret_key) < 32:
        read.problems.append("SECRET_KEY must be at least 32 characters long")
    elif (weakness := secret_key_weakness(secret_key)) is not None:
        read.problems.append(f"SECRET_KEY {weakness}")
    return secret_key


def _object_storage(read: _Reader) -> S3Settings | None:
    """R2 or another S3 API when any of its variables is set; None means local files."""
    r2_account = read.get("R2_ACCOUNT_ID")
    endpoint = read.get("S3_ENDPOINT_URL")
    if not (r2_account or endpoint or read.get("R2_BUCKET_NAME")):
        return None
    missing = [
        name
        for name in ("R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_BUCKET_NAME")
        if not read.get(name)
    ]
    if not (r2_account or endpoint):
        missing.append("R2_ACCOUNT_ID (or S3_ENDPOINT_URL)")
    read.problems.extend(f"{name} is required for object storage" for name in missing)
    if missing:
        return None
    return S3Settings(
        bucket=read.get("R2_BUCKET_NAME") or "",
        access_key_id=read.get("R2_ACCESS_KEY_ID") or "",
        secret_access_key=read.get("R2_SECRET_ACCESS_KEY") or "",
        endpoint_url=endpoint or f"https://{r2_account}.r2.cloudflarestorage.com",
        region=read.get("S3_REGION", "auto") or "auto",
    )


def _mail(read: _Reader) -> tuple[str, SmtpSettings | None]:
    """The sender of every mail, and the SMTP server when SMTP_HOST is set."""
    sender = read.get("SMTP_FROM", "Ons Mierloos Theater <kaarten@localhost>") or ""
    if not read.get("SMTP_HOST"):
        return sender, None
    port = int(read.number("SMTP_PORT", "587", int, 1))
    security = (read.get("SMTP_SECURITY") or ("tls" if port == 465 else "starttls")).lower()
    if security not in {"starttls", "tls", "none"}:
        read.problems.append("SMTP_SECURITY must be starttls, tls or none")
        security = "starttls"
    if not read.get("SMTP_FROM"):
        read.problems.append("SMTP_FROM is required with SMTP_HOST")
    return sender, SmtpSettings(
        host=read.get("SMTP_HOST") or "",
        port=port,
        username=read.get("SMTP_USER"),
        password=read.get("SMTP_PASSWORD"),
        sender=sender,
        security=security,  # type: ignore[arg-type]
    )


def _payments(read: _Reader, base_url: str, *, production: bool) -> tuple[str | None, bool]:
    """MOLLIE_API_KEY, and MIERLOOS_FAKE_PAYMENTS: the fake provider where it is refused."""
    mollie_key = read.get("MOLLIE_API_KEY")
    if mollie_key and not (mollie_key.startswith(("test_", "live_")) and len(mollie_key) >= 30):
        read.problems.append("MOLLIE_API_KEY must look like test_... or live_... (30+ characters)")
    fake_payments = read.flag("MIERLOOS_FAKE_PAYMENTS")
    if mollie_key is None and production and not fake_payments:
        read.problems.append(
            "MOLLIE_API_KEY is required outside the embedded setup"
            " (MIERLOOS_FAKE_PAYMENTS=1 for a demo without payments)"
        )
    elif (
        mollie_key is None
        and not fake_payments
        and not is_loopback_host(urlparse(base_url).hostname or "")
    ):
        # Anyone reaching the site could "pay" on the fake provider's page.
        read.problems.append(
            "MOLLIE_API_KEY is required when BASE_URL is not a loopback address"
            " (MIERLOOS_FAKE_PAYMENTS=1 for a demo without payments)"
        )
    return mollie_key, fake_payments


def _worker(read: _Reader) -> WorkerSettings:
    """The worker's variables, read by every command so each reports them at start-up."""
    handlers = read.get("MIERLOOS_JOB_HANDLERS")
    settings = WorkerSettings(
        polling_interval=float(read.number("WORKER_POLLING_INTERVAL", "5", float, 0.01)),
        max_attempts=int(read.number("WORKER_MAX_ATTEMPTS", "5", int, 1)),
        lease_seconds=read.number("WORKER_LEASE_SECONDS", "60", float, 0.5),
        shutdown_timeout=read.number("WORKER_SHUTDOWN_TIMEOUT", "600", float, 1),
        orphaned_order_cleanup_period=read.number("ORPHANED_ORDER_CLEANUP_PERIOD", "300", float, 0),
        refund_follow_up_period=read.number("REFUND_FOLLOW_UP_PERIOD", "600", float, 0),
        jobs_retention_days=read.number("JOBS_RETENTION_DAYS", "30", float, 0),
        waitlist_retention_days=read.number("WAITLIST_RETENTION_DAYS", "30", float, 0),
        stuck_seconds=read.number("WORKER_STUCK_SECONDS", "30", float, 1),
        health_port=int(read.number("PORT", "8080", int, 0, 65535)),
        health_host=read.get("HEALTH_HOST", "0.0.0.0") or "0.0.0.0",  # noqa: S104
        job_handlers=handlers or DEFAULT_JOB_HANDLERS,
    )
    if handlers is not None and not _valid_reference(handlers):
        read.problems.append("MIERLOOS_JOB_HANDLERS must be module.path:function")
    return settings


def _metrics_token(read: _Reader) -> str | None:
    token = read.get("METRICS_TOKEN")
    if token is not None and len(token) < 16:
        read.problems.append("METRICS_TOKEN must be at least 16 characters long")
    return token


def _valid_reference(reference: str) -> bool:
    module, _, function = reference.partition(":")
    return all(part.isidentifier() for part in module.split(".")) and (
        not function or function.isidentifier()
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
