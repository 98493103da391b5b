"""The sharing engine: the holiday calendar, opening schedules, access decisions and the codec."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.billing.tariff import DayType, parse_hhmm
from csms.sharing.access import AccessMode, Membership, PriceClass, decide
from csms.sharing.calendar import DayKind, calendar_from, default_calendar
from csms.sharing.codec import exceptions_json, schedule_from, windows_json
from csms.sharing.schedule import (
    WEEKDAYS,
    DateException,
    ExceptionKind,
    Schedule,
    Window,
    day_windows,
    open_intervals,
    open_minutes,
    openness,
    problems,
)

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CN = default_calendar()


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def window(spec: str) -> Window:
    """'mon-fri 18:00-08:00' or 'sat,sun 00:00-24:00'."""
    days_text, span = spec.split()
    days: set[int] = set()
    for part in days_text.split(","):
        first, _, last = part.partition("-")
        lo = WEEKDAYS.index(first)
        hi = WEEKDAYS.index(last) if last else lo
        days.update(range(lo, hi + 1))
    start, end = span.split("-")
    return Window(frozenset(days), parse_hhmm(start), parse_hhmm(end))


def schedule(*specs: str, **fields: Any) -> Schedule:
    values: dict[str, Any] = {"time_zone": "Asia/Shanghai", "effective_from": date(2024, 1, 1)}
    values.update(fields)
    return Schedule(windows=tuple(window(s) for s in specs), **values)


def closed(day: date, note: str = "") -> DateException:
    return DateException(day, ExceptionKind.CLOSED, note=note)


def opened(day: date) -> DateException:
    return DateException(day, ExceptionKind.OPEN)


def own_windows(day: date, *spans: str) -> DateException:
    pairs = tuple((parse_hhmm(a), parse_hhmm(b)) for a, b in (s.split("-") for s in spans))
    return DateException(day, ExceptionKind.WINDOWS, pairs)


# The unit keeps its piles for staff 08:00-18:00 on working days.
NATURAL = ("mon-fri 18:00-08:00", "sat,sun 00:00-24:00")
OFFICE = schedule(*NATURAL)


# -- 1. calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        pytest.param(date(2026, 2, 15), DayKind.HOLIDAY, id="2026-spring-festival-first-sun"),
        pytest.param(date(2026, 2, 18), DayKind.HOLIDAY, id="2026-spring-festival-wed"),
        pytest.param(date(2026, 2, 23), DayKind.HOLIDAY, id="2026-spring-festival-last-mon"),
        pytest.param(date(2026, 2, 24), DayKind.WORKDAY, id="2026-after-spring-festival-tue"),
        pytest.param(date(2026, 2, 14), DayKind.WORKDAY, id="2026-02-14-adjusted-sat"),
        pytest.param(date(2026, 2, 28), DayKind.WORKDAY, id="2026-02-28-adjusted-sat"),
        pytest.param(date(2025, 10, 1), DayKind.HOLIDAY, id="2025-national-day-first"),
        pytest.param(date(2025, 10, 8), DayKind.HOLIDAY, id="2025-national-day-eighth"),
        pytest.param(date(2025, 10, 9), DayKind.WORKDAY, id="2025-after-national-day"),
        pytest.param(date(2025, 10, 11), DayKind.WORKDAY, id="2025-10-11-adjusted-sat"),
        pytest.param(date(2024, 2, 4), DayKind.WORKDAY, id="2024-02-04-adjusted-sun"),
        pytest.param(date(2024, 2, 18), DayKind.WORKDAY, id="2024-02-18-adjusted-sun"),
        pytest.param(date(2024, 6, 8), DayKind.HOLIDAY, id="2024-dragon-boat-sat"),
        pytest.param(date(2024, 6, 10), DayKind.HOLIDAY, id="2024-dragon-boat-mon"),
        pytest.param(date(2024, 6, 11), DayKind.WORKDAY, id="2024-after-dragon-boat"),
        pytest.param(date(2026, 10, 10), DayKind.WORKDAY, id="2026-10-10-adjusted-sat"),
        pytest.param(date(2026, 9, 20), DayKind.WORKDAY, id="2026-09-20-adjusted-sun"),
        pytest.param(date(2026, 11, 28), DayKind.WEEKEND, id="ordinary-saturday"),
        pytest.param(date(2026, 11, 29), DayKind.WEEKEND, id="ordinary-sunday"),
        pytest.param(date(2026, 11, 25), DayKind.WORKDAY, id="ordinary-wednesday"),
        pytest.param(date(2027, 10, 1), DayKind.WORKDAY, id="outside-calendar-plain-friday"),
        pytest.param(date(2027, 10, 2), DayKind.WEEKEND, id="outside-calendar-plain-saturday"),
    ],
)
def test_shipped_calendar(day: date, kind: DayKind) -> None:
    assert CN.kind(day) is kind


@pytest.mark.parametrize(
    ("day", "day_type"),
    [
        pytest.param(date(2026, 10, 2), DayType.HOLIDAY, id="holiday"),
        pytest.param(date(2026, 10, 10), DayType.WORKDAY, id="adjusted-workday"),
        pytest.param(date(2026, 11, 28), DayType.WEEKEND, id="weekend"),
        pytest.param(date(2026, 11, 25), DayType.WORKDAY, id="workday"),
    ],
)
def test_day_type_is_the_billing_day_type(day: date, day_type: DayType) -> None:
    assert CN.day_type(day) is day_type


def test_shipped_calendar_size_and_names() -> None:
    assert CN.holidays[date(2025, 10, 5)] == "国庆节、中秋节"
    assert CN.holidays[date(2026, 2, 20)] == "春节"
    assert len(CN.workdays) == 19
    days_by_year = {2024: 1 + 8 + 3 + 5 + 3 + 3 + 7, 2025: 1 + 8 + 3 + 5 + 3 + 8}
    days_by_year[2026] = 3 + 9 + 3 + 5 + 3 + 3 + 7
    for year, count in days_by_year.items():
        assert sum(d.year == year for d in CN.holidays) == count, year
    assert all(d.weekday() >= 5 for d in CN.workdays)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param([], "a calendar is a JSON object", id="not-an-object"),
        pytest.param(
            {"holidays": [{"name": "国庆节", "from": "2026-10-07", "to": "2026-10-01"}]},
            "holidays[0]: 2026-10-01 is before 2026-10-07",
            id="to-before-from",
        ),
        pytest.param(
            {"holidays": [{"from": "2026-07-01", "to": "2026-08-09"}]},
            "2026-07-01..2026-08-09 is longer than a holiday",
            id="span-of-40-days",
        ),
        pytest.param(
            {"holidays": [{"from": "2026-07-01", "to": "2026-08-01"}]},
            "is longer than a holiday",
            id="span-of-32-days",
        ),
        pytest.param(
            {
                "holidays": [{"from": "2026-10-01", "to": "2026-10-07"}],
                "adjusted_workdays": ["2026-10-03"],
            },
            "2026-10-03 cannot be both a holiday and a working day",
            id="holiday-and-workday",
        ),
        pytest.param(
            {"adjusted_workdays": ["2026-10-09"]},
            "adjusted working day 2026-10-09 is not a Saturday or Sunday",
            id="adjusted-workday-on-a-friday",
        ),
        pytest.param(
            {"holidays": [{"from": "2026-13-01", "to": "2026-13-02"}]},
            "holidays[0]: needs from/to as YYYY-MM-DD",
            id="month-13",
        ),
        pytest.param(
            {"holidays": [{"name": "元旦", "from": "2026-01-01"}]},
            "holidays[0]: needs from/to as YYYY-MM-DD",
            id="missing-to",
        ),
        pytest.param(
            {"adjusted_workdays": ["2026/10/10"]},
            "adjusted_workdays: '2026/10/10' is not YYYY-MM-DD",
            id="workday-with-slashes",
        ),
        pytest.param(
            {
                "holidays": [
                    {"from": "2026-10-01", "to": "2026-10-07"},
                    {"from": "2026-10-07", "to": "2026-10-08"},
                ]
            },
            "holidays[1]: 2026-10-07 is already a holiday",
            id="overlapping-spans",
        ),
    ],
)
def test_calendar_from_refuses(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        calendar_from(document)


def test_calendar_from_accepts_a_31_day_span() -> None:
    calendar = calendar_from({"holidays": [{"from": "2026-07-01", "to": "2026-07-31"}]})
    assert len(calendar.holidays) == 31
    assert calendar.holidays[date(2026, 7, 15)] == "holiday"
    assert calendar.name == "calendar"


def test_calendar_as_json_round_trips() -> None:
    document = CN.as_json()
    assert {"name": "国庆节、中秋节", "from": "2025-10-01", "to": "2025-10-08"} in document[
        "holidays"
    ]
    assert {"name": "春节", "from": "2026-02-15", "to": "2026-02-23"} in document["holidays"]
    assert len(document["holidays"]) == 20
    assert document["adjusted_workdays"][:2] == ["2024-02-04", "2024-02-18"]
    assert calendar_from(document) == CN


# -- 2. schedule validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param(
            schedule("mon 08:00-12:00", "mon 10:00-14:00"),
            "windows overlap: mon 08:00-12:00 and mon 10:00-14:00",
            id="overlap-same-day",
        ),
        pytest.param(
            schedule("mon 18:00-08:00", "mon 20:00-22:00"),
            "windows overlap: mon 18:00-08:00 and mon 20:00-22:00",
            id="overlap-inside-crossing-window",
        ),
        pytest.param(
            schedule("mon-fri 18:00-08:00", "wed 07:00-19:00"),
            "windows overlap: wed 07:00-19:00 and mon,tue,wed,thu,fri 18:00-08:00",
            id="overlap-on-one-shared-day",
        ),
        pytest.param(schedule("mon 10:00-10:00"), "10:00-10:00 is empty", id="start-equals-end"),
        pytest.param(
            Schedule("Asia/Shanghai", date(2024, 1, 1), (Window(frozenset({0}), 600, 1500),)),
            "windows[0]: 10:00-25:00 is not within 00:00-24:00",
            id="end-past-24h",
        ),
        pytest.param(
            Schedule("Asia/Shanghai", date(2024, 1, 1), (Window(frozenset({0}), 1440, 60),)),
            "is not within 00:00-24:00",
            id="start-at-24h",
        ),
        pytest.param(
            Schedule("Asia/Shanghai", date(2024, 1, 1), (Window(frozenset(), 600, 700),)),
            "windows[0]: name at least one day",
            id="no-days",
        ),
        pytest.param(
            Schedule("Asia/Shanghai", date(2024, 1, 1), (Window(frozenset({7}), 600, 700),)),
            "windows[0]: days are mon..sun",
            id="day-7",
        ),
        pytest.param(
            schedule(*NATURAL, effective_to=date(2023, 12, 31)),
            "effective_to is before effective_from",
            id="effective-to-before-from",
        ),
        pytest.param(
            schedule(*NATURAL, time_zone="Asia/Beijing"),
            "time_zone 'Asia/Beijing' is not an IANA time zone",
            id="bad-time-zone",
        ),
        pytest.param(
            schedule(*NATURAL, workday_pattern=7),
            "workday_pattern must be a working weekday",
            id="workday-pattern-7",
        ),
        pytest.param(
            schedule(
                *NATURAL,
                exceptions={
                    date(2026, 11, 25): DateException(
                        date(2026, 11, 25), ExceptionKind.OPEN, ((600, 720),)
                    )
                },
            ),
            "exception 2026-11-25: windows only go with kind 'windows'",
            id="open-exception-with-windows",
        ),
        pytest.param(
            schedule(*NATURAL, exceptions={date(2026, 11, 25): own_windows(date(2026, 11, 25))}),
            "exception 2026-11-25: give its windows, or make it open or closed",
            id="windows-exception-without-windows",
        ),
        pytest.param(
            schedule(
                *NATURAL,
                exceptions={
                    date(2026, 11, 25): own_windows(
                        date(2026, 11, 25), "12:00-14:00", "13:00-15:00"
                    )
                },
            ),
            "windows overlap: 2026-11-25 12:00-14:00 and 2026-11-25 13:00-15:00",
            id="overlapping-exception-windows",
        ),
        pytest.param(
            schedule(
                *NATURAL,
                exceptions={
                    date(2026, 11, 25): own_windows(
                        date(2026, 11, 25), "22:00-02:00", "23:00-23:30"
                    )
                },
            ),
            "windows overlap: 2026-11-25 22:00-02:00 and 2026-11-25 23:00-23:30",
            id="overlapping-crossing-exception-windows",
        ),
        pytest.param(
            schedule(
                *NATURAL,
                exceptions={date(2026, 11, 25): own_windows(date(2026, 11, 25), "12:00-12:00")},
            ),
            "exception 2026-11-25: 12:00-12:00 is empty",
            id="empty-exception-window",
        ),
        pytest.param(
            schedule(*NATURAL, exceptions={date(2026, 11, 25): closed(date(2026, 11, 26))}),
            "exception 2026-11-25 is filed under another date",
            id="exception-under-another-date",
        ),
    ],
)
def test_problems_names_what_is_wrong(bad: Schedule, message: str) -> None:
    found = problems(bad)
    assert any(message in p for p in found), found


@pytest.mark.parametrize(
    "good",
    [
        pytest.param(OFFICE, id="natural-weekly-pattern"),
        pytest.param(schedule("mon 18:00-08:00", "tue 06:00-09:00"), id="spill-meets-next-day"),
        pytest.param(schedule("sun 22:00-02:00", "mon 00:00-03:00"), id="spill-into-next-week"),
        pytest.param(schedule("mon 08:00-12:00", "mon 12:00-14:00"), id="touching-windows"),
        pytest.param(schedule("mon 00:00-06:00", "mon 18:00-08:00"), id="morning-and-crossing"),
        pytest.param(schedule("mon-sun 00:00-24:00"), id="always-open"),
        pytest.param(schedule(), id="no-windows-at-all"),
        pytest.param(
            schedule(
                *NATURAL,
                effective_to=date(2024, 1, 1),
                exceptions={
                    date(2026, 11, 25): own_windows(
                        date(2026, 11, 25), "12:00-14:00", "22:00-02:00"
                    ),
                    date(2026, 11, 28): closed(date(2026, 11, 28)),
                    date(2026, 11, 26): opened(date(2026, 11, 26)),
                },
            ),
            id="one-day-in-force-with-exceptions",
        ),
    ],
)
def test_problems_accepts_valid_schedules(good: Schedule) -> None:
    assert problems(good) == []


# -- 3. openness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sched", "at", "is_open", "next_change"),
    [
        pytest.param(OFFICE, sh(2026, 11, 25, 10), False, sh(2026, 11, 25, 18), id="wed-10-staff"),
        pytest.param(OFFICE, sh(2026, 11, 25, 18), True, sh(2026, 11, 26, 8), id="wed-18-opens"),
        pytest.param(OFFICE, sh(2026, 11, 25, 19), True, sh(2026, 11, 26, 8), id="wed-19-open"),
        pytest.param(OFFICE, sh(2026, 11, 26, 7, 59), True, sh(2026, 11, 26, 8), id="thu-spill"),
        pytest.param(OFFICE, sh(2026, 11, 26, 8), False, sh(2026, 11, 26, 18), id="thu-08-closes"),
        # The weekend joins Friday's window; Sunday's 00:00-24:00 window does not spill, so
        # Monday 00:00-08:00 is members only (Monday's own window starts at 18:00).
        pytest.param(OFFICE, sh(2026, 11, 27, 19), True, sh(2026, 11, 30, 0), id="fri-19-weekend"),
        pytest.param(OFFICE, sh(2026, 11, 30, 3), False, sh(2026, 11, 30, 18), id="mon-03-closed"),
        # 国庆节 2026-10-01..07: open all day; Wednesday Oct 7's own window spills to Oct 8 08:00.
        pytest.param(OFFICE, sh(2026, 10, 2, 10), True, sh(2026, 10, 8, 8), id="holiday-fri"),
        pytest.param(OFFICE, sh(2026, 9, 30, 10), False, sh(2026, 9, 30, 18), id="eve-of-holiday"),
        # 调休上班 Saturday Oct 10 follows Monday's windows; Friday's window spills until 08:00.
        pytest.param(OFFICE, sh(2026, 10, 10, 7), True, sh(2026, 10, 10, 8), id="adj-sat-07"),
        pytest.param(OFFICE, sh(2026, 10, 10, 10), False, sh(2026, 10, 10, 18), id="adj-sat-10"),
        pytest.param(OFFICE, sh(2026, 10, 10, 20), True, sh(2026, 10, 12, 0), id="adj-sat-20"),
        # Sunday Sep 20 is worked; Saturday's 00:00-24:00 does not spill, so it is closed at 07:00.
        pytest.param(OFFICE, sh(2026, 9, 20, 7), False, sh(2026, 9, 20, 18), id="adj-sun-07"),
        pytest.param(OFFICE, sh(2026, 9, 20, 10), False, sh(2026, 9, 20, 18), id="adj-sun-10"),
        # Adjusted Saturday before 春节 (Feb 15-23): one run of more than nine days, past the
        # seven-day step of the search.
        pytest.param(OFFICE, sh(2026, 2, 14, 19), True, sh(2026, 2, 24, 8), id="spring-festival"),
        pytest.param(
            schedule(*NATURAL, holidays_open=False),
            sh(2026, 10, 2, 10),
            False,
            sh(2026, 10, 2, 18),
            id="holidays-closed-friday-follows-friday",
        ),
        pytest.param(
            schedule(*NATURAL, holidays_open=False),
            sh(2026, 10, 3, 10),
            True,
            sh(2026, 10, 5, 0),
            id="holidays-closed-saturday-follows-saturday",
        ),
        pytest.param(
            schedule("mon 12:00-13:00", "tue-fri 18:00-08:00", workday_pattern=0),
            sh(2026, 10, 10, 12, 30),
            True,
            sh(2026, 10, 10, 13),
            id="adjusted-sat-follows-monday",
        ),
        pytest.param(
            schedule("mon 12:00-13:00", "tue-fri 18:00-08:00", workday_pattern=1),
            sh(2026, 10, 10, 12, 30),
            False,
            sh(2026, 10, 10, 18),
            id="adjusted-sat-follows-tuesday",
        ),
        pytest.param(schedule(), sh(2026, 11, 25, 10), False, None, id="never-open"),
        pytest.param(
            schedule("mon-sun 00:00-24:00", holidays_open=False),
            sh(2026, 11, 25, 10),
            True,
            None,
            id="always-open",
        ),
    ],
)
def test_openness_weekly_and_calendar(
    sched: Schedule, at: datetime, is_open: bool, next_change: datetime | None
) -> None:
    assert problems(sched) == []
    assert openness(sched, CN, at) == openness(sched, CN, at.astimezone(UTC))
    result = openness(sched, CN, at)
    assert result.open is is_open
    assert result.next_change == next_change


SAT = date(2026, 11, 28)
WED = date(2026, 11, 25)
WITH_EXCEPTIONS = schedule(
    *NATURAL,
    exceptions={
        SAT: closed(SAT, "运动会"),
        WED: own_windows(WED, "12:00-14:00"),
        date(2026, 12, 2): opened(date(2026, 12, 2)),
    },
)


@pytest.mark.parametrize(
    ("at", "is_open", "next_change"),
    [
        # An exception governs its whole calendar date, 00:00-24:00: a closed Saturday is
        # closed from midnight (Friday's spill is cut off) until Sunday's all-day window.
        pytest.param(sh(2026, 11, 28, 12), False, sh(2026, 11, 29, 0), id="closed-sat-noon"),
        pytest.param(sh(2026, 11, 28, 7), False, sh(2026, 11, 29, 0), id="closed-sat-fri-spill"),
        # An open Wednesday is open all day, and Thursday's early hours still follow the
        # regular rules: Wednesday's 18:00-08:00 window keeps them open until 08:00.
        pytest.param(sh(2026, 12, 2, 10), True, sh(2026, 12, 3, 8), id="open-wed-10"),
        pytest.param(sh(2026, 12, 3, 3), True, sh(2026, 12, 3, 8), id="open-wed-thu-morning"),
        # Own windows (12:00-14:00) on Wednesday replace Tuesday's spill into it too.
        pytest.param(sh(2026, 11, 25, 7), False, sh(2026, 11, 25, 12), id="windows-tue-spill"),
        pytest.param(sh(2026, 11, 25, 10), False, sh(2026, 11, 25, 12), id="windows-wed-10"),
        pytest.param(sh(2026, 11, 25, 13), True, sh(2026, 11, 25, 14), id="windows-wed-13"),
        pytest.param(sh(2026, 11, 25, 19), False, sh(2026, 11, 26, 0), id="windows-wed-19"),
        pytest.param(sh(2026, 11, 26, 3), True, sh(2026, 11, 26, 8), id="windows-wed-thu-morning"),
    ],
)
def test_openness_with_exceptions(at: datetime, is_open: bool, next_change: datetime) -> None:
    assert problems(WITH_EXCEPTIONS) == []
    result = openness(WITH_EXCEPTIONS, CN, at)
    assert (result.open, result.next_change) == (is_open, next_change)


# In force Wednesday 2026-11-25 to Friday 2026-11-27 only.
SHORT = schedule(*NATURAL, effective_from=date(2026, 11, 25), effective_to=date(2026, 11, 27))


@pytest.mark.parametrize(
    ("at", "is_open", "next_change"),
    [
        pytest.param(sh(2026, 11, 24, 20), False, sh(2026, 11, 25, 18), id="day-before-from"),
        # Tuesday's window is not in force, so nothing spills into Wednesday morning.
        pytest.param(sh(2026, 11, 25, 7), False, sh(2026, 11, 25, 18), id="from-day-morning"),
        pytest.param(sh(2026, 11, 25, 19), True, sh(2026, 11, 26, 8), id="from-day-evening"),
        pytest.param(sh(2026, 11, 27, 19), True, sh(2026, 11, 28, 8), id="to-day-in-force"),
        # A window starting on effective_to still runs into the next morning.
        pytest.param(sh(2026, 11, 28, 7), True, sh(2026, 11, 28, 8), id="spill-past-to"),
        pytest.param(sh(2026, 11, 28, 10), False, None, id="day-after-to-never-again"),
    ],
)
def test_openness_effective_dates(at: datetime, is_open: bool, next_change: datetime) -> None:
    result = openness(SHORT, CN, at)
    assert (result.open, result.next_change) == (is_open, next_change)


@pytest.mark.parametrize(
    ("sched", "day", "windows"),
    [
        pytest.param(OFFICE, date(2026, 11, 25), [(1080, 1920)], id="workday"),
        pytest.param(OFFICE, date(2026, 11, 28), [(0, 1440)], id="weekend"),
        pytest.param(OFFICE, date(2026, 10, 2), [(0, 1440), (1080, 1920)], id="holiday-fri"),
        pytest.param(OFFICE, date(2026, 10, 3), [(0, 1440), (0, 1440)], id="holiday-sat"),
        pytest.param(OFFICE, date(2026, 10, 10), [(1080, 1920)], id="adjusted-sat"),
        pytest.param(OFFICE, date(2023, 12, 31), [], id="before-effective-from"),
        pytest.param(
            schedule(*NATURAL, holidays_open=False),
            date(2026, 10, 2),
            [(1080, 1920)],
            id="holiday-follows-weekday",
        ),
        # day_windows gives the regular windows; open_intervals lays exceptions over them.
        pytest.param(WITH_EXCEPTIONS, SAT, [(0, 1440)], id="closed-exception-regular"),
        pytest.param(WITH_EXCEPTIONS, WED, [(1080, 1920)], id="windows-exception-regular"),
        pytest.param(SHORT, date(2026, 11, 27), [(1080, 1920)], id="effective-to-day"),
        pytest.param(SHORT, date(2026, 11, 28), [], id="after-effective-to"),
    ],
)
def test_day_windows(sched: Schedule, day: date, windows: list[tuple[int, int]]) -> None:
    assert sorted(day_windows(sched, CN, day)) == windows


@pytest.mark.parametrize(
    ("zone", "start", "end", "intervals"),
    [
        pytest.param(
            "Asia/Shanghai",
            utc(2026, 11, 25),
            utc(2026, 11, 26),
            # Tuesday's window closes at Wednesday 08:00 CST = 00:00 UTC, exactly at `start`.
            [(utc(2026, 11, 25, 10), utc(2026, 11, 26))],
            id="shanghai",
        ),
        pytest.param(
            "Asia/Shanghai",
            sh(2026, 11, 27, 12),
            sh(2026, 11, 30, 12),
            # Friday's window, Saturday and Sunday meet end to start: one interval.
            [(utc(2026, 11, 27, 10), utc(2026, 11, 29, 16))],
            id="shanghai-weekend-merged",
        ),
        pytest.param(
            "Europe/Berlin",
            utc(2026, 11, 25),
            utc(2026, 11, 26),
            [(utc(2026, 11, 25), utc(2026, 11, 25, 7)), (utc(2026, 11, 25, 17), utc(2026, 11, 26))],
            id="berlin-winter",
        ),
        pytest.param(
            "Europe/Berlin",
            utc(2026, 7, 1),
            utc(2026, 7, 2),
            [(utc(2026, 7, 1), utc(2026, 7, 1, 6)), (utc(2026, 7, 1, 16), utc(2026, 7, 2))],
            id="berlin-summer",
        ),
    ],
)
def test_open_intervals_follow_the_time_zone(
    zone: str, start: datetime, end: datetime, intervals: list[tuple[datetime, datetime]]
) -> None:
    assert open_intervals(schedule(*NATURAL, time_zone=zone), CN, start, end) == intervals


def test_open_intervals_are_utc_whatever_zone_the_bounds_carry() -> None:
    got = open_intervals(OFFICE, CN, sh(2026, 11, 25, 19), sh(2026, 11, 26, 19))
    assert got == [
        (sh(2026, 11, 25, 19), sh(2026, 11, 26, 8)),
        (sh(2026, 11, 26, 18), sh(2026, 11, 26, 19)),
    ]
    assert all(lo.tzinfo is UTC and hi.tzinfo is UTC for lo, hi in got)
    assert openness(OFFICE, CN, sh(2026, 11, 25, 19)).next_change == utc(2026, 11, 26)


def test_local_wall_time_and_utc_instant_agree() -> None:
    # Wednesday 10:00 in Shanghai is 02:00 UTC: staff hours.
    assert openness(OFFICE, CN, sh(2026, 11, 25, 10)) == openness(OFFICE, CN, utc(2026, 11, 25, 2))
    # 10:00 UTC is 18:00 in Shanghai: open.
    assert openness(OFFICE, CN, utc(2026, 11, 25, 10)).open is True


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: openness(OFFICE, CN, datetime(2026, 11, 25, 10)), id="openness"),
        pytest.param(
            lambda: open_intervals(OFFICE, CN, datetime(2026, 11, 25), utc(2026, 11, 26)),
            id="open-intervals-start",
        ),
        pytest.param(
            lambda: open_minutes(OFFICE, CN, utc(2026, 11, 25), datetime(2026, 11, 26)),
            id="open-minutes-end",
        ),
    ],
)
def test_naive_wall_time_is_refused(call: Any) -> None:
    # A naive time would otherwise be read in the host's zone, not the schedule's.
    with pytest.raises(ValueError, match="aware datetime"):
        call()


@pytest.mark.parametrize(
    ("sched", "start", "end", "minutes"),
    [
        # Mon 18-Tue 08, Tue-Wed, Wed-Thu, Thu-Fri: 4 x 14 h; Fri 18:00 to Mon 00:00: 6 + 48 h.
        # (5 x 14 h + 2 x 24 h = 118 h, minus Friday's 8 h spill into Saturday = 110 h.)
        pytest.param(OFFICE, sh(2026, 11, 23), sh(2026, 11, 30), 110 * 60, id="plain-week"),
        # Same week counted Wed 12:00 to Wed 12:00: Wed 18-Thu 08, Thu-Fri (2 x 14 h), Fri 18 to
        # Mon 00 (54 h), Mon 18-Tue 08, Tue 18-Wed 08 (2 x 14 h).
        pytest.param(OFFICE, sh(2026, 11, 25, 12), sh(2026, 12, 2, 12), 110 * 60, id="mid-week"),
        # Mon 28, Tue 29 (2 x 14 h); Wed 30 18:00 runs through 国庆节 to Mon Oct 5 00:00: 102 h.
        pytest.param(OFFICE, sh(2026, 9, 28), sh(2026, 10, 5), 130 * 60, id="national-day-week"),
        # Mon Oct 5 00:00 to Thu Oct 8 08:00 (80 h), Thu and Fri evenings (2 x 14 h), adjusted Sat
        # Oct 10 18:00 to Mon 00:00 (30 h).
        pytest.param(OFFICE, sh(2026, 10, 5), sh(2026, 10, 12), 138 * 60, id="week-after-holiday"),
        pytest.param(
            schedule(*NATURAL, holidays_open=False),
            sh(2026, 9, 28),
            sh(2026, 10, 5),
            110 * 60,
            id="national-day-week-holidays-closed",
        ),
        # Europe/Berlin springs forward on Sunday 2026-03-29: that Sunday has 23 hours.
        pytest.param(
            schedule(*NATURAL, time_zone="Europe/Berlin"),
            datetime(2026, 3, 23, tzinfo=BERLIN),
            datetime(2026, 3, 30, tzinfo=BERLIN),
            109 * 60,
            id="berlin-dst-week",
        ),
        pytest.param(OFFICE, sh(2026, 11, 25, 10), sh(2026, 11, 25, 10), 0, id="empty-range"),
        pytest.param(SHORT, sh(2026, 11, 23), sh(2026, 11, 30), 3 * 14 * 60, id="three-days"),
    ],
)
def test_open_minutes(sched: Schedule, start: datetime, end: datetime, minutes: int) -> None:
    assert open_minutes(sched, CN, start, end) == minutes


# -- 4. access decision -----------------------------------------------------------------------

UNIT = Membership(
    "sz-gov", "市机关事务管理局", tokens=frozenset({"CARD-MEMBER"}), groups=frozenset({"STAFF"})
)
OPENS = sh(2026, 11, 25, 18)


@pytest.mark.parametrize(
    ("mode", "membership", "token", "group", "public_open", "allowed", "price", "reason"),
    [
        pytest.param(
            AccessMode.PRIVATE, UNIT, "CARD-MEMBER", None, None, True, PriceClass.MEMBER,
            "member of 市机关事务管理局", id="member-token-private",
        ),
        pytest.param(
            AccessMode.SHARED, UNIT, "CARD-MEMBER", None, False, True, PriceClass.MEMBER,
            "member of 市机关事务管理局", id="member-token-shared-closed",
        ),
        pytest.param(
            AccessMode.SHARED, UNIT, "CARD-OTHER", "STAFF", None, True, PriceClass.MEMBER,
            "member of 市机关事务管理局", id="member-group-shared-no-schedule",
        ),
        pytest.param(
            AccessMode.PUBLIC, UNIT, "CARD-OTHER", "STAFF", None, True, PriceClass.MEMBER,
            "member of 市机关事务管理局", id="member-group-public",
        ),
        pytest.param(
            AccessMode.PUBLIC, UNIT, "CARD-PUBLIC", None, None, True, PriceClass.PUBLIC,
            "public station", id="public-token-public",
        ),
        pytest.param(
            AccessMode.PUBLIC, None, "CARD-PUBLIC", None, None, True, PriceClass.PUBLIC,
            "public station", id="public-token-public-no-unit",
        ),
        pytest.param(
            AccessMode.PRIVATE, UNIT, "CARD-PUBLIC", "OTHERS", None, False, PriceClass.PUBLIC,
            "private station: members of 市机关事务管理局 only", id="public-token-private",
        ),
        pytest.param(
            AccessMode.SHARED, UNIT, "CARD-PUBLIC", None, True, True, PriceClass.PUBLIC,
            "open to the public", id="public-token-shared-open",
        ),
        pytest.param(
            AccessMode.SHARED, UNIT, "CARD-PUBLIC", None, False, False, PriceClass.PUBLIC,
            "opens to the public at 2026-11-25T18:00:00+08:00", id="public-token-shared-closed",
        ),
        pytest.param(
            AccessMode.SHARED, UNIT, "CARD-PUBLIC", None, None, False, PriceClass.PUBLIC,
            "has no opening schedule in force", id="public-token-shared-no-schedule",
        ),
        pytest.param(
            AccessMode.SHARED, None, "CARD-UNKNOWN", None, False, False, PriceClass.PUBLIC,
            "shared station of its owner unit is reserved for its members now",
            id="unknown-token-no-membership-shared-closed",
        ),
        pytest.param(
            AccessMode.SHARED, UNIT, None, None, False, False, PriceClass.PUBLIC,
            "reserved for its members now", id="no-token-shared-closed",
        ),
    ],
)  # fmt: skip
def test_decide(
    mode: AccessMode,
    membership: Membership | None,
    token: str | None,
    group: str | None,
    public_open: bool | None,
    allowed: bool,
    price: PriceClass,
    reason: str,
) -> None:
    decision = decide(mode, membership, token, group, public_open=public_open, next_change=OPENS)
    assert decision.allowed is allowed
    assert decision.price_class is price
    assert reason in decision.reason
    if public_open is False and not allowed:
        assert decision.next_change == OPENS
    else:
        assert decision.next_change is None


def test_decide_closed_without_a_known_reopening() -> None:
    decision = decide(AccessMode.SHARED, UNIT, "CARD-PUBLIC", None, public_open=False)
    assert decision.reason == "shared station of 市机关事务管理局 is reserved for its members now"
    assert decision.next_change is None


def test_decide_from_the_schedule() -> None:
    state = openness(OFFICE, CN, sh(2026, 11, 25, 10))
    decision = decide(
        AccessMode.SHARED,
        UNIT,
        "CARD-PUBLIC",
        None,
        public_open=state.open,
        next_change=state.next_change,
    )
    assert not decision.allowed
    assert "opens to the public at 2026-11-25T10:00:00+00:00" in decision.reason


# -- 5. codec ---------------------------------------------------------------------------------

ROW: dict[str, Any] = {
    "time_zone": "Asia/Shanghai",
    "effective_from": date(2024, 1, 1),
    "effective_to": None,
    "windows": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00", "end": "08:00"},
        {"days": ["sun", "sat"], "start": "00:00", "end": "24:00"},
    ],
    "exceptions": [
        {"date": "2026-11-28", "kind": "closed", "note": "运动会"},
        {
            "date": date(2026, 11, 25),
            "kind": "windows",
            "windows": [{"start": "12:00", "end": "14:00"}],
        },
        {"date": "2026-12-02", "kind": "open", "windows": None},
    ],
    "holidays_open": True,
    "workday_pattern": 0,
}


def test_schedule_from_a_row() -> None:
    assert schedule_from(ROW) == WITH_EXCEPTIONS
    got = schedule_from(ROW)
    assert got.windows == (
        Window(frozenset({0, 1, 2, 3, 4}), 1080, 480),
        Window(frozenset({5, 6}), 0, 1440),
    )
    assert got.exceptions[SAT].note == "运动会"
    assert got.exceptions[WED].windows == ((720, 840),)


def test_codec_json_round_trips() -> None:
    assert windows_json(WITH_EXCEPTIONS) == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00", "end": "08:00"},
        {"days": ["sat", "sun"], "start": "00:00", "end": "24:00"},
    ]
    assert exceptions_json(WITH_EXCEPTIONS) == [
        {
            "date": "2026-11-25",
            "kind": "windows",
            "windows": [{"start": "12:00", "end": "14:00"}],
            "note": "",
        },
        {"date": "2026-11-28", "kind": "closed", "windows": [], "note": "运动会"},
        {"date": "2026-12-02", "kind": "open", "windows": [], "note": ""},
    ]
    row = {
        **ROW,
        "windows": windows_json(WITH_EXCEPTIONS),
        "exceptions": exceptions_json(WITH_EXCEPTIONS),
    }
    assert schedule_from(row) == WITH_EXCEPTIONS


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {
                "exceptions": [
                    {"date": "2026-11-28", "kind": "closed"},
                    {"date": date(2026, 11, 28), "kind": "open"},
                ]
            },
            "exception 2026-11-28 is given twice",
            id="duplicate-exception-date",
        ),
        pytest.param(
            {"windows": [{"days": ["monday"], "start": "18:00", "end": "08:00"}]},
            None,  # tuple.index's own message: it does not name the day
            id="unknown-weekday",
        ),
        pytest.param(
            {"exceptions": [{"date": "2026-11-28", "kind": "maybe"}]},
            "'maybe' is not a valid ExceptionKind",
            id="unknown-exception-kind",
        ),
        pytest.param(
            {"windows": [{"days": ["mon"], "start": "25:00", "end": "08:00"}]},
            "'25:00' is not a time of day",
            id="hour-25",
        ),
        pytest.param(
            {"windows": [{"days": ["mon"], "start": "18:00"}]},
            "schedule: missing or malformed 'end'",
            id="missing-end",
        ),
        pytest.param(
            {"exceptions": [{"date": "28/11/2026", "kind": "closed"}]},
            "Invalid isoformat string",
            id="bad-exception-date",
        ),
    ],
)
def test_schedule_from_refuses(changes: dict[str, Any], message: str | None) -> None:
    with pytest.raises(ValueError, match=None if message is None else re.escape(message)):
        schedule_from({**ROW, **changes})


# -- 6. properties ----------------------------------------------------------------------------


@st.composite
def weekly_schedules(draw: st.DrawFn) -> Schedule:
    windows = draw(
        st.lists(
            st.builds(
                Window,
                st.frozensets(st.integers(0, 6), min_size=1, max_size=7),
                st.integers(0, 47).map(lambda half_hours: half_hours * 30),
                st.integers(1, 48).map(lambda half_hours: half_hours * 30),
            ),
            max_size=4,
        )
    )
    sched = Schedule(
        time_zone=draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin"])),
        effective_from=date(2023, 1, 1),
        windows=(),
        holidays_open=draw(st.booleans()),
        workday_pattern=draw(st.integers(0, 4)),
    )
    for candidate in windows:  # keep the windows that leave the schedule valid
        longer = dataclasses.replace(sched, windows=(*sched.windows, candidate))
        if not problems(longer):
            sched = longer
    return sched


INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(sched=weekly_schedules(), at=INSTANTS)
def test_openness_agrees_with_open_intervals(sched: Schedule, at: datetime) -> None:
    state = openness(sched, CN, at)
    nearby = open_intervals(sched, CN, at - timedelta(days=2), at + timedelta(days=2))
    assert state.open == any(lo <= at < hi for lo, hi in nearby)
    if state.next_change is not None:
        change = state.next_change
        assert change > at
        # Constant from `at` up to the change, different at the change.
        assert open_intervals(sched, CN, at, change) == ([(at, change)] if state.open else [])
        assert openness(sched, CN, change - timedelta(microseconds=1)).open == state.open
        assert openness(sched, CN, change).open != state.open
