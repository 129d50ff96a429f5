"""`mierloos --version` names the installed release and exits 0."""

from __future__ import annotations

import importlib.metadata

from click.testing import CliRunner

from mierloos_entrypoints.cli import main


def test_version_is_the_installed_release() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"mierloos {importlib.metadata.version('mierloos')}\n"
