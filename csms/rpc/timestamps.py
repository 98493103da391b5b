"""OCPP date-time text to UTC-aware datetimes (both versions use RFC 3339)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from csms.errors import InvalidInput

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
# The first and last instants Python holds: asyncpg writes them as PostgreSQL's -infinity and
# infinity, which no interval arithmetic accepts (the late-data indexes subtract times) and
# which read back as a different value. A station whose clock says year 1 is refused like one
# whose offset takes it out of range.
_EDGES = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


def parse_timestamp(text: str) -> datetime:
    """Parse an OCPP timestamp; one without an offset is taken as UTC, as OCPP asks for UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:  # more than six fractional digits: some parsers refuse them, keep microseconds
            moment = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", text))
        except ValueError:
            raise InvalidInput(f"{text!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{text!r} is outside the representable time range") from None
    if moment in _EDGES:
        raise InvalidInput(f"{text!r} is at the edge of the representable time range")
    return moment
