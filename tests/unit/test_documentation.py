"""The README tells the whole truth: its settings table is the code's, and it names every
setting the code reads and every command and flag of `mierloos`."""

from __future__ import annotations

import re
from pathlib import Path

import click

from mierloos_entrypoints.cli import main
from mierloos_entrypoints.config import SETTING_NAMES, settings_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Reads of the environment: os.environ.get("X"), os.environ["X"], _env("X", ...), get("X", ...).
READS = re.compile(
    r"""(?:environ\.get|environ\[|_env\w*|\bget|getenv)\(?\s*["']([A-Z][A-Z0-9_]{2,})["']"""
)


def test_the_readme_settings_table_is_rendered_from_the_settings_list() -> None:
    table = settings_table()
    assert table in README, (
        "README's configuration table differs from SETTINGS in config.py; paste the output of\n"
        "python -c 'from mierloos_entrypoints.config import settings_table as t; print(t())'"
    )


def test_every_variable_the_code_reads_is_a_documented_setting() -> None:
    read = {
        name
        for path in (ROOT / "src").rglob("*.py")
        for name in READS.findall(path.read_text(encoding="utf-8"))
    }
    assert read, "the pattern found no reads at all"
    assert read <= SETTING_NAMES, sorted(read - SETTING_NAMES)


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += _commands(command, path)
    return found


def test_every_command_and_flag_is_in_the_readme() -> None:
    missing = []
    for path, command in _commands(main, "mierloos"):
        if f"`{path}" not in README and f"{path} " not in README:
            missing.append(path)
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                flags = parameter.opts + parameter.secondary_opts
                if not any(flag in README for flag in flags if flag.startswith("--")):
                    missing.append(f"{path} {'/'.join(flags)}")
    assert missing == []
