"""Calendar months as operators name them (YYYY-MM) and as instants in a time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from csms.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# Months whose bounds, moved to any offset, stay inside Python's calendar (years 1-9999).
FIRST_YEAR, LAST_YEAR = 1900, 9998


def parse_month(text: str) -> tuple[int, int]:
    """'2026-11' -> (2026, 11); anything else, or a year outside 1900-9998, is InvalidInput."""
    found = _MONTH.match(text)
    if found is None:
        raise InvalidInput(f"month must be YYYY-MM, not {text!r}")
    year = int(found[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"month must lie between {FIRST_YEAR}-01 and {LAST_YEAR}-12")
    return year, int(found[2])


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local month [first midnight, next month's first midnight) as aware datetimes."""
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (
        datetime.combine(date(year, month, 1), time(), zone),
        datetime.combine(following, time(), zone),
    )
