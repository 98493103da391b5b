"""The only place that reads the wall clock, so tests and replays can reason about time."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as a UTC-aware datetime."""
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds on a clock that never jumps; for timeouts and liveness, not for records."""
    return time.monotonic()


def isoformat(moment: datetime) -> str:
    """OCPP date-time text: UTC with a `Z` suffix and millisecond precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
