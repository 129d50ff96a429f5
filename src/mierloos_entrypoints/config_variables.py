"""Every environment variable mierloos reads, with its meaning: the README's settings table.

`config.load_settings` reads only the names listed here, so a new variable is documented before
it can be read.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Setting:
    name: str
    meaning: str


#: Every environment variable mierloos reads, in the order of the README's table, which is
#: rendered from this list (`settings_table`; a test keeps the two equal).
SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "`postgresql://user:pass@host/db` (psycopg 3) or `sqlite:///path`"),
    Setting(
        "DATABASE_POOL_SIZE",
        "PostgreSQL connections each web or worker process keeps open (default 10); a request"
        " finding all in use waits for one. Keep processes x size under the server's"
        " max_connections",
    ),
    Setting(
        "WEB_THREADS",
        "threads each web process runs the requests' database work, file reads and PDF printing"
        " on (default 10); more than DATABASE_POOL_SIZE only wait for a connection",
    ),
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
        "WAITLIST_OFFER_HOURS",
        "how long a waiting-list offer holds its seats for the visitor, in hours (default 24;"
        " never past the performance's start)",
    ),
    Setting(
        "ORDER_TTL_MINUTES",
        "how long an unpaid order holds its seats (default 15); longer only when the payment"
        " provider names a later expiry for its payment (then that, plus 5 minutes)",
    ),
    Setting(
        "PHONE_BOOKING_PAY_BEFORE_MINUTES",
        "a phone booking holds its seats until this many minutes before the performance starts;"
        " unpaid by then, they go back on sale (default 30, 0-1440)",
    ),
    Setting(
        "COUNTER_SALES_AFTER_START_MINUTES",
        "the counter may still sell a performance this many minutes after its start, for"
        " latecomers (default 30, 0-240)",
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
        "WAITLIST_RETENTION_DAYS",
        "waiting-list entries (e-mail addresses) are deleted by the worker once a day when their"
        " performance started more than this many days ago (default 30, 0 = never)",
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
