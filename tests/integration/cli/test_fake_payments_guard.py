"""The fake payment provider (anyone can "pay") never runs on a site others can reach."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from mierloos_entrypoints.config import ConfigError, load_settings
from mierloos_entrypoints.container import build_container
from tests.integration.cli.test_cli_commands import run
from tests.integration.web.web_support import settings_for

PUBLIC = "https://tickets.example.nl"


def test_serve_refuses_a_public_base_url_on_sqlite_without_mollie(tmp_path: Path) -> None:
    answer = run(
        tmp_path,
        "serve",
        "--no-demo",
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.db'}",
        BASE_URL=PUBLIC,
        MOLLIE_API_KEY=None,
        MIERLOOS_FAKE_PAYMENTS=None,
    )
    assert answer.exit_code == 2
    assert "MOLLIE_API_KEY is required when BASE_URL is not a loopback address" in answer.output


def test_serve_refuses_the_fake_provider_on_a_public_listening_address(tmp_path: Path) -> None:
    answer = run(
        tmp_path, "serve", "--host", "0.0.0.0", MOLLIE_API_KEY=None, MIERLOOS_FAKE_PAYMENTS=None
    )
    assert answer.exit_code == 2
    assert "MOLLIE_API_KEY is required when the site listens on 0.0.0.0" in answer.output


@pytest.mark.parametrize("base_url", [None, "http://127.0.0.1:8000", "http://localhost:9000"])
def test_the_local_embedded_site_keeps_its_fake_provider(tmp_path: Path, base_url) -> None:
    env = {"MIERLOOS_VAR_DIR": str(tmp_path)}
    if base_url:
        env["BASE_URL"] = base_url
    assert load_settings(env).fake_payments_allowed


def test_asking_for_fake_payments_by_name_allows_a_public_demo(tmp_path: Path) -> None:
    env = {"MIERLOOS_VAR_DIR": str(tmp_path), "BASE_URL": PUBLIC, "MIERLOOS_FAKE_PAYMENTS": "1"}
    assert load_settings(env).fake_payments_allowed


def test_settings_built_by_hand_cannot_slip_past_the_rule(tmp_path: Path) -> None:
    container = build_container(attrs.evolve(settings_for(tmp_path), base_url=PUBLIC))
    with pytest.raises(ConfigError, match="MOLLIE_API_KEY"):
        container.payment_gateway()
