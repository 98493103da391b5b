"""Opening schedules to and from their stored JSON (windows and dated exceptions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from csms.billing.tariff import hhmm, parse_hhmm
from csms.sharing.schedule import WEEKDAYS, DateException, ExceptionKind, Schedule, Window


def windows_json(schedule: Schedule) -> list[dict[str, Any]]:
    return [
        {
            "days": [WEEKDAYS[d] for d in sorted(w.days)],
            "start": hhmm(w.start),
            "end": hhmm(w.end),
        }
        for w in schedule.windows
    ]


def exceptions_json(schedule: Schedule) -> list[dict[str, Any]]:
    return [
        {
            "date": e.day.isoformat(),
            "kind": e.kind.value,
            "windows": [{"start": hhmm(s), "end": hhmm(t)} for s, t in e.windows],
            "note": e.note,
        }
        for _, e in sorted(schedule.exceptions.items())
    ]


def _weekday(name: str) -> int:
    if name not in WEEKDAYS:
        raise ValueError(f"{name!r} is not a weekday (mon..sun)")
    return WEEKDAYS.index(name)


def schedule_from(row: Mapping[str, Any]) -> Schedule:
    """A schedule from its stored row or a request; ValueError names what is unreadable."""
    try:
        windows = tuple(
            Window(
                frozenset(_weekday(d) for d in w["days"]),
                parse_hhmm(w["start"]),
                parse_hhmm(w["end"]),
            )
            for w in row["windows"]
        )
        exceptions: dict[date, DateException] = {}
        for e in row["exceptions"] or []:
            day = e["date"] if isinstance(e["date"], date) else date.fromisoformat(e["date"])
            if day in exceptions:
                raise ValueError(f"exception {day} is given twice")
            exceptions[day] = DateException(
                day,
                ExceptionKind(e["kind"]),
                tuple(
                    (parse_hhmm(w["start"]), parse_hhmm(w["end"])) for w in e.get("windows") or []
                ),
                str(e.get("note") or ""),
            )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"schedule: missing or malformed {exc}") from None
    return Schedule(
        time_zone=row["time_zone"],
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
        windows=windows,
        exceptions=exceptions,
        holidays_open=row["holidays_open"],
        workday_pattern=row["workday_pattern"],
    )
