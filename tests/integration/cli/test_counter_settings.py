"""The counter's two settings: read from the environment, bounded, and handed to its service."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mierloos_entrypoints.config import ConfigError, load_settings
from mierloos_entrypoints.container import build_container


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"MIERLOOS_VAR_DIR": str(tmp_path), **values}


def test_the_counter_policy_follows_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        environment(
            tmp_path,
            PHONE_BOOKING_PAY_BEFORE_MINUTES="45",
            COUNTER_SALES_AFTER_START_MINUTES="0",
        )
    )
    policy = build_container(settings).counter().policy
    assert policy.phone_hold_until == timedelta(minutes=45)
    assert policy.sells_after_start == timedelta(0)


def test_the_defaults_are_half_an_hour_each(tmp_path: Path) -> None:
    policy = build_container(load_settings(environment(tmp_path))).counter().policy
    assert policy.phone_hold_until == policy.sells_after_start == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PHONE_BOOKING_PAY_BEFORE_MINUTES", "-1"),
        ("PHONE_BOOKING_PAY_BEFORE_MINUTES", "1441"),
        ("COUNTER_SALES_AFTER_START_MINUTES", "241"),
        ("COUNTER_SALES_AFTER_START_MINUTES", "een half uur"),
    ],
)
def test_values_out_of_range_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(environment(tmp_path, **{name: value}))
    assert name in str(refused.value)
