"""Utilization maths: counted sessions, ratios, buckets, ranges, groups and tables (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csms.monitoring import utilization as u

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("seconds", "wh", "counted"),
    [
        (121, 501, True),
        (120, 501, False),  # exactly 2 minutes is not more than 2 minutes
        (121, 500, False),  # exactly 0.5 kWh is not more than 0.5 kWh
        (3600, None, False),  # energy unknown: not counted
        (0, 10_000, False),
        (7200, 30_000, True),
    ],
)
def test_a_session_counts_above_two_minutes_and_half_a_kwh(
    seconds: float, wh: int | None, counted: bool
) -> None:
    assert u.counts(seconds, wh) is counted


# sums, capacity, hours -> (time, energy, online, fault utilization/rates; kwh; busy hours)
FIGURES: list[tuple[str, u.Sums, u.Capacity, Decimal, dict[str, Any]]] = [
    (
        "one connector busy 6 of 24 hours",
        u.Sums(
            sessions=3,
            counted_sessions=2,
            busy_seconds=D(6 * 3600),
            energy_wh=42_000,
            rated_energy_wh=42_000,
            online_seconds=D(24 * 3600),
        ),
        u.Capacity(1, 1, D("7")),
        D(24),
        {
            "time_utilization": D("0.2500"),
            "energy_utilization": D("0.2500"),  # 42 kWh / (7 kW x 24 h)
            "online_rate": D("1.0000"),
            "fault_rate": D("0.0000"),
            "kwh": D("42.000"),
            "busy_hours": D("6.0000"),
            "sessions": 3,
            "counted_sessions": 2,
        },
    ),
    (
        "two connectors, a third of a day, rounding half up",
        u.Sums(busy_seconds=D(3600), energy_wh=1_234_567, rated_energy_wh=1_000_000),
        u.Capacity(1, 2, D("120")),
        D(8),
        {
            "time_utilization": D("0.0625"),  # 1 h / (2 x 8 h)
            "energy_utilization": D("1.0417"),  # 1000 kWh / 960 kWh: rated stations only
            "online_rate": D("0.0000"),
            "kwh": D("1234.567"),
        },
    ),
    (
        "rated power unknown: no energy utilization",
        u.Sums(busy_seconds=D(1800), energy_wh=5000, fault_seconds=D(900)),
        u.Capacity(2, 4, None),
        D(1),
        {
            "time_utilization": D("0.1250"),
            "energy_utilization": None,
            "fault_rate": D("0.0625"),  # 0.25 h / (4 x 1 h)
            "online_rate": D("0.0000"),
            "fault_hours": D("0.2500"),
        },
    ),
    (
        "nothing elapsed: no ratio",
        u.Sums(),
        u.Capacity(1, 1, D(7)),
        D(0),
        {
            "time_utilization": None,
            "energy_utilization": None,
            "online_rate": None,
            "fault_rate": None,
        },
    ),
    (
        "no stations in the group",
        u.Sums(),
        u.NO_CAPACITY,
        D(24),
        {"time_utilization": None, "online_rate": None, "energy_utilization": None},
    ),
    (
        "a third: 4 places half up",
        u.Sums(busy_seconds=D(1200), online_seconds=D(2400)),
        u.Capacity(1, 1, None),
        D(1),
        {"time_utilization": D("0.3333"), "online_rate": D("0.6667")},
    ),
]


@pytest.mark.parametrize(
    ("sums", "capacity", "hours", "expected"),
    [case[1:] for case in FIGURES],
    ids=[case[0] for case in FIGURES],
)
def test_figures(
    sums: u.Sums, capacity: u.Capacity, hours: Decimal, expected: dict[str, Any]
) -> None:
    figures = u.figures(sums, capacity, hours)
    for name, value in expected.items():
        assert getattr(figures, name) == value, name
        if isinstance(value, Decimal):
            assert str(getattr(figures, name)) == str(value), name  # places, not just value


def test_capacities_add_and_unknown_rated_power_is_left_out() -> None:
    assert u.Capacity(1, 2, None) + u.Capacity(1, 1, D(7)) == u.Capacity(2, 3, D(7))
    assert u.Capacity(1, 2, D(60)) + u.Capacity(1, 1, D(7)) == u.Capacity(2, 3, D(67))
    assert u.Capacity(1, 2, None) + u.Capacity(1, 1, None) == u.Capacity(2, 3, None)
    assert u.Sums(1, 1, D(2), 3, 4, D(5), D(6)) + u.Sums(1, 0, D(1), 1, 0, D(1), D(1)) == u.Sums(
        2, 1, D(3), 4, 4, D(6), D(7)
    )


@pytest.mark.parametrize(
    ("since", "until", "problem"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), None),
        (date(2026, 1, 1), date(2026, 12, 31), None),
        (date(2024, 1, 1), date(2024, 12, 31), None),  # leap year: 366 days
        (date(2024, 1, 1), date(2025, 1, 1), "367 days"),
        (date(2026, 1, 2), date(2026, 1, 1), "before since"),
    ],
)
def test_ranges(since: date, until: date, problem: str | None) -> None:
    if problem is None:
        u.check_range(since, until)
    else:
        with pytest.raises(ValueError, match=problem):
            u.check_range(since, until)


def test_day_buckets_are_local_days_and_stop_at_now() -> None:
    now = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)  # 12:30 on 3 March in Shanghai
    found = u.buckets(date(2026, 3, 1), date(2026, 3, 5), u.Granularity.DAY, SHANGHAI, now)
    assert [b.label for b in found] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert found[0].start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert found[0].end == datetime(2026, 3, 1, 16, tzinfo=UTC)
    assert [b.hours for b in found] == [D(24), D(24), D("12.5")]
    assert [b.key for b in found] == [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]


def test_hour_buckets_are_utc_hours_of_the_local_days() -> None:
    now = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 local on the first day
    found = u.buckets(date(2026, 3, 1), date(2026, 3, 1), u.Granularity.HOUR, SHANGHAI, now)
    assert [b.label for b in found][:2] == ["2026-02-28T16:00:00Z", "2026-02-28T17:00:00Z"]
    assert len(found) == 8 and all(b.hours == 1 for b in found)
    later = datetime(2026, 4, 1, tzinfo=UTC)
    day = u.buckets(date(2026, 3, 1), date(2026, 3, 1), u.Granularity.HOUR, SHANGHAI, later)
    assert len(day) == 24 and day[-1].end == datetime(2026, 3, 1, 16, tzinfo=UTC)
    assert day[0].key == datetime(2026, 2, 28, 16, tzinfo=UTC)


def test_total_bucket_and_future_ranges() -> None:
    now = datetime(2026, 1, 31, 16, tzinfo=UTC)  # local midnight ending 31 January
    (total,) = u.buckets(date(2026, 1, 1), date(2026, 1, 31), u.Granularity.TOTAL, SHANGHAI, now)
    assert total.label == "2026-01-01/2026-01-31" and total.hours == D(744) and total.key is None
    future = u.buckets(date(2027, 1, 1), date(2027, 1, 2), u.Granularity.DAY, SHANGHAI, now)
    assert future == []
    assert u.buckets(date(2027, 1, 1), date(2027, 1, 2), u.Granularity.TOTAL, SHANGHAI, now) == []


def test_rollup_window_and_days_touched() -> None:
    now = datetime(2026, 5, 1, 15, 42, 7, tzinfo=UTC)
    assert u.rollup_window(now, 2) == (
        datetime(2026, 5, 1, 14, tzinfo=UTC),
        datetime(2026, 5, 1, 16, tzinfo=UTC),
    )
    # 15:00-16:00 UTC is 23:00-24:00 in Shanghai: one local day; 16:00 starts the next
    assert u.days_touched(*u.rollup_window(now, 2), SHANGHAI) == (date(2026, 5, 1),) * 2
    later = datetime(2026, 5, 1, 16, 1, tzinfo=UTC)
    assert u.days_touched(*u.rollup_window(later, 2), SHANGHAI) == (
        date(2026, 5, 1),
        date(2026, 5, 2),
    )


@pytest.mark.parametrize(
    ("equipment", "reported", "rated", "connectors", "connector_kw", "station_kw"),
    [
        ([(1, D(60)), (2, D(60))], [1], D(7), (1, 2), {1: D(60), 2: D(60)}, D(120)),
        ([], [2, 1, 2], D(14), (1, 2), {1: D(7), 2: D(7)}, D(14)),
        ([], [], D(7), (1,), {1: D(7)}, D(7)),
        ([], [1, 2], None, (1, 2), {1: None, 2: None}, None),
    ],
    ids=["equipment-wins", "reported-evses", "nothing-known", "no-rated-power"],
)
def test_station_facts(
    equipment: list[tuple[int, Decimal]],
    reported: list[int],
    rated: Decimal | None,
    connectors: tuple[int, ...],
    connector_kw: dict[int, Decimal | None],
    station_kw: Decimal | None,
) -> None:
    facts = u.station_facts(
        "S", "朔城区", None, equipment=equipment, reported_evses=reported, rated_power_kw=rated
    )
    assert facts.connectors == connectors
    assert facts.connector_kw == connector_kw
    assert facts.rated_kw == station_kw


FACTS = [
    u.station_facts(
        "A",
        "朔城区",
        "bus_depot",
        equipment=[(1, D(60)), (2, D(60))],
        reported_evses=[],
        rated_power_kw=None,
    ),
    u.station_facts("B", "朔城区", None, equipment=[], reported_evses=[1], rated_power_kw=None),
    u.station_facts("C", None, "commercial", equipment=[], reported_evses=[1], rated_power_kw=D(7)),
]
DAY = date(2026, 3, 1)


def _row(key: str | None, evse: int, **values: Any) -> dict[str, Any]:
    base = {
        "key": key,
        "evse_id": evse,
        "bucket": DAY,
        "sessions": 0,
        "counted_sessions": 0,
        "busy_seconds": 0.0,
        "energy_wh": 0,
        "rated_energy_wh": 0,
        "online_seconds": 0.0,
        "fault_seconds": 0.0,
    }
    return {**base, **values}


def _bucket() -> list[u.Bucket]:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    return u.buckets(DAY, DAY, u.Granularity.DAY, SHANGHAI, now)


def test_groups_by_county_include_groups_without_data_and_sort_unknown_last() -> None:
    found = u.groups(FACTS, u.Grouping.COUNTY)
    assert list(found) == [("朔城区", 0), (None, 0)]
    assert found[("朔城区", 0)].capacity == u.Capacity(2, 3, D(120))
    rows = [_row("朔城区", 0, busy_seconds=3 * 3600.0, energy_wh=9000, rated_energy_wh=7200)]
    table = u.tabulate(u.Grouping.COUNTY, FACTS, found, rows, _bucket(), D(24))
    assert [r.group.labels for r in table.rows] == [{"county": "朔城区"}, {"county": None}]
    county = table.rows[0].figures
    assert county.time_utilization == D("0.0417")  # 3 h / (3 connectors x 24 h)
    assert county.energy_utilization == D("0.0025")  # 7.2 kWh / (120 kW x 24 h)
    assert table.rows[1].figures.time_utilization == D("0.0000")
    assert table.network == u.Capacity(3, 4, D(127))
    assert table.totals.kwh == D("9.000")


def test_by_connector_online_is_the_stations_and_unknown_connectors_get_a_row() -> None:
    found = u.groups(FACTS, u.Grouping.CONNECTOR)
    assert list(found) == [("A", 1), ("A", 2), ("B", 1), ("C", 1)]
    rows = [
        _row("A", 0, online_seconds=12 * 3600.0, sessions=1),  # a session of unknown EVSE
        _row("A", 1, busy_seconds=6 * 3600.0, energy_wh=60_000, rated_energy_wh=60_000),
        _row("B", 3, sessions=2, energy_wh=1000, rated_energy_wh=0),  # not in the registry
    ]
    table = u.tabulate(
        u.Grouping.CONNECTOR, FACTS, u.groups(FACTS, u.Grouping.CONNECTOR), rows, _bucket(), D(24)
    )
    by_key = {(r.group.labels["station_id"], r.group.labels["evse_id"]): r for r in table.rows}
    assert list(by_key) == [("A", 1), ("A", 2), ("B", 1), ("B", 3), ("C", 1)]
    a1, a2 = by_key[("A", 1)].figures, by_key[("A", 2)].figures
    assert a1.online_rate == a2.online_rate == D("0.5000")
    assert a1.time_utilization == D("0.2500")
    assert a1.energy_utilization == D("0.0417")  # 60 kWh / (60 kW x 24 h)
    assert a1.sessions == a2.sessions == 0  # the unknown-EVSE session is only in the totals
    assert by_key[("B", 3)].figures.sessions == 2
    assert by_key[("B", 3)].group.labels["county"] == "朔城区"
    assert table.totals.sessions == 3
    assert table.totals.online_rate == D("0.1667")  # 12 h / (3 stations x 24 h)


def test_by_station_keeps_labels() -> None:
    found = u.groups(FACTS, u.Grouping.STATION)
    table = u.tabulate(u.Grouping.STATION, FACTS, found, [], _bucket(), D(24))
    assert [r.group.labels for r in table.rows] == [
        {"station_id": "A", "county": "朔城区", "category": "bus_depot"},
        {"station_id": "B", "county": "朔城区", "category": None},
        {"station_id": "C", "county": None, "category": "commercial"},
    ]
    by_category = u.groups(FACTS, u.Grouping.CATEGORY)
    assert list(by_category) == [("bus_depot", 0), ("commercial", 0), (None, 0)]


def test_too_many_rows() -> None:
    found = u.groups(FACTS, u.Grouping.STATION)
    many = [_bucket()[0]] * (u.MAX_ROWS // 3)
    assert not u.too_many_rows(found, many)
    assert u.too_many_rows(found, [*many, *_bucket()])
