"""Retry delays: geometric from the initial interval, capped at max_interval."""
from __future__ import annotations

import pytest

from runtime.connectors.retry import duration_seconds, max_attempts, next_delay, retries_left


def test_pt1s_coefficient_2_doubles_up_to_the_five_minute_default_cap():
    policy = {"retries": 20, "retry_backoff": "PT1S"}

    assert [next_delay(policy, n) for n in range(1, 12)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_coefficient_and_cap_from_the_policy():
    policy = {"retry_backoff": "PT0.5S", "backoff_coefficient": 3, "max_interval": "PT10S"}

    assert [next_delay(policy, n) for n in range(1, 6)] == [0.5, 1.5, 4.5, 10, 10]


def test_coefficient_one_is_a_constant_interval_and_huge_attempts_stay_capped():
    assert next_delay({"retry_backoff": "PT2S", "backoff_coefficient": 1}, 50) == 2
    assert next_delay({"retry_backoff": "PT1S"}, 10_000) == 300


def test_defaults_and_bad_input():
    assert next_delay({}, 1) == 1.0
    with pytest.raises(ValueError):
        next_delay({}, 0)
    with pytest.raises(ValueError):
        next_delay({"backoff_coefficient": 0.5}, 1)
    with pytest.raises(ValueError):
        next_delay({"retry_backoff": "soon"}, 1)


def test_retries_count_after_the_first_attempt():
    policy = {"retries": 3}
    assert max_attempts(policy) == 4
    assert [retries_left(policy, n) for n in (1, 2, 3, 4)] == [True, True, True, False]
    assert max_attempts({"retries": 0}) == 1


def test_duration_seconds():
    assert duration_seconds("PT30S") == 30
    assert duration_seconds("PT1M30S") == 90
    assert duration_seconds(2.5) == 2.5
    assert duration_seconds(None, "PT1S") == 1
    with pytest.raises(ValueError):
        duration_seconds("-PT1S")
