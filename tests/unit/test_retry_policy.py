from datetime import timedelta

import pytest

from mierloos_core.model.jobs import RetryPolicy


def test_default_policy_doubles_from_five_seconds_and_gives_up_after_five_attempts():
    policy = RetryPolicy()
    delays = [policy.delay_after(n).total_seconds() for n in range(1, 5)]
    assert delays == [5, 10, 20, 40]
    assert [policy.gives_up_after(n) for n in range(1, 6)] == [False] * 4 + [True]


def test_delays_are_capped_at_five_minutes():
    policy = RetryPolicy(max_attempts=20)
    assert policy.delay_after(7) == timedelta(minutes=5)
    assert policy.delay_after(10_000) == timedelta(minutes=5)


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError, match="retry"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy().delay_after(0)
