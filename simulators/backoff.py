"""Reconnect back-off: exponential with a random part, as 2.0.1 OCPPCommCtrlr.RetryBackOff* says.

2.0.1 Part 4 §5.3 (reconnecting): the first attempt waits RetryBackOffWaitMinimum plus a random
value up to RetryBackOffRandomRange; each failed attempt doubles the previous wait, at most
RetryBackOffRepeatTimes times, always with a new random part. 1.6 leaves it open; the 1.6 station
uses the same rule so a fleet does not reconnect in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    wait_minimum: float = 3.0  # seconds before the first attempt, without the random part
    random_range: float = 3.0  # the random part is uniform in [0, random_range)
    repeat_times: int = 5  # how often the wait doubles before it stays put
    maximum: float = 600.0  # never wait longer than this, whatever the settings

    def __post_init__(self) -> None:
        if self.wait_minimum < 0 or self.random_range < 0 or self.repeat_times < 0:
            raise ValueError("back-off settings cannot be negative")

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait before reconnect attempt `attempt` (0 = the first); rand in [0, 1)."""
        doublings = min(max(attempt, 0), self.repeat_times)
        return float(min(self.maximum, self.wait_minimum * 2**doublings + rand * self.random_range))

    def schedule(self, rand: Callable[[], float] | None = None) -> Iterator[float]:
        """The endless sequence of waits for attempts 0, 1, 2, ..."""
        draw = rand or random.random
        attempt = 0
        while True:
            yield self.delay(attempt, draw())
            attempt += 1
