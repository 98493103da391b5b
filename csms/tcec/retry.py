"""When to try a push again: a few tries about a minute apart, then a slower schedule.

T/CEC platforms expect a failed push to be retried more than three times at roughly one-minute
intervals and then less often until it is acknowledged; a record is never dropped.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

# seconds to wait after the 1st, 2nd, ... failure; the last value repeats forever
DEFAULT_SCHEDULE: tuple[float, ...] = (60, 60, 60, 60, 300, 600, 1800, 3600)


def parse_schedule(text: str) -> tuple[float, ...]:
    """'60,60,300' -> (60.0, 60.0, 300.0); every value positive, at least one."""
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"retry schedule {text!r}: comma-separated seconds expected") from None
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"retry schedule {text!r}: at least one value, all positive")
    return values


def delay_after(failures: int, schedule: Sequence[float] = DEFAULT_SCHEDULE) -> float:
    """The wait after `failures` consecutive failures (1 = the first try failed)."""
    if failures < 1:
        return 0.0
    return float(schedule[min(failures, len(schedule)) - 1])


def jittered(delay: float, rng: random.Random | None = None, spread: float = 0.1) -> float:
    """Spread retries by +-10% so a platform coming back is not hit by every record at once."""
    r = (rng or random).uniform(-spread, spread)
    return max(0.0, delay * (1 + r))


def refresh_due(remaining: float, lifetime: float) -> bool:
    """Refresh a bearer token when less than a fifth of its life (at most 10 min) remains."""
    return remaining <= min(600.0, lifetime / 5)
