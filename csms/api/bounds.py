"""Ranges an API input must keep so that PostgreSQL and date arithmetic can hold it (else 422).

Python's calendar ends at 0001-01-01 and 9999-12-31: a day there, moved to another offset
(Asia/Shanghai, UTC) or to the next midnight, falls off it and the request failed with 500.
No charging network has a day outside 1900-9998, so those are refused here with the field's
name, before any service runs. Integers sent to int4 columns keep int4's range likewise.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)
MAX_INT4 = 2**31 - 1  # PostgreSQL integer


def _day_in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


def _moment_in_range(value: datetime) -> datetime:
    _day_in_range(value.date())
    return value


Day = Annotated[date, AfterValidator(_day_in_range)]
"""A calendar day between FIRST_DAY and LAST_DAY."""

Instant = Annotated[AwareDatetime, AfterValidator(_moment_in_range)]
"""A moment with its UTC offset, on a day between FIRST_DAY and LAST_DAY."""

Moment = Annotated[datetime, AfterValidator(_moment_in_range)]
"""A moment with or without an offset, on a day between FIRST_DAY and LAST_DAY."""
