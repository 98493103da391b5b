"""The only place that reads the wall clock, so tests and replays can reason about time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

# How far the clock is set from the wall clock: zero in production; tests set it to run a
# scenario at a chosen hour (a working-day morning, a holiday) whatever the real time is.
_offset = timedelta(0)


def utcnow() -> datetime:
    """The current time as a UTC-aware datetime."""
    now = datetime.now(UTC)
    return now + _offset if _offset else now  # read several times per message


@contextmanager
def running_from(moment: datetime) -> Iterator[None]:
    """Let the clock run from `moment` for the duration (it keeps ticking), then restore it."""
    global _offset
    previous = _offset
    _offset = moment - datetime.now(UTC)
    try:
        yield
    finally:
        _offset = previous


def monotonic() -> float:
    """Seconds on a clock that never jumps; for timeouts and liveness, not for records."""
    return time.monotonic()


def isoformat(moment: datetime) -> str:
    """OCPP date-time text: UTC with a `Z` suffix and millisecond precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
