"""OCPP date-times: UTC, RFC 3339, millisecond precision, parsed leniently."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """`2026-05-01T02:00:00.123Z`: UTC with milliseconds, so samples of one second stay apart."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(text: str) -> datetime:
    """An OCPP date-time; one without an offset is UTC (both versions ask for UTC)."""
    moment = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", text.replace("Z", "+00:00")))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
