"""Configuration from environment variables, validated at start-up.

With nothing set, everything runs embedded: SQLite under ./var, files under ./var/storage,
mail as .eml files in ./var/outbox, the fake payment provider, a worker inside the web process.
Every problem is reported in one ConfigError, one line per variable, never with a secret.
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
from mierloos_entrypoints.log_settings import logging_problems

StorageKind = Literal["local", "s3"]


@attrs.frozen
class Setting:
    name: str
    meaning: str


#: Every environment variable mierloos reads, in the order of the README's table, which is
#: rendered from this list (`settings_table`; a test keeps the two equal).
SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "`postgresql://user:pass@host/db` (psycopg 3) or `sqlite:///path`"),
    Setting(
        "SECRET_KEY",
        "signs the session cookie; required outside the embedded setup, 32+ characters, 16+"
        " different ones and no placeholder (`change-me…`): those are refused",
    ),
    Setting(
        "BASE_URL",
        "the site's public URL, used in payment redirects, webhooks and e-mails; without it"
        " `serve` uses `http://HOST:PORT` of its `--host`/`--port` (127.0.0.1 for 0.0.0.0)",
    ),
    Setting("R2_ACCOUNT_ID", "Cloudflare R2 account for tickets and images"),
    Setting("R2_ACCESS_KEY_ID", "R2 (or S3) API token's access key id"),
    Setting("R2_SECRET_ACCESS_KEY", "R2 (or S3) API token's secret"),
    Setting("R2_BUCKET_NAME", "the bucket for tickets and images"),
    Setting(
        "S3_ENDPOINT_URL",
        "any other S3 API instead of R2's default endpoint (MinIO, AWS, or R2's EU"
        " jurisdiction: `https://ACCOUNT_ID.eu.r2.cloudflarestorage.com`)",
    ),
    Setting("S3_REGION", "the S3 region (default `auto`, right for R2)"),
    Setting(
        "MIERLOOS_LOCAL_STORAGE",
        "`1`: files under `MIERLOOS_VAR_DIR/storage` outside the"
        " embedded setup, chosen on purpose (else `mierloos check` fails without R2/S3)",
    ),
    Setting(
        "MOLLIE_API_KEY",
        "`test_…` or `live_…`; without it the fake provider is used only by an embedded site for"
        " this machine alone (listening on loopback, `BASE_URL` unset or loopback); anywhere else"
        " it is required (exit 2)",
    ),
    Setting("MOLLIE_API_ENDPOINT", "another Mollie API address (tests; default Mollie's own)"),
    Setting(
        "MIERLOOS_FAKE_PAYMENTS",
        '`1`: the fake provider (anyone can "pay") outside the embedded setup, for demos and'
        " tests only; `mierloos check` warns",
    ),
    Setting(
        "SMTP_HOST", "outgoing mail server; without it mail is written to `MIERLOOS_VAR_DIR/outbox`"
    ),
    Setting("SMTP_PORT", "its port (default 587)"),
    Setting("SMTP_USER", "its login, if it needs one"),
    Setting("SMTP_PASSWORD", "its password"),
    Setting("SMTP_FROM", "the sender of every mail, required with `SMTP_HOST`"),
    Setting("SMTP_SECURITY", "`starttls` (default), `tls` (default on port 465) or `none`"),
    Setting(
        "MIERLOOS_FILE_MAILER",
        "`1`: mail as `.eml` files outside the embedded setup, chosen"
        " on purpose (else `mierloos check` fails without `SMTP_HOST`)",
    ),
    Setting(
        "WORKER_POLLING_INTERVAL", "base seconds for job retry backoff and idle polling (default 5)"
    ),
    Setting("WORKER_MAX_ATTEMPTS", "attempts before a job is marked failed (default 5)"),
    Setting(
        "WORKER_LEASE_SECONDS",
        "how long a worker's claim on a job lasts unless renewed (default 60)",
    ),
    Setting(
        "WORKER_SHUTDOWN_TIMEOUT",
        "seconds a worker waits on SIGTERM for its jobs before handing them back (default 600)",
    ),
    Setting(
        "WORKER_STUCK_SECONDS",
        "the worker's `/health` is 503 when it has free threads but has claimed nothing for this"
        " long while a job has been ready as long (default 30)",
    ),
    Setting(
        "ORDER_TTL_MINUTES",
        "how long an unpaid order holds its seats (default 15); longer only when the payment"
        " provider names a later expiry for its payment (then that, plus 5 minutes)",
    ),
    Setting(
        "CHECKOUTS_PER_CLIENT",
        "orders one client address may place per 10 minutes (default 20, 0 = no limit)",
    ),
    Setting(
        "MAX_UNPAID_TICKETS_PER_PERFORMANCE",
        "unpaid tickets one e-mail address, and one client address, may hold per performance;"
        " a checkout past it is refused (default 10, 0 = no limit)",
    ),
    Setting(
        "FORWARDED_ALLOW_IPS",
        "addresses of proxies whose `X-Forwarded-For` is believed (read by uvicorn; default"
        " 127.0.0.1); set it to the proxy's address when it runs on another host",
    ),
    Setting(
        "ORPHANED_ORDER_CLEANUP_PERIOD",
        "seconds between the worker's looks for unpaid orders past their expiry (default 300,"
        " 0 = never)",
    ),
    Setting(
        "REFUND_FOLLOW_UP_PERIOD",
        "seconds between the worker's looks at unfinished refunds (default 600, 0 = never)",
    ),
    Setting(
        "JOBS_RETENTION_DAYS",
        "completed jobs older than this many days are purged by the worker once a day"
        " (default 30, 0 = never); failed, pending and running jobs stay",
    ),
    Setting(
        "METRICS_TOKEN",
        "bearer token for the site's and the worker's `/metrics` (16+ characters); without it"
        " only loopback clients get them",
    ),
    Setting("PORT", "the worker's `/health` and `/metrics` port (default 8080, 0 = none)"),
    Setting("HEALTH_HOST", "the address the worker's `/health` listens on (default 0.0.0.0)"),
    Setting(
        "MIERLOOS_EMBEDDED_WORKER",
        "`1`/`0`: run a worker inside `mierloos serve` (default: only when embedded)",
    ),
    Setting("MIERLOOS_VAR_DIR", "the embedded setup's directory (default `./var`)"),
    Setting(
        "MIERLOOS_JOB_HANDLERS",
        "`module:function` building the worker's job handlers (default the composition root's)",
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "where worker processes share metrics (default a temporary directory per worker)",
    ),
    Setting(
        "REDIS_URL",
        "`redis://host:6379/0`: keep the login and request throttle counters in Redis instead of"
        " the database",
    ),
    Setting(
        "LOG_LEVEL",
        "`DEBUG`, `INFO` (default), `WARNING`, `ERROR` or `CRITICAL`, for the site, the worker,"
        " Dramatiq and SQLAlchemy (`DEBUG` also logs SQLAlchemy's statements); `--log-level` on"
        " `serve` and `worker` overrides it",
    ),
    Setting(
        "LOG_FORMAT",
        "`json` (one JSON object per line) or `text`; default `json` outside the embedded setup,"
        " `text` inside it",
    ),
)
SETTING_NAMES = frozenset(setting.name for setting in SETTINGS)


def settings_table() -> str:
    """The README's table of settings, rendered from `SETTINGS`."""
    rows = ["| variable | meaning |", "| --- | --- |"]
    rows += [f"| `{setting.name}` | {setting.meaning} |" for setting in SETTINGS]
    return "\n".join(rows)


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
    max_unpaid_tickets_per_performance: int = 10
    """Unpaid tickets one e-mail or client address may hold per performance; 0 = no limit."""
    local_storage: bool = False
    """MIERLOOS_LOCAL_STORAGE=1: files under var outside the embedded setup, on purpose."""
    file_mailer: bool = False
    """MIERLOOS_FILE_MAILER=1: .eml files outside the embedded setup, on purpose."""
    redis_url: str | None = attrs.field(default=None, repr=False)
    """REDIS_URL: throttle counters in Redis instead of the database."""

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


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []

    def get(name: str, default: str | None = None) -> str | None:
        if name not in SETTING_NAMES:  # every setting is documented in SETTINGS
            raise KeyError(name)
        value = env.get(name, "").strip()
        return value or default

    def number(
        name: str,
        default: str,
        kind: type[int] | type[float],
        low: float,
        high: float = math.inf,
    ) -> float:
        raw = get(name, default) or default
        try:
            value = kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            problems.append(f"{name} must be {what}, got {raw[:40]!r}")
            return kind(default)
        if not math.isfinite(value) or not low <= value <= high:
            bounds = f"at least {low:g}" if high == math.inf else f"from {low:g} to {high:g}"
            problems.append(f"{name} must be {bounds}, got {raw[:40]!r}")
            return kind(default)
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
    elif mollie_key is None and not fake_payments and not is_loopback_host(parsed.hostname or ""):
        # Anyone reaching the site could "pay" on the fake provider's page.
        problems.append(
            "MOLLIE_API_KEY is required when BASE_URL is not a loopback address"
            " (MIERLOOS_FAKE_PAYMENTS=1 for a demo without payments)"
        )

    polling = float(number("WORKER_POLLING_INTERVAL", "5", float, 0.01))
    attempts = int(number("WORKER_MAX_ATTEMPTS", "5", int, 1))
    ttl = int(number("ORDER_TTL_MINUTES", "15", int, 1))
    checkouts_per_client = int(number("CHECKOUTS_PER_CLIENT", "20", int, 0))
    max_unpaid = int(number("MAX_UNPAID_TICKETS_PER_PERFORMANCE", "10", int, 0))
    # The worker's own settings, checked here too so every command reports them at start-up.
    number("WORKER_LEASE_SECONDS", "60", float, 0.5)
    number("WORKER_SHUTDOWN_TIMEOUT", "600", float, 1)
    number("ORPHANED_ORDER_CLEANUP_PERIOD", "300", float, 0)
    number("REFUND_FOLLOW_UP_PERIOD", "600", float, 0)
    number("JOBS_RETENTION_DAYS", "30", float, 0)
    number("WORKER_STUCK_SECONDS", "30", float, 1)
    number("PORT", "8080", int, 0, 65535)
    handlers = get("MIERLOOS_JOB_HANDLERS")
    if handlers is not None and not _valid_reference(handlers):
        problems.append("MIERLOOS_JOB_HANDLERS must be module.path:function")
    metrics_token = get("METRICS_TOKEN")
    if metrics_token is not None and len(metrics_token) < 16:
        problems.append("METRICS_TOKEN must be at least 16 characters long")

    redis_url = get("REDIS_URL")
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append("REDIS_URL must be a redis://, rediss:// or unix:// URL")

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
        max_unpaid_tickets_per_performance=max_unpaid,
        local_storage=_flag(get("MIERLOOS_LOCAL_STORAGE", "0") or "0"),
        file_mailer=_flag(get("MIERLOOS_FILE_MAILER", "0") or "0"),
        redis_url=redis_url,
    )


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
