"""Opening schedules: when a shared pile is open to the public, and when that next changes.

A window belongs to the day it starts: Monday 18:00-08:00 opens Monday evening and closes
Tuesday morning. Statutory holidays are open all day (unless the schedule says otherwise), an
adjusted working day (调休上班) follows the windows of a working weekday, and a dated exception
(open all day, closed all day, or its own windows) overrides everything for its date.

Effective dates are whole days, both inclusive. Since a window belongs to the day it starts,
a window starting on the last day still runs into the next morning, and the first morning
gets no spill from the day before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csms.billing.tariff import hhmm
from csms.sharing.calendar import DayKind, HolidayCalendar

DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON_DAYS = 35  # how far next_change looks ahead (None: no change within five weeks)


@dataclass(frozen=True, slots=True)
class Window:
    """Open to the public from `start` to `end` (minutes after local midnight) on `days`
    (0 = Monday); `end` <= `start` crosses midnight into the next day; 0-1440 is all day."""

    days: frozenset[int]
    start: int
    end: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def label(self) -> str:
        days = ",".join(WEEKDAYS[d] for d in sorted(self.days))
        return f"{days} {hhmm(self.start)}-{hhmm(self.end)}"


class ExceptionKind(StrEnum):
    OPEN = "open"  # open to the public all day
    CLOSED = "closed"  # members only all day
    WINDOWS = "windows"  # these windows instead of the weekly ones


@dataclass(frozen=True, slots=True)
class DateException:
    day: date
    kind: ExceptionKind
    windows: tuple[tuple[int, int], ...] = ()  # (start, end) minutes, for WINDOWS
    note: str = ""


@dataclass(frozen=True, slots=True)
class Schedule:
    time_zone: str
    effective_from: date
    windows: tuple[Window, ...]
    effective_to: date | None = None  # last day in force (inclusive)
    exceptions: Mapping[date, DateException] = field(default_factory=dict)
    holidays_open: bool = True
    workday_pattern: int = 0  # the weekday whose windows an adjusted working day follows

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


# -- validation -------------------------------------------------------------------------------


def problems(schedule: Schedule) -> list[str]:
    """Everything wrong with a schedule, in words an operator can act on; empty when valid."""
    out: list[str] = []
    try:
        ZoneInfo(schedule.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        out.append(f"time_zone {schedule.time_zone!r} is not an IANA time zone")
    if schedule.effective_to is not None and schedule.effective_to < schedule.effective_from:
        out.append("effective_to is before effective_from")
    if not 0 <= schedule.workday_pattern <= 4:
        out.append("workday_pattern must be a working weekday (mon..fri)")
    for index, window in enumerate(schedule.windows):
        out += _window_problems(f"windows[{index}]", window.start, window.end)
        if not window.days:
            out.append(f"windows[{index}]: name at least one day")
        if any(not 0 <= d <= 6 for d in window.days):
            out.append(f"windows[{index}]: days are mon..sun")
    if not any(p.startswith("windows[") for p in out):
        # Windows that start on the same day must not overlap; a window running past
        # midnight may meet the next day's windows (the union is what anyone would expect).
        overlaps = [
            problem
            for weekday in range(7)
            for problem in _overlaps(
                [
                    (w.start, _length(w.start, w.end), w.label())
                    for w in schedule.windows
                    if weekday in w.days
                ]
            )
        ]
        out += list(dict.fromkeys(overlaps))  # one report per pair, not one per weekday
    for day, exception in sorted(schedule.exceptions.items()):
        if exception.day != day:
            out.append(f"exception {day} is filed under another date")
        if exception.kind is ExceptionKind.WINDOWS:
            if not exception.windows:
                out.append(f"exception {day}: give its windows, or make it open or closed")
            bad = [
                p for s, e in exception.windows for p in _window_problems(f"exception {day}", s, e)
            ]
            out += bad
            if not bad:
                out += _overlaps(
                    [(s, _length(s, e), f"{day} {hhmm(s)}-{hhmm(e)}") for s, e in exception.windows]
                )
        elif exception.windows:
            out.append(f"exception {day}: windows only go with kind 'windows'")
    return out


def _window_problems(name: str, start: int, end: int) -> list[str]:
    if start == end:
        return [f"{name}: {hhmm(start)}-{hhmm(end)} is empty (use 00:00-24:00 for all day)"]
    if not (0 <= start < DAY and 0 < end <= DAY):
        return [f"{name}: {hhmm(start)}-{hhmm(end)} is not within 00:00-24:00"]
    return []


def _length(start: int, end: int) -> int:
    return end - start if end > start else DAY - start + end


def _overlaps(spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """Spans (start, length, label) of one day that overlap each other."""
    out: list[str] = []
    pieces = sorted((start, start + length, label) for start, length, label in spans)
    reach, reach_label = -1, ""
    for start, end, label in pieces:
        if start < reach:
            out.append(f"windows overlap: {reach_label} and {label}")
        if end > reach:
            reach, reach_label = end, label
    return sorted(set(out))


# -- evaluation -------------------------------------------------------------------------------


def _utc(value: datetime, name: str) -> datetime:
    # A naive time would be read in the host's zone (rule 3: times are aware), never guess.
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not naive {value.isoformat()}")
    return value.astimezone(UTC)


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def day_windows(schedule: Schedule, calendar: HolidayCalendar, day: date) -> list[tuple[int, int]]:
    """The regular windows (start, end minutes; end may pass 1440) that start on `day`: the
    weekday's, all day on a statutory holiday, a working weekday's on an adjusted working day.
    Exceptions are applied on top by `open_intervals`."""
    if not schedule.in_force(day):
        return []
    kind = calendar.kind(day)
    weekday = day.weekday()
    if kind is DayKind.WORKDAY and weekday >= 5:
        weekday = schedule.workday_pattern  # 调休上班: a working day like any other
    out = [
        (w.start, w.start + _length(w.start, w.end)) for w in schedule.windows if weekday in w.days
    ]
    if kind is DayKind.HOLIDAY and schedule.holidays_open:
        out.append((0, DAY))
    return out


def _exception_windows(exception: DateException) -> list[tuple[int, int]]:
    if exception.kind is ExceptionKind.OPEN:
        return [(0, DAY)]
    if exception.kind is ExceptionKind.CLOSED:
        return []
    return [(s, s + _length(s, e)) for s, e in exception.windows]


def open_intervals(
    schedule: Schedule, calendar: HolidayCalendar, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Merged UTC intervals in [start, end) when the public may charge.

    Regular windows first (each belongs to the day it starts, so Friday 18:00-08:00 runs into
    Saturday morning); then each dated exception in force replaces everything on its calendar
    date, 00:00 to 24:00, including the previous evening's spill (a window of the exception
    itself may run past midnight).
    """
    start, end = _utc(start, "start"), _utc(end, "end")
    zone = schedule.zone
    first = start.astimezone(zone).date() - timedelta(days=1)  # yesterday's window may spill
    last = end.astimezone(zone).date()
    raw: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        raw += [
            (_local(day, s, zone), _local(day, e, zone))
            for s, e in day_windows(schedule, calendar, day)
        ]
        day += timedelta(days=1)
    intervals = _merge(raw)
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        exception = schedule.exceptions.get(day)
        if exception is None or not schedule.in_force(day):
            continue
        lo, hi = _local(day, 0, zone), _local(day, DAY, zone)
        kept = [
            piece
            for a, b in intervals
            for piece in ((a, min(b, lo)), (max(a, hi), b))
            if piece[0] < piece[1]
        ]
        own = [
            (_local(day, s, zone), _local(day, e, zone)) for s, e in _exception_windows(exception)
        ]
        intervals = _merge(kept + own)
    return [(max(a, start), min(b, end)) for a, b in intervals if a < end and b > start]


def _merge(raw: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(raw):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        elif lo < hi:
            merged.append((lo, hi))
    return merged


@dataclass(frozen=True, slots=True)
class Openness:
    open: bool
    next_change: datetime | None  # None: no change within the horizon


def openness(schedule: Schedule, calendar: HolidayCalendar, at: datetime) -> Openness:
    """Whether the public may charge at `at`, and when that next changes (a week at a time)."""
    at = _utc(at, "at")
    horizon = at + timedelta(days=HORIZON_DAYS)
    cursor = at
    run_end: datetime | None = None  # end of the open run containing `at`, once known
    while cursor < horizon:
        upto = min(cursor + timedelta(days=7), horizon)
        for lo, hi in open_intervals(schedule, calendar, cursor, upto):
            if run_end is None and cursor == at:
                if lo > at:
                    return Openness(False, lo)
                run_end = hi
            elif run_end is None:
                return Openness(False, lo)
            elif lo > run_end:
                return Openness(True, run_end)
            else:
                run_end = max(run_end, hi)
        if run_end is not None and run_end < upto:
            return Openness(True, run_end)
        cursor = upto
    return Openness(run_end is not None, None)


def open_minutes(
    schedule: Schedule, calendar: HolidayCalendar, start: datetime, end: datetime
) -> int:
    """Whole minutes the public could charge in [start, end) (the "hours open" of a report)."""
    total = sum(
        ((hi - lo) for lo, hi in open_intervals(schedule, calendar, start, end)), timedelta()
    )
    return int(total.total_seconds() // 60)
