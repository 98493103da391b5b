"""OCPP date-time text to UTC-aware datetimes (both versions use RFC 3339)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from csms.errors import InvalidInput

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


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
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{text!r} is outside the representable time range") from None
