"""Tariff validation, the price-policy guard, HH:MM helpers and band segmentation."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.billing.tariff import (
    Band,
    BandPrice,
    DayPlan,
    DayType,
    IdleFee,
    Period,
    Segment,
    Tariff,
    hhmm,
    parse_hhmm,
    policy_problems,
    problems,
    segments,
    weekday_type,
)
from tests.unit.tariff_specs import periods, plan

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")

PRICES = {
    Band.SHARP: BandPrice(D("1.2000"), D("0.8000")),
    Band.PEAK: BandPrice(D("1.0000"), D("0.8000")),
    Band.FLAT: BandPrice(D("0.6000"), D("0.6000")),
    Band.VALLEY: BandPrice(D("0.3000"), D("0.4000")),
}

BASE_DAY = (
    "00:00-07:00 valley, 07:00-10:00 flat, 10:00-12:00 peak, 12:00-18:00 flat, "
    "18:00-22:00 peak, 22:00-23:00 flat, 23:00-24:00 valley"
)
SUMMER_DAY = (
    "00:00-07:00 valley, 07:00-10:00 flat, 10:00-12:00 peak, 12:00-18:00 flat, "
    "18:00-19:00 peak, 19:00-21:00 sharp, 21:00-22:00 peak, 22:00-23:00 flat, 23:00-24:00 valley"
)
WEEKEND_DAY = "00:00-08:00 valley, 08:00-24:00 flat"


BASE = Tariff(
    tariff_id="t1",
    version=1,
    name="Shanghai TOU",
    prices=PRICES,
    plans=(plan(BASE_DAY),),
    effective_from=datetime(2026, 1, 1, tzinfo=UTC),
)


def tariff(**changes: Any) -> Tariff:
    return dataclasses.replace(BASE, **changes)


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """'2026-01-05 06:30' in `zone`; '24:00' is midnight of the next day."""
    day, clock = text.split()
    base = datetime.fromisoformat(day).replace(tzinfo=zone)
    return (base + timedelta(minutes=parse_hhmm(clock))).replace(tzinfo=zone)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- validation -----------------------------------------------------------------------------------


def test_good_tariff_has_no_problems() -> None:
    assert problems(BASE) == []


def test_full_featured_good_tariff_has_no_problems() -> None:
    good = tariff(
        plans=(
            plan(WEEKEND_DAY, day_types={DayType.WEEKEND, DayType.HOLIDAY}),
            plan(SUMMER_DAY, months={7, 8}),
            plan(BASE_DAY),
        ),
        effective_to=datetime(2027, 1, 1, tzinfo=UTC),
        idle=IdleFee(D("0.5000"), grace_minutes=15, cap=D("30.00")),
        session_fee=D("1.50"),
        time_zone="Asia/Shanghai",
        currency="CNY",
    )
    assert problems(good) == []


def test_periods_listed_out_of_order_are_valid() -> None:
    shuffled = tuple(reversed(periods(BASE_DAY)))
    assert problems(tariff(plans=(DayPlan(shuffled),))) == []


VALIDATION_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "overlap",
        {"plans": (plan("00:00-08:00 valley, 07:00-24:00 flat"),)},
        ["plans[0]: periods overlap at 07:00-08:00"],
    ),
    (
        "overlap contained",
        {"plans": (plan("00:00-24:00 flat, 10:00-12:00 peak"),)},
        ["plans[0]: periods overlap at 10:00-12:00"],
    ),
    (
        "gap",
        {"plans": (plan("00:00-07:00 valley, 08:00-24:00 flat"),)},
        ["plans[0]: no band covers 07:00-08:00"],
    ),
    (
        "gap at the start",
        {"plans": (plan("00:30-24:00 flat"),)},
        ["plans[0]: no band covers 00:00-00:30"],
    ),
    (
        "gap at the end",
        {"plans": (plan("00:00-23:00 flat"),)},
        ["plans[0]: no band covers 23:00-24:00"],
    ),
    (
        "ends before it starts",
        {"plans": (DayPlan((Period(0, 1380, Band.FLAT), Period(1380, 420, Band.VALLEY))),)},
        [
            "plans[0]: period 23:00-07:00 ends before it starts "
            "(split a period that crosses midnight in two)"
        ],
    ),
    (
        "zero length",
        {"plans": (DayPlan((Period(0, 1440, Band.FLAT), Period(600, 600, Band.PEAK))),)},
        ["plans[0]: period 10:00-10:00 ends before it starts"],
    ),
    (
        "end past midnight",
        {"plans": (DayPlan((Period(0, 1380, Band.FLAT), Period(1380, 1500, Band.VALLEY))),)},
        ["plans[0]: period 23:00-25:00 is outside the day"],
    ),
    (
        "start at 24:00",
        {"plans": (DayPlan((Period(0, 1440, Band.FLAT), Period(1440, 1500, Band.VALLEY))),)},
        ["plans[0]: period 24:00-25:00 is outside the day"],
    ),
    (
        "month 13",
        {"plans": (plan(SUMMER_DAY, months={7, 13}), plan(BASE_DAY))},
        ["plans[0]: month 13 is not 1-12"],
    ),
    (
        "month 0",
        {"plans": (plan(SUMMER_DAY, months={0}), plan(BASE_DAY))},
        ["plans[0]: month 0 is not 1-12"],
    ),
    (
        "error in second plan",
        {"plans": (plan(SUMMER_DAY, months={7}), plan("00:00-07:00 valley, 07:30-24:00 flat"))},
        ["plans[1]: no band covers 07:00-07:30"],
    ),
    (
        "negative energy price",
        {"prices": {**PRICES, Band.VALLEY: BandPrice(D("-0.1000"), D("0.4000"))}},
        ["valley energy price must not be negative (-0.1000)"],
    ),
    (
        "negative service price",
        {"prices": {**PRICES, Band.PEAK: BandPrice(D("1.0000"), D("-0.01"))}},
        ["peak service price must not be negative (-0.01)"],
    ),
    (
        "five decimal places",
        {"prices": {**PRICES, Band.FLAT: BandPrice(D("0.6000"), D("0.60001"))}},
        ["flat service price has more than 4 decimal places (0.60001)"],
    ),
    (
        "absurd energy price",
        {"prices": {**PRICES, Band.FLAT: BandPrice(D("1E+20"), D("0.6000"))}},
        ["flat energy price 1E+20 is beyond any real price (at most 10)"],
    ),
    (
        "energy price at the sanity bound",
        {"prices": {**PRICES, Band.FLAT: BandPrice(D("10.0000"), D("0.6000"))}},
        [],
    ),
    (
        "trailing zeros are not extra places",
        {"prices": {**PRICES, Band.FLAT: BandPrice(D("0.60000"), D("0.6000"))}},
        [],
    ),
    (
        "not a number",
        {"prices": {**PRICES, Band.SHARP: BandPrice(D("NaN"), D("0.8000"))}},
        ["sharp energy price must be a number"],
    ),
    (
        "infinite",
        {"prices": {**PRICES, Band.SHARP: BandPrice(D("1.2"), D("Infinity"))}},
        ["sharp service price must be a number"],
    ),
    (
        "band used without a price",
        {"prices": {b: p for b, p in PRICES.items() if b is not Band.PEAK}},
        ["band peak is used but has no price"],
    ),
    (
        "three bands without a price, in order",
        {"prices": {Band.SHARP: PRICES[Band.SHARP]}},
        [
            "band flat is used but has no price",
            "band peak is used but has no price",
            "band valley is used but has no price",
        ],
    ),
    (
        "weekdays only",
        {"plans": (plan(BASE_DAY, day_types={DayType.WORKDAY}),)},
        [
            "no day plan applies to month 1 weekend, month 1 holiday, month 2 weekend, "
            "month 2 holiday, month 3 weekend, month 3 holiday and 18 more; "
            "add a plan without filters as a fallback"
        ],
    ),
    (
        "summer only",
        {"plans": (plan(SUMMER_DAY, months={7, 8}),)},
        [
            "no day plan applies to month 1 workday, month 1 weekend, month 1 holiday, "
            "month 2 workday, month 2 weekend, month 2 holiday and 24 more;"
        ],
    ),
    (
        "one month missing",
        {
            "plans": (
                plan(BASE_DAY, months=set(range(1, 12))),
                plan(WEEKEND_DAY, months={12}, day_types={DayType.WEEKEND, DayType.HOLIDAY}),
            )
        },
        ["no day plan applies to month 12 workday; add a plan without filters as a fallback"],
    ),
    (
        "no plans",
        {"plans": ()},
        ["at least one day plan with periods is needed"],
    ),
    (
        "empty plan",
        {"plans": (DayPlan(()),)},
        ["plans[0]: no band covers 00:00-24:00"],
    ),
    (
        "unknown zone",
        {"time_zone": "Mars/Olympus_Mons"},
        ["time_zone 'Mars/Olympus_Mons' is not an IANA time zone"],
    ),
    (
        "malformed zone",
        {"time_zone": "../etc/passwd"},
        ["time_zone '../etc/passwd' is not an IANA time zone"],
    ),
    (
        "fixed offset is not a zone",
        {"time_zone": "+08:00"},
        ["time_zone '+08:00' is not an IANA time zone"],
    ),
    ("usd", {"currency": "USD"}, ["currency must be CNY, not 'USD'"]),
    ("lower case cny", {"currency": "cny"}, ["currency must be CNY, not 'cny'"]),
    (
        "effective_to equal",
        {"effective_to": datetime(2026, 1, 1, tzinfo=UTC)},
        ["effective_to must be after effective_from"],
    ),
    (
        "effective_to before",
        {"effective_to": datetime(2025, 12, 31, tzinfo=UTC)},
        ["effective_to must be after effective_from"],
    ),
    (
        "effective_to same instant in another offset",
        {"effective_to": datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))},
        ["effective_to must be after effective_from"],
    ),
    (
        "naive effective_from",
        {"effective_from": datetime(2026, 1, 1)},
        ["effective_from needs a UTC offset"],
    ),
    (
        "naive effective_from with an aware effective_to",
        {"effective_from": datetime(2026, 1, 1), "effective_to": datetime(2027, 1, 1, tzinfo=UTC)},
        ["effective_from needs a UTC offset"],
    ),
    (
        "naive effective_to",
        {"effective_to": datetime(2027, 1, 1)},
        ["effective_to needs a UTC offset"],
    ),
    (
        "idle grace negative",
        {"idle": IdleFee(D("0.5000"), grace_minutes=-1)},
        ["idle grace_minutes must not be negative"],
    ),
    (
        "idle per minute negative",
        {"idle": IdleFee(D("-0.5000"))},
        ["idle per_minute must not be negative (-0.5000)"],
    ),
    (
        "idle per minute five places",
        {"idle": IdleFee(D("0.00005"))},
        ["idle per_minute has more than 4 decimal places (0.00005)"],
    ),
    (
        "idle cap in tenths of a fen",
        {"idle": IdleFee(D("0.5"), cap=D("10.005"))},
        ["idle cap has more than 2 decimal places (10.005)"],
    ),
    (
        "session fee in tenths of a fen",
        {"session_fee": D("0.005")},
        ["session_fee has more than 2 decimal places (0.005)"],
    ),
    (
        "session fee negative",
        {"session_fee": D("-1")},
        ["session_fee must not be negative (-1)"],
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [(c, e) for _, c, e in VALIDATION_CASES],
    ids=[name for name, _, _ in VALIDATION_CASES],
)
def test_problems(changes: dict[str, Any], expected: list[str]) -> None:
    found = problems(tariff(**changes))
    assert len(found) == len(expected), found
    for message, wanted in zip(found, expected, strict=True):
        assert wanted in message


def test_month_13_alone_also_reports_coverage() -> None:
    found = problems(tariff(plans=(plan(BASE_DAY, months={13}),)))
    assert found[0] == "plans[0]: month 13 is not 1-12"
    assert found[1].startswith("no day plan applies to month 1 workday")
    assert found[1].endswith("and 30 more; add a plan without filters as a fallback")
    assert len(found) == 2


def test_fallback_plan_fixes_coverage() -> None:
    seasonal = plan(SUMMER_DAY, months={7, 8})
    weekend = plan(WEEKEND_DAY, day_types={DayType.WEEKEND})
    assert problems(tariff(plans=(seasonal, weekend))) != []
    assert problems(tariff(plans=(seasonal, weekend, plan(BASE_DAY)))) == []


def test_many_problems_are_all_reported() -> None:
    bad = tariff(
        currency="EUR",
        time_zone="Nowhere/Land",
        prices={Band.FLAT: BandPrice(D("-1"), D("0.12345"))},
        plans=(plan("00:00-07:00 valley, 08:00-24:00 flat"),),
        idle=IdleFee(D("0.1"), grace_minutes=-5),
    )
    assert problems(bad) == [
        "time_zone 'Nowhere/Land' is not an IANA time zone",
        "currency must be CNY, not 'EUR'",
        "flat energy price must not be negative (-1)",
        "flat service price has more than 4 decimal places (0.12345)",
        "idle grace_minutes must not be negative",
        "plans[0]: no band covers 07:00-08:00",
        "band valley is used but has no price",
    ]


# -- policy guard -------------------------------------------------------------------------------

POLICY_CASES: list[tuple[str, str | None, str | None, list[str]]] = [
    ("no limits", None, None, []),
    (
        "below floor",
        "0.5",
        None,
        ["valley service price 0.4000 CNY/kWh is below the policy floor 0.5 CNY/kWh"],
    ),
    (
        "above ceiling",
        None,
        "0.7",
        [
            "peak service price 0.8000 CNY/kWh is above the policy ceiling 0.7 CNY/kWh",
            "sharp service price 0.8000 CNY/kWh is above the policy ceiling 0.7 CNY/kWh",
        ],
    ),
    ("exactly floor and ceiling", "0.4", "0.8", []),
    ("exactly floor and ceiling with trailing zeros", "0.40000", "0.800", []),
    ("floor only, met", "0.4000", None, []),
    ("ceiling only, met", None, "0.8000", []),
    (
        "both sides",
        "0.6001",
        "0.7999",
        [
            "flat service price 0.6000 CNY/kWh is below the policy floor 0.6001 CNY/kWh",
            "peak service price 0.8000 CNY/kWh is above the policy ceiling 0.7999 CNY/kWh",
            "sharp service price 0.8000 CNY/kWh is above the policy ceiling 0.7999 CNY/kWh",
            "valley service price 0.4000 CNY/kWh is below the policy floor 0.6001 CNY/kWh",
        ],
    ),
]


@pytest.mark.parametrize(
    ("floor", "ceiling", "expected"),
    [(f, c, e) for _, f, c, e in POLICY_CASES],
    ids=[name for name, *_ in POLICY_CASES],
)
def test_policy_problems(floor: str | None, ceiling: str | None, expected: list[str]) -> None:
    lo = None if floor is None else D(floor)
    hi = None if ceiling is None else D(ceiling)
    assert policy_problems(BASE, lo, hi) == expected


def test_policy_ignores_energy_price() -> None:
    # energy prices (1.2000 sharp) are the grid's, only the service price is guarded
    assert policy_problems(BASE, D("0.1"), D("1.0")) == []


# -- HH:MM ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minute"),
    [
        ("00:00", 0),
        ("00:01", 1),
        ("07:30", 450),
        ("7:05", 425),
        ("12:00", 720),
        ("23:59", 1439),
        ("24:00", 1440),
    ],
)
def test_parse_hhmm(text: str, minute: int) -> None:
    assert parse_hhmm(text) == minute


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not HH:MM"),
        ("0730", "is not HH:MM"),
        ("07:3", "is not HH:MM"),
        ("07:300", "is not HH:MM"),
        ("ab:cd", "is not HH:MM"),
        ("-1:00", "is not HH:MM"),
        ("07:-1", "is not HH:MM"),
        (" 7:00", "is not HH:MM"),
        ("07:00:00", "is not HH:MM"),
        (":30", "is not HH:MM"),
        ("07:60", "is not a time of day"),
        ("24:01", "is not a time of day"),
        ("25:00", "is not a time of day"),
    ],
)
def test_parse_hhmm_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hhmm(text)


@pytest.mark.parametrize(
    ("minute", "text"),
    [(0, "00:00"), (5, "00:05"), (450, "07:30"), (1439, "23:59"), (1440, "24:00")],
)
def test_hhmm(minute: int, text: str) -> None:
    assert hhmm(minute) == text


def test_hhmm_round_trips_every_minute() -> None:
    assert [parse_hhmm(hhmm(m)) for m in range(1441)] == list(range(1441))


# -- segments -------------------------------------------------------------------------------------

Expected = list[tuple[str, str, str]]  # local start, local end, band


def expect(rows: Expected, zone: ZoneInfo = SHANGHAI) -> list[Segment]:
    return [Segment(local(a, zone), local(b, zone), Band(band)) for a, b, band in rows]


def check(found: list[Segment], rows: Expected, zone: ZoneInfo = SHANGHAI) -> None:
    assert found == expect(rows, zone)
    for seg in found:  # segments are UTC instants, not local ones
        assert seg.start.tzinfo is UTC and seg.end.tzinfo is UTC


SEGMENT_CASES: list[tuple[str, str, str, Expected]] = [
    (
        "inside one band",
        "2026-01-05 01:00",
        "2026-01-05 02:00",
        [("2026-01-05 01:00", "2026-01-05 02:00", "valley")],
    ),
    (
        "one crossing",
        "2026-01-05 06:30",
        "2026-01-05 07:30",
        [
            ("2026-01-05 06:30", "2026-01-05 07:00", "valley"),
            ("2026-01-05 07:00", "2026-01-05 07:30", "flat"),
        ],
    ),
    (
        "several crossings",
        "2026-01-05 09:15",
        "2026-01-05 19:45",
        [
            ("2026-01-05 09:15", "2026-01-05 10:00", "flat"),
            ("2026-01-05 10:00", "2026-01-05 12:00", "peak"),
            ("2026-01-05 12:00", "2026-01-05 18:00", "flat"),
            ("2026-01-05 18:00", "2026-01-05 19:45", "peak"),
        ],
    ),
    (
        "starts and ends on edges",
        "2026-01-05 07:00",
        "2026-01-05 10:00",
        [("2026-01-05 07:00", "2026-01-05 10:00", "flat")],
    ),
    (
        "ends at midnight",
        "2026-01-05 23:30",
        "2026-01-05 24:00",
        [("2026-01-05 23:30", "2026-01-06 00:00", "valley")],
    ),
    (
        "starts at midnight",
        "2026-01-06 00:00",
        "2026-01-06 00:10",
        [("2026-01-06 00:00", "2026-01-06 00:10", "valley")],
    ),
    (
        "across midnight merges the valley",
        "2026-01-05 22:30",
        "2026-01-06 08:00",
        [
            ("2026-01-05 22:30", "2026-01-05 23:00", "flat"),
            ("2026-01-05 23:00", "2026-01-06 07:00", "valley"),
            ("2026-01-06 07:00", "2026-01-06 08:00", "flat"),
        ],
    ),
    (
        "23:00 valley into the next day",
        "2026-01-05 23:00",
        "2026-01-06 07:00",
        [("2026-01-05 23:00", "2026-01-06 07:00", "valley")],
    ),
    (
        "a whole day",
        "2026-01-05 00:00",
        "2026-01-06 00:00",
        [
            ("2026-01-05 00:00", "2026-01-05 07:00", "valley"),
            ("2026-01-05 07:00", "2026-01-05 10:00", "flat"),
            ("2026-01-05 10:00", "2026-01-05 12:00", "peak"),
            ("2026-01-05 12:00", "2026-01-05 18:00", "flat"),
            ("2026-01-05 18:00", "2026-01-05 22:00", "peak"),
            ("2026-01-05 22:00", "2026-01-05 23:00", "flat"),
            ("2026-01-05 23:00", "2026-01-06 00:00", "valley"),
        ],
    ),
    (
        "two nights",
        "2026-01-05 22:00",
        "2026-01-07 08:00",
        [
            ("2026-01-05 22:00", "2026-01-05 23:00", "flat"),
            ("2026-01-05 23:00", "2026-01-06 07:00", "valley"),
            ("2026-01-06 07:00", "2026-01-06 10:00", "flat"),
            ("2026-01-06 10:00", "2026-01-06 12:00", "peak"),
            ("2026-01-06 12:00", "2026-01-06 18:00", "flat"),
            ("2026-01-06 18:00", "2026-01-06 22:00", "peak"),
            ("2026-01-06 22:00", "2026-01-06 23:00", "flat"),
            ("2026-01-06 23:00", "2026-01-07 07:00", "valley"),
            ("2026-01-07 07:00", "2026-01-07 08:00", "flat"),
        ],
    ),
    (
        "zero length inside a band",
        "2026-01-05 06:59",
        "2026-01-05 06:59",
        [("2026-01-05 06:59", "2026-01-05 06:59", "valley")],
    ),
    (
        "zero length on an edge takes the later band",
        "2026-01-05 07:00",
        "2026-01-05 07:00",
        [("2026-01-05 07:00", "2026-01-05 07:00", "flat")],
    ),
    (
        "zero length at 23:00",
        "2026-01-05 23:00",
        "2026-01-05 23:00",
        [("2026-01-05 23:00", "2026-01-05 23:00", "valley")],
    ),
    (
        "zero length at midnight",
        "2026-01-06 00:00",
        "2026-01-06 00:00",
        [("2026-01-06 00:00", "2026-01-06 00:00", "valley")],
    ),
]


@pytest.mark.parametrize(
    ("start", "end", "rows"),
    [(s, e, r) for _, s, e, r in SEGMENT_CASES],
    ids=[name for name, *_ in SEGMENT_CASES],
)
def test_segments(start: str, end: str, rows: Expected) -> None:
    check(segments(BASE, local(start), local(end)), rows)


def test_segments_with_periods_out_of_order() -> None:
    shuffled = tariff(plans=(DayPlan(tuple(reversed(periods(BASE_DAY)))),))
    check(
        segments(shuffled, local("2026-01-05 06:30"), local("2026-01-06 07:30")),
        [
            ("2026-01-05 06:30", "2026-01-05 07:00", "valley"),
            ("2026-01-05 07:00", "2026-01-05 10:00", "flat"),
            ("2026-01-05 10:00", "2026-01-05 12:00", "peak"),
            ("2026-01-05 12:00", "2026-01-05 18:00", "flat"),
            ("2026-01-05 18:00", "2026-01-05 22:00", "peak"),
            ("2026-01-05 22:00", "2026-01-05 23:00", "flat"),
            ("2026-01-05 23:00", "2026-01-06 07:00", "valley"),
            ("2026-01-06 07:00", "2026-01-06 07:30", "flat"),
        ],
    )


def test_adjacent_same_band_periods_merge() -> None:
    split = tariff(plans=(plan("00:00-07:00 valley, 07:00-12:00 flat, 12:00-24:00 flat"),))
    check(
        segments(split, local("2026-01-05 06:00"), local("2026-01-05 13:00")),
        [
            ("2026-01-05 06:00", "2026-01-05 07:00", "valley"),
            ("2026-01-05 07:00", "2026-01-05 13:00", "flat"),
        ],
    )


def test_end_before_start_raises() -> None:
    with pytest.raises(ValueError, match="end before start"):
        segments(BASE, local("2026-01-05 08:00"), local("2026-01-05 07:59"))


SEASONAL = tariff(plans=(plan(SUMMER_DAY, months={7, 8}), plan(BASE_DAY)))


def test_month_boundary_switches_to_the_summer_plan() -> None:
    check(
        segments(SEASONAL, local("2026-06-30 18:00"), local("2026-07-01 22:00")),
        [
            ("2026-06-30 18:00", "2026-06-30 22:00", "peak"),  # June: no sharp band
            ("2026-06-30 22:00", "2026-06-30 23:00", "flat"),
            ("2026-06-30 23:00", "2026-07-01 07:00", "valley"),
            ("2026-07-01 07:00", "2026-07-01 10:00", "flat"),
            ("2026-07-01 10:00", "2026-07-01 12:00", "peak"),
            ("2026-07-01 12:00", "2026-07-01 18:00", "flat"),
            ("2026-07-01 18:00", "2026-07-01 19:00", "peak"),
            ("2026-07-01 19:00", "2026-07-01 21:00", "sharp"),
            ("2026-07-01 21:00", "2026-07-01 22:00", "peak"),
        ],
    )


def test_month_boundary_leaving_summer() -> None:
    check(
        segments(SEASONAL, local("2026-08-31 20:00"), local("2026-09-01 20:00")),
        [
            ("2026-08-31 20:00", "2026-08-31 21:00", "sharp"),
            ("2026-08-31 21:00", "2026-08-31 22:00", "peak"),
            ("2026-08-31 22:00", "2026-08-31 23:00", "flat"),
            ("2026-08-31 23:00", "2026-09-01 07:00", "valley"),
            ("2026-09-01 07:00", "2026-09-01 10:00", "flat"),
            ("2026-09-01 10:00", "2026-09-01 12:00", "peak"),
            ("2026-09-01 12:00", "2026-09-01 18:00", "flat"),
            ("2026-09-01 18:00", "2026-09-01 20:00", "peak"),
        ],
    )


HOLIDAY_DAY = "00:00-24:00 valley"
WEEKLY = tariff(
    plans=(
        plan(HOLIDAY_DAY, day_types={DayType.HOLIDAY}),
        plan(WEEKEND_DAY, day_types={DayType.WEEKEND}),
        plan(BASE_DAY),
    )
)


def test_friday_night_into_weekend() -> None:
    # 2026-01-09 is a Friday
    assert weekday_type(date(2026, 1, 9)) is DayType.WORKDAY
    assert weekday_type(date(2026, 1, 10)) is DayType.WEEKEND
    check(
        segments(WEEKLY, local("2026-01-09 21:00"), local("2026-01-10 09:00")),
        [
            ("2026-01-09 21:00", "2026-01-09 22:00", "peak"),
            ("2026-01-09 22:00", "2026-01-09 23:00", "flat"),
            ("2026-01-09 23:00", "2026-01-10 08:00", "valley"),  # weekend valley lasts to 08:00
            ("2026-01-10 08:00", "2026-01-10 09:00", "flat"),
        ],
    )


def test_sunday_night_into_monday() -> None:
    check(
        segments(WEEKLY, local("2026-01-11 21:00"), local("2026-01-12 08:00")),
        [
            ("2026-01-11 21:00", "2026-01-12 00:00", "flat"),  # no 22:00 peak on Sunday
            ("2026-01-12 00:00", "2026-01-12 07:00", "valley"),
            ("2026-01-12 07:00", "2026-01-12 08:00", "flat"),
        ],
    )


def test_custom_day_type_holiday() -> None:
    holiday = date(2026, 1, 5)  # a Monday declared a holiday

    def calendar(day: date) -> DayType:
        return DayType.HOLIDAY if day == holiday else weekday_type(day)

    start, end = local("2026-01-05 09:00"), local("2026-01-06 11:00")
    check(
        segments(WEEKLY, start, end, calendar),
        [
            ("2026-01-05 09:00", "2026-01-06 07:00", "valley"),  # all day, then the night
            ("2026-01-06 07:00", "2026-01-06 10:00", "flat"),
            ("2026-01-06 10:00", "2026-01-06 11:00", "peak"),
        ],
    )
    check(
        segments(WEEKLY, start, end),  # the default calendar: an ordinary Monday
        [
            ("2026-01-05 09:00", "2026-01-05 10:00", "flat"),
            ("2026-01-05 10:00", "2026-01-05 12:00", "peak"),
            ("2026-01-05 12:00", "2026-01-05 18:00", "flat"),
            ("2026-01-05 18:00", "2026-01-05 22:00", "peak"),
            ("2026-01-05 22:00", "2026-01-05 23:00", "flat"),
            ("2026-01-05 23:00", "2026-01-06 07:00", "valley"),
            ("2026-01-06 07:00", "2026-01-06 10:00", "flat"),
            ("2026-01-06 10:00", "2026-01-06 11:00", "peak"),
        ],
    )


def test_holiday_calendar_is_asked_about_each_local_day() -> None:
    asked: list[date] = []

    def calendar(day: date) -> DayType:
        asked.append(day)
        return weekday_type(day)

    # 16:30Z on 4 Jan is 00:30 on 5 Jan in Shanghai: the days asked are local ones
    segments(BASE, utc("2026-01-04 16:30"), utc("2026-01-06 15:00"), calendar)
    assert asked == [date(2026, 1, 5), date(2026, 1, 6)]


def test_no_applicable_plan_raises_lookup_error() -> None:
    unchecked = tariff(plans=(plan(BASE_DAY, day_types={DayType.WORKDAY}),))
    with pytest.raises(LookupError, match="t1 v1 has no plan for 2026-01-10"):
        segments(unchecked, local("2026-01-10 10:00"), local("2026-01-10 11:00"))


# -- time zones -----------------------------------------------------------------------------------


def test_shanghai_edges_are_local_times() -> None:
    # 07:00+08:00 is 23:00Z the previous day
    found = segments(BASE, utc("2026-01-04 22:30"), utc("2026-01-04 23:30"))
    assert found == [
        Segment(utc("2026-01-04 22:30"), utc("2026-01-04 23:00"), Band.VALLEY),
        Segment(utc("2026-01-04 23:00"), utc("2026-01-04 23:30"), Band.FLAT),
    ]


def test_shanghai_local_midnight_is_16z() -> None:
    found = segments(BASE, utc("2026-01-04 14:30"), utc("2026-01-04 16:30"))
    # 22:30-23:00 flat, then the valley from 23:00 local (15:00Z) across local midnight (16:00Z)
    assert found == [
        Segment(utc("2026-01-04 14:30"), utc("2026-01-04 15:00"), Band.FLAT),
        Segment(utc("2026-01-04 15:00"), utc("2026-01-04 16:30"), Band.VALLEY),
    ]


@pytest.mark.parametrize("offset_hours", [-10, -5, 0, 1, 5.5, 8, 14], ids=lambda h: f"UTC{h:+}")
def test_input_offsets_give_utc_segments(offset_hours: float) -> None:
    zone = timezone(timedelta(hours=offset_hours))
    start = utc("2026-01-04 22:30").astimezone(zone)
    end = utc("2026-01-04 23:30").astimezone(zone)
    found = segments(BASE, start, end)
    assert found == [
        Segment(utc("2026-01-04 22:30"), utc("2026-01-04 23:00"), Band.VALLEY),
        Segment(utc("2026-01-04 23:00"), utc("2026-01-04 23:30"), Band.FLAT),
    ]
    assert all(s.start.utcoffset() == timedelta(0) for s in found)
    assert all(s.start.tzinfo is UTC for s in found)


def test_zone_aware_input_in_another_iana_zone() -> None:
    start = utc("2026-01-04 22:30").astimezone(ZoneInfo("America/New_York"))
    found = segments(BASE, start, start + timedelta(hours=1))
    assert [(s.start, s.band) for s in found] == [
        (utc("2026-01-04 22:30"), Band.VALLEY),
        (utc("2026-01-04 23:00"), Band.FLAT),
    ]


BERLIN_TARIFF = tariff(time_zone="Europe/Berlin")


@pytest.mark.parametrize(
    ("day", "seven_local_utc", "twentythree_local_utc"),
    [
        ("2026-03-28", "2026-03-28 06:00", "2026-03-28 22:00"),  # CET
        ("2026-03-29", "2026-03-29 05:00", "2026-03-29 21:00"),  # spring forward: CEST
        ("2026-10-24", "2026-10-24 05:00", "2026-10-24 21:00"),  # CEST
        ("2026-10-25", "2026-10-25 06:00", "2026-10-25 22:00"),  # fall back: CET
    ],
)
def test_dst_zone_edges_stay_at_local_wall_time(
    day: str, seven_local_utc: str, twentythree_local_utc: str
) -> None:
    found = segments(BERLIN_TARIFF, local(f"{day} 06:00", BERLIN), local(f"{day} 08:00", BERLIN))
    assert [s.band for s in found] == [Band.VALLEY, Band.FLAT]
    assert found[0].end == found[1].start == utc(seven_local_utc)
    found = segments(BERLIN_TARIFF, local(f"{day} 22:30", BERLIN), local(f"{day} 23:30", BERLIN))
    assert [s.band for s in found] == [Band.FLAT, Band.VALLEY]
    assert found[0].end == utc(twentythree_local_utc)


def test_spring_forward_night_is_an_hour_shorter() -> None:
    found = segments(BERLIN_TARIFF, utc("2026-03-28 21:00"), utc("2026-03-29 06:00"))
    assert found == [
        Segment(utc("2026-03-28 21:00"), utc("2026-03-28 22:00"), Band.FLAT),  # 22:00-23:00 CET
        Segment(utc("2026-03-28 22:00"), utc("2026-03-29 05:00"), Band.VALLEY),  # 7 h, not 8
        Segment(utc("2026-03-29 05:00"), utc("2026-03-29 06:00"), Band.FLAT),  # 07:00 CEST
    ]


def test_fall_back_night_is_an_hour_longer() -> None:
    found = segments(BERLIN_TARIFF, utc("2026-10-24 20:00"), utc("2026-10-25 07:00"))
    assert found == [
        Segment(utc("2026-10-24 20:00"), utc("2026-10-24 21:00"), Band.FLAT),
        Segment(utc("2026-10-24 21:00"), utc("2026-10-25 06:00"), Band.VALLEY),  # 9 h
        Segment(utc("2026-10-25 06:00"), utc("2026-10-25 07:00"), Band.FLAT),
    ]


def test_same_instants_split_differently_by_zone() -> None:
    start, end = utc("2026-01-05 05:30"), utc("2026-01-05 06:30")
    # 13:30-14:30 in Shanghai (flat all along); 06:30-07:30 in Berlin (valley then flat)
    assert segments(BASE, start, end) == [Segment(start, end, Band.FLAT)]
    assert segments(BERLIN_TARIFF, start, end) == [
        Segment(start, utc("2026-01-05 06:00"), Band.VALLEY),
        Segment(utc("2026-01-05 06:00"), end, Band.FLAT),
    ]


def test_edges_inside_the_spring_forward_gap_never_overlap() -> None:
    # 02:30 and 03:15 local: 02:30 does not exist on 2026-03-29 in Berlin
    gap = tariff(
        time_zone="Europe/Berlin",
        plans=(plan("00:00-02:30 valley, 02:30-03:15 flat, 03:15-24:00 peak"),),
    )
    found = segments(gap, utc("2026-03-29 00:00"), utc("2026-03-29 03:00"))
    assert found[0].start == utc("2026-03-29 00:00")
    assert found[-1].end == utc("2026-03-29 03:00")
    for a, b in pairwise(found):
        assert a.end == b.start
    assert all(s.start < s.end for s in found)
    assert [s.band for s in found] == [Band.VALLEY, Band.PEAK]


# -- properties -----------------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]


@st.composite
def random_tariffs(draw: st.DrawFn) -> Tariff:
    cuts = sorted(draw(st.sets(st.integers(1, 1439), max_size=6)))
    edges = [0, *cuts, 1440]
    bands = draw(st.lists(st.sampled_from(list(Band)), min_size=len(edges) - 1, max_size=24))
    day = tuple(Period(a, b, bands[i]) for i, (a, b) in enumerate(pairwise(edges)))
    months = draw(st.frozensets(st.integers(1, 12), max_size=4))
    summer_bands = draw(st.lists(st.sampled_from(list(Band)), min_size=2, max_size=2))
    summer_cut = draw(st.integers(1, 1439))
    summer = DayPlan(
        (
            Period(0, summer_cut, summer_bands[0]),
            Period(summer_cut, 1440, summer_bands[1]),
        ),
        months=months,
        day_types=frozenset({DayType.WEEKEND}),
    )
    return tariff(plans=(summer, DayPlan(day)), time_zone=draw(st.sampled_from(ZONES)))


def dst_day(t: Tariff, instant: datetime) -> bool:
    """Whether the local day of `instant` has a clock change (wall-clock oracle is ambiguous)."""
    day = instant.astimezone(t.zone).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=t.zone)
    return midnight.utcoffset() != (midnight + timedelta(days=1)).utcoffset()


def band_at(t: Tariff, instant: datetime) -> Band:
    """An independent oracle: the band at an instant, read off the local wall clock."""
    wall = instant.astimezone(t.zone)
    minute = wall.hour * 60 + wall.minute + wall.second / 60
    day_plan = t.plan_for(wall.date(), weekday_type(wall.date()))
    (band,) = [p.band for p in day_plan.periods if p.start <= minute < p.end]
    return band


@settings(max_examples=200, deadline=None)
@given(
    t=random_tariffs(),
    start=st.datetimes(datetime(2025, 12, 1), datetime(2027, 1, 31), timezones=st.just(UTC)),
    length=st.integers(0, 4 * 24 * 3600),
)
def test_segments_tile_the_span_and_match_the_wall_clock(
    t: Tariff, start: datetime, length: int
) -> None:
    assert problems(t) == []
    end = start + timedelta(seconds=length)
    found = segments(t, start, end)
    assert found[0].start == start
    assert found[-1].end == end
    for a, b in pairwise(found):
        assert a.end == b.start  # contiguous, no overlap
        assert a.band is not b.band  # same-band neighbours were merged
    if length == 0:
        assert len(found) == 1
        assert found[0].band is band_at(t, start)
        return
    for seg in found:
        assert seg.start < seg.end
    for seg in found:
        if dst_day(t, seg.start) or dst_day(t, seg.end):
            continue
        assert band_at(t, seg.start) is seg.band
        assert band_at(t, seg.start + (seg.end - seg.start) / 2) is seg.band
        assert band_at(t, seg.end - timedelta(microseconds=1)) is seg.band
