"""The `mierloos` command: one entry point for running and operating the theatre's ticketing.

Exit codes: 0 done, 1 an operation failed (a dependency down, a job not retryable, ...),
2 a usage or configuration error. Configuration problems are printed one per line, without
secrets and without a traceback.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Any

import click

from mierloos_entrypoints.cli_jobs import jobs
from mierloos_entrypoints.cli_reports import report
from mierloos_entrypoints.cli_support import (
    FAILED,
    USAGE_ERROR,
    fail,
    migrated_container,
    operation,
    settings_or_exit,
)
from mierloos_entrypoints.config import Settings, is_loopback_host

if TYPE_CHECKING:
    from mierloos_entrypoints.container import Container

_log_level = click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
    default=None,
    help="Log level of the site, the worker and SQLAlchemy (default: LOG_LEVEL, else INFO).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mierloos", message="mierloos %(version)s")
def main() -> None:
    """Ons Mierloos Theater: tickets, payments and the jobs behind them.

    Configured by environment variables (see README.md); with none set everything runs
    embedded under ./var (or MIERLOOS_VAR_DIR).
    """


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = settings_or_exit()
    click.echo("migrating the database...")
    migrated_container(settings, migrate=True)
    click.echo("database is up to date")


@main.command("demo-data")
def demo_data() -> None:
    """Load a few demo shows (only into an empty catalogue)."""
    from mierloos_entrypoints.demo import load_demo_data

    container = migrated_container(settings_or_exit())
    with operation("loading demo data"):
        added = load_demo_data(container.uow, container.clock().now(), container.images())
    click.echo("demo data loaded" if added else "the catalogue has shows already; nothing added")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Load demo shows and a demo staff login (default: when embedded).",
)
@click.option(
    "--worker/--no-worker",
    default=None,
    help="Run a job worker inside the web process (default: when embedded).",
)
@click.option(
    "--worker-threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 4),
    help="Threads of the worker inside the web process.",
)
@_log_level
def serve(
    host: str,
    port: int,
    demo: bool | None,
    worker: bool | None,
    worker_threads: int,
    log_level: str | None,
) -> None:
    """Run the web site (and, when embedded, a worker inside it) until SIGTERM or Ctrl-C.

    Without BASE_URL the site's links point at http://HOST:PORT (127.0.0.1 for 0.0.0.0).
    """
    import attrs
    import uvicorn

    from mierloos_entrypoints.log_redaction import uvicorn_log_config
    from mierloos_entrypoints.observability import configure_logging
    from mierloos_entrypoints.web.app import create_app

    configure_logging(level=log_level)
    listening = _bind(host, port)  # first: a taken port is one line, before any other work
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a display
    defaults = {} if os.environ.get("BASE_URL", "").strip() else {"BASE_URL": _url(local, port)}
    settings = settings_or_exit(defaults)
    if (
        settings.mollie_api_key is None
        and not settings.fake_payments
        and not is_loopback_host(host)
    ):
        click.echo("configuration problems:", err=True)
        click.echo(
            f"- MOLLIE_API_KEY is required when the site listens on {host}"
            " (MIERLOOS_FAKE_PAYMENTS=1 for a demo without payments)",
            err=True,
        )
        sys.exit(USAGE_ERROR)
    container = migrated_container(settings)
    if demo if demo is not None else settings.is_embedded:
        _load_demo(container, settings)
    run_worker_here = settings.embedded_worker if worker is None else worker
    for line in attrs.evolve(settings, embedded_worker=run_worker_here).describe():
        click.echo(f"  {line}")
    lifespan = None
    if run_worker_here:
        from mierloos_entrypoints.embedded_worker import EmbeddedWorker, worker_lifespan

        lifespan = worker_lifespan(EmbeddedWorker(container, threads=worker_threads))
    app = create_app(container, lifespan=lifespan)
    click.echo(f"Ons Mierloos Theater is open at {settings.base_url}")
    # uvicorn's own loggers, with reset tokens cut out of the access log and errors.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=logging_level_name(log_level),
        log_config=uvicorn_log_config(),
        proxy_headers=True,
        lifespan="on",
    )
    _clean_stop_server(config).run(sockets=[listening])


def logging_level_name(given: str | None) -> str:
    return (given or os.environ.get("LOG_LEVEL", "").strip() or "info").lower()


def _bind(host: str, port: int) -> socket.socket:
    """The site's listening socket, or one line and exit 1 when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        fail(f"cannot listen on {host}:{port}: {error.strerror} (is another server running?)")
    listening.set_inheritable(True)
    return listening


def _clean_stop_server(config: Any) -> Any:
    import uvicorn

    class CleanStopServer(uvicorn.Server):
        """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown (exit 143/130); a
        stop asked for is a clean stop here, so `serve` exits 0."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return CleanStopServer(config)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _load_demo(container: Container, settings: Settings) -> None:
    from mierloos_entrypoints.demo import ensure_demo_staff, load_demo_data

    with operation("loading demo data"):
        if load_demo_data(container.uow, container.clock().now(), container.images()):
            click.echo("demo shows loaded")
        login = ensure_demo_staff(container.uow, container.accounts(), settings.var_dir)
    if login.password is not None:
        click.echo(f"  staff login: {login.email} / {login.password}  (also in {login.file})")
    else:
        click.echo(f"  staff login: {login.email}, password in {login.file}")


@main.command()
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port of /health and /metrics (default: PORT, else 8080; 0 = none).",
)
@click.option(
    "--queue", "queues", multiple=True, help="Only these queues (repeatable; default: all)."
)
@_log_level
def worker(
    processes: int, threads: int, port: int | None, queues: tuple[str, ...], log_level: str | None
) -> None:
    """Run background jobs until SIGTERM: finishes or hands back the jobs in hand, then exits.

    More settings (lease, shutdown timeout, health address) are read from the environment:
    see `python -m mierloos_entrypoints.worker --help`.
    """
    # Every setting, the worker's own included: its problems are reported before starting.
    settings_or_exit()
    from mierloos_entrypoints.observability import configure_logging
    from mierloos_entrypoints.worker import PortInUse, run_worker

    if log_level:
        os.environ["LOG_LEVEL"] = log_level.upper()  # worker processes read it too
    configure_logging()
    click.echo(f"starting {processes} worker process(es) with {threads} thread(s) each")
    try:
        status = run_worker(processes, threads, port=port, queues=list(queues) or None)
    except PortInUse as error:
        fail(f"{error}; choose another with --port or PORT")
    sys.exit(status)


@main.command("create-staff")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
@click.option(
    "--role",
    type=click.Choice(["admin", "kassa", "deur"]),
    default="admin",
    show_default=True,
    help="admin: everything; kassa: counter, orders and door; deur: door only.",
)
def create_staff(email: str, name: str, password_stdin: bool, role: str) -> None:
    """Create a staff account (or make an existing account staff) with a role."""
    from mierloos_core.errors import MierloosError, ValidationError
    from mierloos_core.model.accounts import Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    container = migrated_container(settings_or_exit())
    with operation("creating the account"):
        try:
            user = container.accounts().create_staff(email, name, password, role=Role(role))
        except ValidationError as error:
            click.echo(f"error: {error.message}", err=True)
            sys.exit(USAGE_ERROR)
        except MierloosError as error:
            fail(error.message)
    click.echo(f"staff account ready: {user.email} ({user.role.value})")


@main.command()
def check() -> None:
    """Check the configuration and that every dependency answers. Exit 1 if one does not."""
    from mierloos_entrypoints.checks import run_checks

    settings = settings_or_exit()
    failures = 0
    for name, ok, detail in run_checks(settings):
        failures += not ok
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    sys.exit(FAILED if failures else 0)


main.add_command(jobs)
main.add_command(report)

if __name__ == "__main__":
    main()
