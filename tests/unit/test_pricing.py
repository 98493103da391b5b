"""Pricing a session: allocation to bands, largest remainder, rounding, idle and session fees."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction as F
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.billing.pricing import (
    Allocation,
    Bill,
    IdleCharge,
    allocate,
    idle_charge,
    largest_remainder,
    money,
    price,
)
from csms.billing.tariff import (
    Band,
    BandPrice,
    DayPlan,
    DayType,
    IdleFee,
    Period,
    Segment,
    Tariff,
    parse_hhmm,
    problems,
    segments,
    weekday_type,
)
from tests.unit.tariff_specs import plan

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))


@dataclasses.dataclass(frozen=True)
class R:
    at: datetime
    wh: int


PRICES = {
    Band.SHARP: BandPrice(D("1.2000"), D("0.8000")),
    Band.PEAK: BandPrice(D("1.0000"), D("0.8000")),
    Band.FLAT: BandPrice(D("0.6000"), D("0.6000")),
    Band.VALLEY: BandPrice(D("0.3000"), D("0.4000")),
}

# The example: valley 23:00-07:00 at 0.3000 + 0.4000, flat 07:00-23:00 at 0.6000 + 0.6000.
EXAMPLE = Tariff(
    tariff_id="sh-2026",
    version=3,
    name="Shanghai two-band",
    prices={Band.VALLEY: PRICES[Band.VALLEY], Band.FLAT: PRICES[Band.FLAT]},
    plans=(plan("00:00-07:00 valley, 07:00-23:00 flat, 23:00-24:00 valley"),),
    effective_from=datetime(2026, 1, 1, tzinfo=UTC),
)

BASE_DAY = (
    "00:00-07:00 valley, 07:00-10:00 flat, 10:00-12:00 peak, 12:00-18:00 flat, "
    "18:00-22:00 peak, 22:00-23:00 flat, 23:00-24:00 valley"
)
SUMMER_DAY = (
    "00:00-07:00 valley, 07:00-10:00 flat, 10:00-12:00 peak, 12:00-18:00 flat, "
    "18:00-19:00 peak, 19:00-21:00 sharp, 21:00-22:00 peak, 22:00-23:00 flat, 23:00-24:00 valley"
)
SEASONAL = dataclasses.replace(
    EXAMPLE, prices=PRICES, plans=(plan(SUMMER_DAY, months={7, 8}), plan(BASE_DAY))
)


def tariff(**changes: Any) -> Tariff:
    return dataclasses.replace(EXAMPLE, **changes)


def local(text: str) -> datetime:
    """'2026-01-05 06:30' in Shanghai; '24:00' is midnight of the next day."""
    day, clock = text.split()
    return datetime.fromisoformat(day).replace(tzinfo=CST) + timedelta(minutes=parse_hhmm(clock))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def readings(*rows: tuple[str, int]) -> list[R]:
    return [R(local(at), wh) for at, wh in rows]


LineRow = tuple[str, str, str, int, str, str]  # band, local start, local end, Wh, energy, service


def line_rows(bill: Bill) -> list[LineRow]:
    return [
        (
            line.band.value,
            line.start.astimezone(CST).strftime("%m-%d %H:%M"),
            line.end.astimezone(CST).strftime("%m-%d %H:%M"),
            line.energy_wh,
            str(line.energy_money),
            str(line.service_money),
        )
        for line in bill.lines
    ]


def assert_adds_up(bill: Bill) -> None:
    assert bill.energy_money == sum((line.energy_money for line in bill.lines), D(0))
    assert bill.service_money == sum((line.service_money for line in bill.lines), D(0))
    assert bill.total == bill.energy_money + bill.service_money + bill.idle.fee + bill.session_fee
    assert bill.energy_wh == sum(line.energy_wh for line in bill.lines)
    for value in (bill.total, bill.energy_money, bill.service_money, bill.idle.fee):
        assert value.as_tuple().exponent == -2
    assert bill.session_fee.as_tuple().exponent == -2
    for line in bill.lines:
        assert line.energy_money.as_tuple().exponent == -2
        assert line.service_money.as_tuple().exponent == -2
        assert line.total == line.energy_money + line.service_money


# -- the worked example ---------------------------------------------------------------------------

EXAMPLE_LINES: list[LineRow] = [
    ("valley", "01-05 06:30", "01-05 07:00", 15_000, "4.50", "6.00"),
    ("flat", "01-05 07:00", "01-05 07:30", 15_000, "9.00", "9.00"),
]


def test_worked_example_start_and_stop_only() -> None:
    bill = price(
        EXAMPLE,
        readings(("2026-01-05 06:30", 1_234_000), ("2026-01-05 07:30", 1_264_000)),
        allocation=Allocation.ESTIMATED,
    )
    assert line_rows(bill) == EXAMPLE_LINES
    assert bill.allocation is Allocation.ESTIMATED
    assert bill.energy_wh == 30_000
    assert bill.energy_money == D("13.50")
    assert bill.service_money == D("15.00")
    assert bill.idle == IdleCharge(0, 0, D("0.00"))
    assert bill.session_fee == D("0.00")
    assert bill.total == D("28.50")
    assert str(bill.total) == "28.50"
    assert (bill.currency, bill.tariff_id, bill.tariff_version) == ("CNY", "sh-2026", 3)
    valley, flat = bill.lines
    assert (valley.energy_price, valley.service_price) == (D("0.3000"), D("0.4000"))
    assert (flat.energy_price, flat.service_price) == (D("0.6000"), D("0.6000"))
    # 06:30+08:00 is 22:30Z the day before
    assert (valley.start, valley.end) == (utc("2026-01-04 22:30"), utc("2026-01-04 23:00"))
    assert valley.start.tzinfo is UTC
    assert_adds_up(bill)


def test_worked_example_one_reading_per_minute() -> None:
    start = local("2026-01-05 06:30")
    per_minute = [R(start + timedelta(minutes=m), 1_234_000 + 500 * m) for m in range(61)]
    bill = price(EXAMPLE, per_minute)
    assert bill.allocation is Allocation.METERED
    assert line_rows(bill) == EXAMPLE_LINES
    assert bill.total == D("28.50")
    assert_adds_up(bill)


def test_worked_example_with_readings_in_utc() -> None:
    bill = price(EXAMPLE, [R(utc("2026-01-04 22:30"), 0), R(utc("2026-01-04 23:30"), 30_000)])
    assert line_rows(bill) == EXAMPLE_LINES
    assert bill.total == D("28.50")


def test_worked_example_with_periods_listed_out_of_order() -> None:
    shuffled = tariff(plans=(DayPlan(tuple(reversed(EXAMPLE.plans[0].periods))),))
    assert problems(shuffled) == []
    bill = price(shuffled, readings(("2026-01-05 06:30", 0), ("2026-01-05 07:30", 30_000)))
    assert line_rows(bill) == EXAMPLE_LINES
    assert bill.total == D("28.50")


# -- allocation through price ---------------------------------------------------------------------

PRICE_CASES: list[tuple[str, list[tuple[str, int]], list[LineRow], str]] = [
    (
        "interval straddling the edge split by time",
        [
            ("2026-01-05 06:00", 0),
            ("2026-01-05 06:50", 5_000),
            ("2026-01-05 07:10", 9_000),  # 4000 Wh: 10 min valley, 10 min flat
            ("2026-01-05 08:00", 20_000),
        ],
        [
            ("valley", "01-05 06:00", "01-05 07:00", 7_000, "2.10", "2.80"),
            ("flat", "01-05 07:00", "01-05 08:00", 13_000, "7.80", "7.80"),
        ],
        "20.50",
    ),
    (
        "uneven split 15 min : 5 min",
        [("2026-01-05 06:45", 0), ("2026-01-05 07:05", 3_000)],
        [
            ("valley", "01-05 06:45", "01-05 07:00", 2_250, "0.68", "0.90"),  # 0.675 -> 0.68
            ("flat", "01-05 07:00", "01-05 07:05", 750, "0.45", "0.45"),
        ],
        "2.48",
    ),
    (
        "thirds: largest remainder gives the odd Wh to the bigger remainder",
        [("2026-01-05 06:59", 0), ("2026-01-05 07:02", 1_000)],
        [
            ("valley", "01-05 06:59", "01-05 07:00", 333, "0.10", "0.13"),
            ("flat", "01-05 07:00", "01-05 07:02", 667, "0.40", "0.40"),
        ],
        "1.03",
    ),
    (
        "across midnight: one valley line",
        [
            ("2026-01-05 22:30", 0),
            ("2026-01-05 23:30", 6_000),  # 3000 flat, 3000 valley
            ("2026-01-06 06:45", 49_000),
            ("2026-01-06 07:15", 52_000),  # 1500 valley, 1500 flat
            ("2026-01-06 08:00", 60_000),
        ],
        [
            ("flat", "01-05 22:30", "01-05 23:00", 3_000, "1.80", "1.80"),
            ("valley", "01-05 23:00", "01-06 07:00", 47_500, "14.25", "19.00"),
            ("flat", "01-06 07:00", "01-06 08:00", 9_500, "5.70", "5.70"),
        ],
        "48.25",
    ),
    (
        "energy only in one band leaves the other out",
        [
            ("2026-01-05 06:00", 0),
            ("2026-01-05 06:59", 4_000),
            ("2026-01-05 08:00", 4_000),  # car full before 07:00
        ],
        [("valley", "01-05 06:00", "01-05 07:00", 4_000, "1.20", "1.60")],
        "2.80",
    ),
    (
        "zero-delta intervals carry no energy",
        [
            ("2026-01-05 06:00", 100),
            ("2026-01-05 06:30", 100),
            ("2026-01-05 06:45", 100),
            ("2026-01-05 07:15", 2_100),
            ("2026-01-05 07:30", 2_100),
        ],
        [
            ("valley", "01-05 06:00", "01-05 07:00", 1_000, "0.30", "0.40"),
            ("flat", "01-05 07:00", "01-05 07:30", 1_000, "0.60", "0.60"),
        ],
        "1.90",
    ),
    (
        "two readings at the same instant on an edge: the jump goes to the later band",
        [
            ("2026-01-05 06:00", 0),
            ("2026-01-05 07:00", 1_000),
            ("2026-01-05 07:00", 3_000),
            ("2026-01-05 08:00", 4_000),
        ],
        [
            ("valley", "01-05 06:00", "01-05 07:00", 1_000, "0.30", "0.40"),
            ("flat", "01-05 07:00", "01-05 08:00", 3_000, "1.80", "1.80"),
        ],
        "4.30",
    ),
    (
        "two readings at the same instant at the end",
        [("2026-01-05 06:00", 0), ("2026-01-05 07:00", 1_000), ("2026-01-05 07:00", 1_500)],
        [("valley", "01-05 06:00", "01-05 07:00", 1_500, "0.45", "0.60")],
        "1.05",
    ),
    (
        "all readings at one instant",
        [("2026-01-05 07:00", 0), ("2026-01-05 07:00", 2_000)],
        [("flat", "01-05 07:00", "01-05 07:00", 2_000, "1.20", "1.20")],
        "2.40",
    ),
    (
        "no energy",
        [("2026-01-05 06:00", 500), ("2026-01-05 08:00", 500)],
        [],
        "0.00",
    ),
    (
        "a single reading",
        [("2026-01-05 06:00", 500)],
        [],
        "0.00",
    ),
]


@pytest.mark.parametrize(
    ("rows", "lines", "total"),
    [(r, lines, t) for _, r, lines, t in PRICE_CASES],
    ids=[name for name, *_ in PRICE_CASES],
)
def test_price(rows: list[tuple[str, int]], lines: list[LineRow], total: str) -> None:
    bill = price(EXAMPLE, readings(*rows))
    assert line_rows(bill) == lines
    assert bill.total == D(total)
    assert bill.energy_wh == rows[-1][1] - rows[0][1]
    assert_adds_up(bill)


def test_month_boundary_with_seasonal_sharp_band() -> None:
    # 28 h at 100 Wh a minute, start and stop only; July has a sharp band 19:00-21:00, June none
    bill = price(
        SEASONAL,
        readings(("2026-06-30 18:00", 0), ("2026-07-01 22:00", 168_000)),
        allocation=Allocation.ESTIMATED,
    )
    assert line_rows(bill) == [
        ("peak", "06-30 18:00", "06-30 22:00", 24_000, "24.00", "19.20"),
        ("flat", "06-30 22:00", "06-30 23:00", 6_000, "3.60", "3.60"),
        ("valley", "06-30 23:00", "07-01 07:00", 48_000, "14.40", "19.20"),
        ("flat", "07-01 07:00", "07-01 10:00", 18_000, "10.80", "10.80"),
        ("peak", "07-01 10:00", "07-01 12:00", 12_000, "12.00", "9.60"),
        ("flat", "07-01 12:00", "07-01 18:00", 36_000, "21.60", "21.60"),
        ("peak", "07-01 18:00", "07-01 19:00", 6_000, "6.00", "4.80"),
        ("sharp", "07-01 19:00", "07-01 21:00", 12_000, "14.40", "9.60"),
        ("peak", "07-01 21:00", "07-01 22:00", 6_000, "6.00", "4.80"),
    ]
    assert bill.energy_money == D("112.80")
    assert bill.service_money == D("103.20")
    assert bill.total == D("216.00")
    assert_adds_up(bill)


def test_holiday_calendar_reaches_price() -> None:
    holiday_first = tariff(
        plans=(plan("00:00-24:00 valley", day_types={DayType.HOLIDAY}), *EXAMPLE.plans)
    )
    rows = readings(("2026-01-05 06:30", 0), ("2026-01-05 07:30", 30_000))

    def calendar(day: date) -> DayType:
        return DayType.HOLIDAY if day == date(2026, 1, 5) else weekday_type(day)

    assert price(holiday_first, rows).total == D("28.50")
    holiday = price(holiday_first, rows, day_type_of=calendar)
    assert line_rows(holiday) == [("valley", "01-05 06:30", "01-05 07:30", 30_000, "9.00", "12.00")]
    assert holiday.total == D("21.00")


# -- rounding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.005", "1.01"),
        ("1.004", "1.00"),
        ("1.0049999", "1.00"),
        ("1.015", "1.02"),
        ("2.675", "2.68"),  # the float 2.675 would round down; Decimal does not
        ("0.005", "0.01"),
        ("0.0049", "0.00"),
        ("0", "0.00"),
        ("10", "10.00"),
        ("28.5", "28.50"),
        ("-1.005", "-1.01"),  # half-up is away from zero
        ("123456.785", "123456.79"),
    ],
)
def test_money(value: str, expected: str) -> None:
    result = money(D(value))
    assert str(result) == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("wh", "unit", "expected"),
    [
        (1_005, "1.0000", "1.01"),  # 1.005 rounds up
        (1_004, "1.0000", "1.00"),  # 1.004 rounds down
        (3_350, "0.3000", "1.01"),  # 1.005
        (3_349, "0.3000", "1.00"),  # 1.0047
        (15, "0.3333", "0.00"),  # 0.0049995
        (15, "0.3334", "0.01"),  # 0.005001
        (1, "0.5000", "0.00"),  # 0.0005
        (10, "0.5000", "0.01"),  # 0.005
        (12_345, "1.2345", "15.24"),  # 15.2399025
        (30_000, "0.6000", "18.00"),
        (7, "0.0000", "0.00"),
    ],
)
def test_line_money_is_rounded_half_up(wh: int, unit: str, expected: str) -> None:
    one_band = tariff(
        prices={Band.VALLEY: BandPrice(D(unit), D(unit)), Band.FLAT: PRICES[Band.FLAT]}
    )
    bill = price(one_band, readings(("2026-01-05 01:00", 0), ("2026-01-05 02:00", wh)))
    (line,) = bill.lines
    assert line.energy_wh == wh
    assert str(line.energy_money) == expected
    assert str(line.service_money) == expected
    assert bill.total == 2 * D(expected)


def test_total_is_the_sum_of_rounded_lines() -> None:
    # two lines of 1.005 + 0.5025 each: rounded lines give 1.01 + 0.50 twice = 3.02,
    # rounding the unrounded sum (3.015) would give 3.02 for the total but 2.01 for energy.
    odd = tariff(
        prices={
            Band.VALLEY: BandPrice(D("1.0000"), D("0.5000")),
            Band.FLAT: BandPrice(D("1.0000"), D("0.5000")),
        }
    )
    bill = price(
        odd,
        readings(("2026-01-05 06:59", 0), ("2026-01-05 07:00", 1_005), ("2026-01-05 07:01", 2_010)),
    )
    assert line_rows(bill) == [
        ("valley", "01-05 06:59", "01-05 07:00", 1_005, "1.01", "0.50"),
        ("flat", "01-05 07:00", "01-05 07:01", 1_005, "1.01", "0.50"),
    ]
    assert bill.energy_money == D("2.02")
    assert bill.service_money == D("1.00")
    assert bill.total == D("3.02")


# -- allocate and largest_remainder ---------------------------------------------------------------

T0 = utc("2026-01-05 00:00")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def spans(*edges: float) -> list[Segment]:
    bands = [Band.VALLEY, Band.FLAT]
    return [Segment(at(a), at(b), bands[i % 2]) for i, (a, b) in enumerate(pairwise(edges))]


ALLOCATE_CASES: list[tuple[str, list[tuple[float, int]], tuple[float, ...], list[int]]] = [
    ("even split", [(0, 0), (20, 1_000)], (0, 10, 20), [500, 500]),
    ("tie goes to the earlier share", [(0, 0), (20, 1_001)], (0, 10, 20), [501, 500]),
    ("three-way tie, one Wh", [(0, 0), (30, 1)], (0, 10, 20, 30), [1, 0, 0]),
    ("three-way tie, two Wh", [(0, 0), (30, 2)], (0, 10, 20, 30), [1, 1, 0]),
    ("bigger remainder wins", [(0, 0), (30, 1)], (0, 10, 30), [0, 1]),
    ("uneven readings", [(0, 0), (5, 100), (15, 300), (20, 400)], (0, 10, 20), [200, 200]),
    (
        "straddling reading split by time",
        [(0, 0), (8, 800), (12, 1_200)],
        (0, 10, 12),
        [1_000, 200],
    ),
    ("zero-delta interval", [(0, 100), (10, 100), (20, 200)], (0, 10, 20), [0, 100]),
    ("same instant on an edge", [(0, 0), (10, 100), (10, 300), (20, 400)], (0, 10, 20), [100, 300]),
    ("same instant at the end", [(0, 0), (20, 100), (20, 300)], (0, 10, 20), [50, 250]),
    ("same instant at the start", [(0, 0), (0, 50), (20, 150)], (0, 10, 20), [100, 50]),
    ("single reading", [(0, 100)], (0, 10), [0]),
    ("zero-length span", [(5, 0), (5, 7)], (5, 5), [7]),
    ("sub-millisecond spans", [(0, 0), (1 / 60_000, 2)], (0, 1 / 120_000, 1 / 60_000), [1, 1]),
]


@pytest.mark.parametrize(
    ("rows", "edges", "expected"),
    [(r, e, x) for _, r, e, x in ALLOCATE_CASES],
    ids=[name for name, *_ in ALLOCATE_CASES],
)
def test_allocate(
    rows: list[tuple[float, int]], edges: tuple[float, ...], expected: list[int]
) -> None:
    got = allocate([R(at(m), wh) for m, wh in rows], spans(*edges))
    assert got == expected
    assert sum(got) == rows[-1][1] - rows[0][1]


def test_allocate_with_no_spans() -> None:
    assert allocate([R(at(0), 0), R(at(1), 5)], []) == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(0, 100), (10, 99)], "readings go backwards at 2026-01-05T00:10:00"),
        ([(0, 100), (10, 200), (20, 150)], "readings go backwards at 2026-01-05T00:20:00"),
        (
            [(0, 100), (10, 200), (5, 300), (20, 400)],
            "readings go backwards at 2026-01-05T00:05:00",
        ),
        ([(0, 100), (10, 200), (5, 200), (20, 400)], "readings go backwards"),  # time only
    ],
)
def test_allocate_rejects_readings_going_backwards(
    rows: list[tuple[float, int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        allocate([R(at(m), wh) for m, wh in rows], spans(0, 10, 20))


def test_price_rejects_readings_going_backwards() -> None:
    with pytest.raises(ValueError, match="readings go backwards"):
        price(EXAMPLE, readings(("2026-01-05 06:00", 500), ("2026-01-05 07:30", 400)))
    with pytest.raises(ValueError, match="end before start"):
        price(EXAMPLE, readings(("2026-01-05 07:00", 0), ("2026-01-05 06:00", 100)))


def test_price_needs_a_reading() -> None:
    with pytest.raises(ValueError, match="at least one reading"):
        price(EXAMPLE, [])


@pytest.mark.parametrize(
    ("exact", "total", "expected"),
    [
        ([], 0, []),
        ([F(5), F(7)], 12, [5, 7]),
        ([F(1, 2), F(1, 2)], 1, [1, 0]),
        ([F(3, 2), F(3, 2)], 3, [2, 1]),
        ([F(1, 3)] * 3, 1, [1, 0, 0]),
        ([F(2, 3)] * 3, 2, [1, 1, 0]),
        ([F(1, 10), F(9, 10)], 1, [0, 1]),
        ([F(7, 4), F(5, 4)], 3, [2, 1]),
        ([F(1, 4), F(5, 4), F(3, 2)], 3, [0, 1, 2]),
        ([F(0), F(1, 2), F(1, 2), F(0)], 1, [0, 1, 0, 0]),
        ([F(999_999, 1_000_000), F(1, 1_000_000)], 1, [1, 0]),
        ([F(0), F(0)], 0, [0, 0]),
    ],
)
def test_largest_remainder(exact: list[F], total: int, expected: list[int]) -> None:
    assert largest_remainder(exact, total) == expected


# -- idle fee -------------------------------------------------------------------------------------

FEE = IdleFee(D("0.5000"), grace_minutes=10, cap=D("20.00"))
NO_GRACE = IdleFee(D("0.5000"))
STOP = utc("2026-01-05 10:00")

IDLE_CASES: list[tuple[str, IdleFee | None, float | None, IdleCharge]] = [
    ("no idle time", FEE, 0, IdleCharge(0, 0, D("0.00"))),
    ("freed before stop", FEE, -5, IdleCharge(0, 0, D("0.00"))),
    ("never freed (unknown)", FEE, None, IdleCharge(0, 0, D("0.00"))),
    ("under a minute", NO_GRACE, 59.99 / 60, IdleCharge(0, 0, D("0.00"))),
    ("within grace", FEE, 9 + 59 / 60, IdleCharge(9, 0, D("0.00"))),
    ("exactly the grace", FEE, 10, IdleCharge(10, 0, D("0.00"))),
    ("one minute after grace", FEE, 11, IdleCharge(11, 1, D("0.50"))),
    ("partial minute floors", FEE, 25.99, IdleCharge(25, 15, D("7.50"))),
    ("no grace", NO_GRACE, 10 + 59.9 / 60, IdleCharge(10, 10, D("5.00"))),
    ("below the cap", FEE, 50, IdleCharge(50, 40, D("20.00"))),
    ("capped", FEE, 120, IdleCharge(120, 110, D("20.00"))),
    ("just below the cap", FEE, 49, IdleCharge(49, 39, D("19.50"))),
    ("no cap", NO_GRACE, 600, IdleCharge(600, 600, D("300.00"))),
    ("half a fen rounds up", IdleFee(D("0.0050")), 1, IdleCharge(1, 1, D("0.01"))),
    ("under half a fen", IdleFee(D("0.0049")), 1, IdleCharge(1, 1, D("0.00"))),
    ("no idle fee in the tariff", None, 25, IdleCharge(25, 0, D("0.00"))),
    ("days of idling", IdleFee(D("0.1000")), 3 * 1440 + 7, IdleCharge(4327, 4327, D("432.70"))),
]


@pytest.mark.parametrize(
    ("fee", "minutes", "expected"),
    [(f, m, x) for _, f, m, x in IDLE_CASES],
    ids=[name for name, *_ in IDLE_CASES],
)
def test_idle_charge(fee: IdleFee | None, minutes: float | None, expected: IdleCharge) -> None:
    until = None if minutes is None else STOP + timedelta(minutes=minutes)
    got = idle_charge(fee, STOP, until)
    assert got == expected
    assert got.fee.as_tuple().exponent == -2


def test_idle_charge_without_a_start() -> None:
    assert idle_charge(FEE, None, STOP) == IdleCharge(0, 0, D("0.00"))


def test_idle_fee_and_session_fee_reach_the_bill() -> None:
    with_fees = tariff(idle=FEE, session_fee=D("1.5"))
    bill = price(
        with_fees,
        readings(("2026-01-05 06:30", 0), ("2026-01-05 07:30", 30_000)),
        idle_from=local("2026-01-05 07:30"),
        occupied_until=local("2026-01-05 08:05") + timedelta(seconds=30),
    )
    assert line_rows(bill) == EXAMPLE_LINES
    assert bill.idle == IdleCharge(35, 25, D("12.50"))
    assert bill.session_fee == D("1.50")
    assert str(bill.session_fee) == "1.50"
    assert bill.total == D("42.50")  # 28.50 + 12.50 + 1.50
    assert_adds_up(bill)


def test_idle_fee_without_idle_times_is_zero() -> None:
    bill = price(tariff(idle=FEE), readings(("2026-01-05 06:30", 0), ("2026-01-05 07:30", 30_000)))
    assert bill.idle == IdleCharge(0, 0, D("0.00"))
    assert bill.total == D("28.50")


def test_session_fee_is_added_once() -> None:
    bill = price(
        dataclasses.replace(SEASONAL, session_fee=D("2.00")),
        readings(
            ("2026-07-01 06:00", 0),
            ("2026-07-01 08:00", 10_000),
            ("2026-07-01 11:00", 20_000),
            ("2026-07-01 20:00", 40_000),
        ),
    )
    assert line_rows(bill) == [
        ("valley", "07-01 06:00", "07-01 07:00", 5_000, "1.50", "2.00"),
        ("flat", "07-01 07:00", "07-01 10:00", 11_667, "7.00", "7.00"),
        ("peak", "07-01 10:00", "07-01 12:00", 5_556, "5.56", "4.44"),
        ("flat", "07-01 12:00", "07-01 18:00", 13_333, "8.00", "8.00"),
        ("peak", "07-01 18:00", "07-01 19:00", 2_222, "2.22", "1.78"),
        ("sharp", "07-01 19:00", "07-01 20:00", 2_222, "2.67", "1.78"),
    ]
    assert bill.session_fee == D("2.00")
    assert bill.total == D("53.95")  # 26.95 + 25.00 + 2.00, not 2.00 per line
    lines_total = sum((line.total for line in bill.lines), D(0))
    assert bill.total == lines_total + D("2.00")
    assert_adds_up(bill)


def test_session_fee_without_energy() -> None:
    bill = price(tariff(session_fee=D("3")), readings(("2026-01-05 06:00", 0)))
    assert bill.lines == ()
    assert bill.energy_wh == 0
    assert str(bill.total) == "3.00"


# -- properties -----------------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]
unit_prices = st.integers(0, 30_000).map(lambda n: D(n).scaleb(-4))


@st.composite
def random_tariffs(draw: st.DrawFn) -> Tariff:
    cuts = sorted(draw(st.sets(st.integers(1, 1439), max_size=8)))
    edges = [0, *cuts, 1440]
    bands = [draw(st.sampled_from(list(Band))) for _ in edges[1:]]
    day = DayPlan(
        tuple(Period(a, b, band) for (a, b), band in zip(pairwise(edges), bands, strict=True))
    )
    summer_cut = draw(st.integers(1, 1439))
    summer = DayPlan(
        (Period(0, summer_cut, Band.SHARP), Period(summer_cut, 1440, Band.VALLEY)),
        months=draw(st.frozensets(st.integers(1, 12), max_size=3)),
        day_types=frozenset({DayType.WEEKEND}),
    )
    prices = {band: BandPrice(draw(unit_prices), draw(unit_prices)) for band in Band}
    idle = draw(
        st.none()
        | st.builds(
            IdleFee,
            unit_prices,
            st.integers(0, 30),
            st.none() | st.integers(0, 10_000).map(lambda n: D(n).scaleb(-2)),
        )
    )
    session_fee = draw(st.integers(0, 500).map(lambda n: D(n).scaleb(-2)))
    return tariff(
        prices=prices,
        plans=(summer, day),
        time_zone=draw(st.sampled_from(ZONES)),
        idle=idle,
        session_fee=session_fee,
    )


starts = st.datetimes(datetime(2025, 12, 1), datetime(2027, 1, 31), timezones=st.just(UTC))


@st.composite
def random_readings(draw: st.DrawFn) -> list[R]:
    at = draw(starts)
    wh = draw(st.integers(0, 10**9))
    out = [R(at, wh)]
    for _ in range(draw(st.integers(0, 25))):
        at += timedelta(seconds=draw(st.integers(0, 6 * 3600)))
        wh += draw(st.integers(0, 50_000) | st.just(0))
        out.append(R(at, wh))
    return out


@settings(max_examples=200, deadline=None)
@given(t=random_tariffs(), rows=random_readings())
def test_allocation_is_exact_and_non_negative(t: Tariff, rows: list[R]) -> None:
    assert problems(t) == []
    found = segments(t, rows[0].at, rows[-1].at)
    shares = allocate(rows, found)
    assert len(shares) == len(found)
    assert sum(shares) == rows[-1].wh - rows[0].wh
    assert all(share >= 0 for share in shares)


@settings(max_examples=200, deadline=None)
@given(
    t=random_tariffs(),
    rows=random_readings(),
    idle_minutes=st.none() | st.floats(0, 600),
)
def test_bill_adds_up(t: Tariff, rows: list[R], idle_minutes: float | None) -> None:
    until = None if idle_minutes is None else rows[-1].at + timedelta(minutes=idle_minutes)
    bill = price(t, rows, idle_from=rows[-1].at, occupied_until=until)
    assert_adds_up(bill)
    assert bill.energy_wh == rows[-1].wh - rows[0].wh
    assert bill.session_fee == money(t.session_fee)
    # (c) each line carries its Wh share, priced at its band's prices
    found = segments(t, rows[0].at, rows[-1].at)
    shares = allocate(rows, found)
    expected = [(s.band, s.start, s.end, wh) for s, wh in zip(found, shares, strict=True) if wh > 0]
    assert [(x.band, x.start, x.end, x.energy_wh) for x in bill.lines] == expected
    for line in bill.lines:
        prices = t.prices[line.band]
        assert (line.energy_price, line.service_price) == (prices.energy, prices.service)
        kwh = D(line.energy_wh) / 1000
        assert line.energy_money == money(kwh * prices.energy)
        assert line.service_money == money(kwh * prices.service)
        # a line never exceeds its exact value by more than half a fen
        assert abs(line.energy_money - kwh * prices.energy) <= D("0.005")


@st.composite
def straight_line_sessions(draw: st.DrawFn) -> tuple[list[R], list[R]]:
    """Readings, and the same readings with extra ones exactly on the straight line between."""
    at = draw(starts)
    wh = draw(st.integers(0, 10**6))
    plain, dense = [R(at, wh)], [R(at, wh)]
    for _ in range(draw(st.integers(1, 8))):
        parts = draw(st.integers(1, 6))
        step = timedelta(seconds=draw(st.integers(1, 3600)))
        wh_step = draw(st.integers(0, 5_000))
        for _ in range(parts):
            at += step
            wh += wh_step
            dense.append(R(at, wh))
        plain.append(R(at, wh))
    return plain, dense


@settings(max_examples=200, deadline=None)
@given(t=random_tariffs(), sessions=straight_line_sessions())
def test_interpolated_readings_change_nothing(t: Tariff, sessions: tuple[list[R], list[R]]) -> None:
    plain, dense = sessions
    assert price(t, dense) == price(t, plain)
