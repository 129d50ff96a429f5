"""The `mierloos` command: one entry point for running and operating the theatre's ticketing."""

from __future__ import annotations

import sys

import click

from mierloos_entrypoints.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


@click.group()
def main() -> None:
    """Ons Mierloos Theater: tickets, payments and the jobs behind them."""


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from mierloos_adapters.migrations import upgrade
    from mierloos_entrypoints.container import build_container

    container = build_container(_settings())
    upgrade(container.engine())
    click.echo("database is up to date")


@main.command("demo-data")
def demo_data() -> None:
    """Load a few demo shows (only into an empty catalogue)."""
    from mierloos_adapters.migrations import upgrade
    from mierloos_entrypoints.container import build_container
    from mierloos_entrypoints.demo import load_demo_data

    container = build_container(_settings())
    upgrade(container.engine())
    added = load_demo_data(container.uow, container.clock().now())
    click.echo("demo data loaded" if added else "the catalogue has shows already; nothing added")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo/--no-demo", default=None, help="Load demo data (default: when embedded).")
def serve(host: str, port: int, demo: bool | None) -> None:
    """Run the web site (and, when embedded, a worker inside it)."""
    import uvicorn

    from mierloos_adapters.migrations import upgrade
    from mierloos_entrypoints.container import build_container
    from mierloos_entrypoints.demo import load_demo_data
    from mierloos_entrypoints.log_redaction import uvicorn_log_config
    from mierloos_entrypoints.observability import configure_logging
    from mierloos_entrypoints.web.app import create_app

    configure_logging(json_lines=not sys.stderr.isatty())
    settings = _settings()
    container = build_container(settings)
    upgrade(container.engine())
    if demo if demo is not None else settings.is_embedded:
        load_demo_data(container.uow, container.clock().now())
    for line in settings.describe():
        click.echo(f"  {line}")
    app = create_app(container)
    click.echo(f"Ons Mierloos Theater is open at {settings.base_url}")
    # uvicorn's own loggers, with reset tokens cut out of the access log and errors.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=uvicorn_log_config(),
        proxy_headers=True,
    )


@main.command("create-staff")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
def create_staff(email: str, name: str, password_stdin: bool) -> None:
    """Create a staff account (or make an existing account staff)."""
    from mierloos_adapters.migrations import upgrade
    from mierloos_core.errors import MierloosError
    from mierloos_entrypoints.container import build_container

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    container = build_container(_settings())
    upgrade(container.engine())
    try:
        user = container.accounts().create_staff(email, name, password)
    except MierloosError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"staff account ready: {user.email}")


@main.command()
def check() -> None:
    """Check the configuration and that every dependency answers. Exit 1 if one does not."""
    from mierloos_entrypoints.checks import run_checks

    settings = _settings()
    failures = 0
    for name, ok, detail in run_checks(settings):
        failures += not ok
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
