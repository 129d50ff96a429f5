"""What every `mierloos` command shares: settings, exit codes, one-line failures."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import click

from mierloos_entrypoints.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from mierloos_entrypoints.container import Container

USAGE_ERROR = 2
FAILED = 1


def settings_or_exit(overrides: dict[str, str] | None = None) -> Settings:
    try:
        return load_settings({**os.environ, **(overrides or {})})
    except ConfigError as error:
        click.echo("configuration problems:", err=True)
        for problem in error.problems:
            click.echo(f"- {problem}", err=True)
        sys.exit(USAGE_ERROR)


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(FAILED)


def describe_error(error: BaseException) -> str:
    """The error's type and first line: enough to act on, never a traceback."""
    first_line = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


@contextlib.contextmanager
def operation(what: str) -> Iterator[None]:
    """Any failure inside is reported in one line and ends the command with exit code 1."""
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
        raise
    except Exception as error:
        fail(f"{what} failed: {describe_error(error)}")


def migrated_container(settings: Settings, *, migrate: bool | None = None) -> Container:
    """The container over an up-to-date schema.

    Only `mierloos migrate` and the embedded setup change the schema; any other command
    refuses a schema older than this release (exit 1), so a rolling release never migrates
    under the previous release's workers.
    """
    from mierloos_adapters.migrations import schema_behind, upgrade
    from mierloos_entrypoints.container import build_container

    container = build_container(settings)
    if settings.is_embedded if migrate is None else migrate:
        with operation("migrating the database"):
            upgrade(container.engine())
        return container
    with operation("reading the database's schema revision"):
        behind = schema_behind(container.engine())
    if behind is not None:
        fail(behind)
    return container
