"""How the monthly report writes values: percentages, counts with units, local times (pure).

One rule per kind of value, so the chart, the tables and the CSV never disagree: a fraction
the engine keeps (0.1500, a share, a utilization) is always a percentage with two decimals;
a time is always in the plan's time zone to the minute; an unknown value is a dash, never
"None" and never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csms.monitoring import labels

DASH = "—"
DEFAULT_ZONE = "Asia/Shanghai"  # the plans' default (plan.py); a document may name its own
_HUNDREDTH = Decimal("0.01")


def number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def percent_value(value: Any) -> Decimal | None:
    """A fraction as a percentage, to 0.01 (half up): 0.0002 -> 0.02."""
    found = number(value)
    return None if found is None else (found * 100).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


def percent(value: Any) -> str:
    shown = percent_value(value)
    return DASH if shown is None else f"{shown}%"


def plain(value: Any) -> str:
    """A count or an amount as it was computed; a dash when unknown."""
    if value is None or value == "":
        return DASH
    return str(value)


def figure_value(figure: Mapping[str, Any], value: Any, *, signed: bool = False) -> str:
    """A figure's target, actual, gap or change in the figure's unit: "555 台", "15.00%",
    "3.2 公里", "2.5 辆/台"; a change is signed, and a change of a percentage is in points."""
    found = number(value)
    if found is None:
        return DASH
    unit, kind = figure.get("unit"), figure.get("kind")
    sign = "+" if signed and found > 0 else ""
    if labels.is_percent(unit, kind):
        shown = percent_value(found)
        return f"{sign}{shown}" + (" 个百分点" if signed else "%")
    text = f"{sign}{found}"
    name = labels.unit_name(unit, kind, "zh", found)
    return f"{text} {name}" if name else text


def csv_value(figure: Mapping[str, Any], value: Any) -> str:
    """A figure's value for the CSV: a number in the unit of the CSV's unit column."""
    found = number(value)
    if found is None:
        return ""
    if labels.is_percent(figure.get("unit"), figure.get("kind")):
        return str(percent_value(found))
    return str(found)


def csv_percent(value: Any) -> str:
    """A fraction as a percentage number for the CSV (blank when unknown)."""
    shown = percent_value(value)
    return "" if shown is None else str(shown)


def csv_unit(figure: Mapping[str, Any]) -> str:
    return labels.unit_name(figure.get("unit"), figure.get("kind"), "zh")


def zone_of(document: Mapping[str, Any]) -> ZoneInfo:
    """The plan's time zone the document names, else the default one."""
    try:
        return ZoneInfo(str(document.get("time_zone") or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def zone_note(zone: ZoneInfo, at: datetime) -> str:
    """ "Asia/Shanghai（UTC+08:00）": the zone every time of the report is in."""
    offset = at.astimezone(zone).strftime("%z") or "+0000"
    return f"{zone.key}（UTC{offset[:3]}:{offset[3:]}）"


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def local_time(value: Any, zone: ZoneInfo) -> str:
    """A moment as local "YYYY-MM-DD HH:MM" in `zone`; a date or unreadable text as given."""
    moment = parse_time(value)
    if moment is None:
        return plain(value)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
