"""Working-day calendar: statutory holidays (open all day) and adjusted working days (调休).

The shipped calendar covers 2024-2026 from the State Council's notices; operators replace it
through the API when next year's notice is out. A date outside the calendar's years falls back
to plain weekdays and weekends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources
from typing import Any

from csms.billing.tariff import DayType

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_SPAN_DAYS = 31  # no statutory holiday is longer; a longer span is a typing error
MAX_SOURCES = 20
MAX_SOURCE_LENGTH = 200


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    name: str
    holidays: Mapping[date, str] = field(default_factory=dict)  # date -> holiday name
    workdays: frozenset[date] = frozenset()  # weekend days worked in exchange (调休上班)
    sources: tuple[str, ...] = ()  # the notices it was copied from: an auditor asks

    def kind(self, day: date) -> DayKind:
        if day in self.holidays:
            return DayKind.HOLIDAY
        if day in self.workdays or day.weekday() < 5:
            return DayKind.WORKDAY
        return DayKind.WEEKEND

    def day_type(self, day: date) -> DayType:
        """The tariff day type of a date (tariffs may price holidays and 调休 days apart)."""
        return DayType(self.kind(day).value)

    @property
    def years(self) -> tuple[int, int] | None:
        """The first and last year the calendar lists holidays for."""
        days = [*self.holidays, *self.workdays]
        return (min(days).year, max(days).year) if days else None

    @property
    def last_day(self) -> date | None:
        """The last day whose kind the calendar knows: 31 December of its last year."""
        years = self.years
        return None if years is None else date(years[1], 12, 31)

    def days_left(self, today: date) -> int:
        """Days from `today` (counted) to the calendar's last day; 0 when it does not cover
        `today`."""
        last = self.last_day
        return (last - today).days + 1 if last is not None and self.covers(today) else 0

    def covers(self, day: date) -> bool:
        """Outside these years holidays are unknown and every day is a plain weekday."""
        years = self.years
        return years is not None and years[0] <= day.year <= years[1]

    def as_json(self) -> dict[str, Any]:
        spans: list[dict[str, str]] = []
        for day in sorted(self.holidays):
            name = self.holidays[day]
            last = spans[-1] if spans else None
            if (
                last is not None
                and last["name"] == name
                and date.fromisoformat(last["to"]) + timedelta(days=1) == day
            ):
                last["to"] = day.isoformat()
            else:
                spans.append({"name": name, "from": day.isoformat(), "to": day.isoformat()})
        years = self.years
        return {
            "name": self.name,
            "covers_years": None if years is None else list(years),
            "holidays": spans,
            "adjusted_workdays": sorted(d.isoformat() for d in self.workdays),
            "sources": list(self.sources),
        }


def calendar_from(data: Mapping[str, Any]) -> HolidayCalendar:
    """Read a calendar document; ValueError says what is wrong with it."""
    if not isinstance(data, Mapping):
        raise ValueError("a calendar is a JSON object")
    for key in ("holidays", "adjusted_workdays", "sources"):
        if not isinstance(data.get(key) or [], list):
            raise ValueError(f"{key} is a list")
    sources = tuple(data.get("sources") or [])
    if len(sources) > MAX_SOURCES or not all(
        isinstance(text, str) and 0 < len(text) <= MAX_SOURCE_LENGTH for text in sources
    ):
        raise ValueError(
            f"sources: at most {MAX_SOURCES} texts of 1-{MAX_SOURCE_LENGTH} characters"
        )
    holidays: dict[date, str] = {}
    for index, span in enumerate(data.get("holidays") or []):
        try:
            first, last = _iso_date(span["from"]), _iso_date(span["to"])
            name = str(span.get("name") or "holiday")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"holidays[{index}]: needs from/to as YYYY-MM-DD ({exc})") from None
        if last < first:
            raise ValueError(f"holidays[{index}]: {last} is before {first}")
        if (last - first).days >= MAX_SPAN_DAYS:
            raise ValueError(f"holidays[{index}]: {first}..{last} is longer than a holiday")
        day = first
        while day <= last:
            if day in holidays:
                raise ValueError(f"holidays[{index}]: {day} is already a holiday")
            holidays[day] = name
            day += timedelta(days=1)
    workdays: set[date] = set()
    for text in data.get("adjusted_workdays") or []:
        try:
            day = _iso_date(text)
        except (TypeError, ValueError):
            raise ValueError(f"adjusted_workdays: {text!r} is not YYYY-MM-DD") from None
        if day in holidays:
            raise ValueError(f"{day} cannot be both a holiday and a working day")
        if day.weekday() < 5:
            raise ValueError(f"adjusted working day {day} is not a Saturday or Sunday")
        workdays.add(day)
    return HolidayCalendar(
        str(data.get("name") or "calendar"), holidays, frozenset(workdays), sources
    )


def _iso_date(text: Any) -> date:
    if not isinstance(text, str) or not _ISO_DATE.match(text):
        raise ValueError(f"{text!r} is not YYYY-MM-DD")
    return date.fromisoformat(text)


def default_calendar() -> HolidayCalendar:
    """The shipped China calendar (2024-2026)."""
    text = resources.files("csms.sharing").joinpath("holidays_cn.json").read_text("utf-8")
    return calendar_from(json.loads(text))
