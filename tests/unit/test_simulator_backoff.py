"""Reconnect back-off (2.0.1 Part 4 §5.3): doubling, capped doublings, random part."""

from __future__ import annotations

import itertools

import pytest

from simulators.backoff import BackoffPolicy


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 0.0, 2.0),  # the first reconnect: the minimum
        (0, 0.5, 3.5),  # plus the random part
        (1, 0.0, 4.0),
        (2, 0.0, 8.0),
        (3, 0.0, 16.0),
        (4, 0.0, 16.0),  # doubled RepeatTimes (3) times, then it stays
        (40, 0.999, 16.0 + 2.997),
        (-1, 0.0, 2.0),
    ],
)
def test_delay(attempt: int, rand: float, expected: float) -> None:
    policy = BackoffPolicy(wait_minimum=2.0, random_range=3.0, repeat_times=3)
    assert policy.delay(attempt, rand) == pytest.approx(expected)


def test_schedule_without_randomness_is_the_doubling_series() -> None:
    policy = BackoffPolicy(wait_minimum=1.0, random_range=10.0, repeat_times=4)
    waits = list(itertools.islice(policy.schedule(lambda: 0.0), 7))
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0]


def test_random_part_spreads_a_fleet() -> None:
    policy = BackoffPolicy(wait_minimum=1.0, random_range=4.0, repeat_times=0)
    draws = iter([0.0, 0.25, 0.5, 0.999])
    waits = list(itertools.islice(policy.schedule(lambda: next(draws)), 4))
    assert waits == pytest.approx([1.0, 2.0, 3.0, 4.996])


def test_maximum_caps_everything() -> None:
    policy = BackoffPolicy(wait_minimum=100.0, random_range=0.0, repeat_times=10, maximum=300.0)
    assert policy.delay(5, 0.0) == 300.0


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(wait_minimum=-1)
