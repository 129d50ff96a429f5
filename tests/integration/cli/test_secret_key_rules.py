"""SECRET_KEY values anyone could guess are refused at start-up (exit 2)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.integration.cli.test_cli_commands import run

COMPOSE_DEFAULT = "change-me-to-a-long-random-string-of-48-chars"


@pytest.mark.parametrize(
    "key", [COMPOSE_DEFAULT, "a" * 40, "abababababababababababababababab12", "0123456789" * 4]
)
def test_placeholder_and_low_entropy_keys_are_refused(tmp_path: Path, key: str) -> None:
    answer = run(tmp_path, "migrate", SECRET_KEY=key)
    assert answer.exit_code == 2
    assert "SECRET_KEY is a placeholder" in answer.output or (
        "SECRET_KEY is too predictable" in answer.output
    )
    assert key not in answer.output


def test_a_random_key_is_accepted(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate", SECRET_KEY=secrets.token_urlsafe(48)).exit_code == 0
