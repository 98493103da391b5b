"""Utilization maths (pure): counted sessions, time buckets and the ratios of DESIGN.md §5.

time utilization   = busy hours / (connectors x hours)
energy utilization = kWh / (rated kW x hours)       (stations without a rated power left out)
online rate        = online hours / (stations x hours)
fault rate         = fault hours / (connectors x hours)

Ratios are Decimal to 4 places (half-up); None where the denominator is zero or unknown.
Hours are UTC hours; days are local days in the CSMS time zone (whole-hour offsets, such as
Asia/Shanghai, keep every hour inside one day).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

# A session counts when it lasts more than 2 minutes and delivers more than 0.5 kWh (§5).
COUNTED_MIN_SECONDS = 120
COUNTED_MIN_WH = 500
MAX_DAYS = 366  # the longest range a query may ask for
MAX_ROWS = 200_000  # groups x buckets a query may answer with
HOUR = timedelta(hours=1)

RATIO = Decimal("0.0001")
KWH = Decimal("0.001")
_SECONDS_PER_HOUR = Decimal(3600)


class Grouping(StrEnum):
    CONNECTOR = "connector"
    STATION = "station"
    COUNTY = "county"
    CATEGORY = "category"


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"
    TOTAL = "total"  # one bucket for the whole range


def counts(duration_seconds: float, energy_wh: int | None) -> bool:
    """Whether a session counts (strictly more than 2 minutes and 0.5 kWh)."""
    return duration_seconds > COUNTED_MIN_SECONDS and (energy_wh or 0) > COUNTED_MIN_WH


@dataclass(frozen=True, slots=True)
class Sums:
    """What the rollup adds up for a group and a bucket."""

    sessions: int = 0
    counted_sessions: int = 0
    busy_seconds: Decimal = Decimal(0)
    energy_wh: int = 0
    rated_energy_wh: int = 0  # energy of the stations whose rated power is known
    online_seconds: Decimal = Decimal(0)
    fault_seconds: Decimal = Decimal(0)

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.sessions + other.sessions,
            self.counted_sessions + other.counted_sessions,
            self.busy_seconds + other.busy_seconds,
            self.energy_wh + other.energy_wh,
            self.rated_energy_wh + other.rated_energy_wh,
            self.online_seconds + other.online_seconds,
            self.fault_seconds + other.fault_seconds,
        )


@dataclass(frozen=True, slots=True)
class Capacity:
    """What a group could have done: stations, connectors and rated power (None: unknown)."""

    stations: int
    connectors: int
    rated_kw: Decimal | None

    def __add__(self, other: Capacity) -> Capacity:
        if self.rated_kw is None:
            rated = other.rated_kw
        elif other.rated_kw is None:
            rated = self.rated_kw
        else:
            rated = self.rated_kw + other.rated_kw
        return Capacity(self.stations + other.stations, self.connectors + other.connectors, rated)


NO_CAPACITY = Capacity(0, 0, None)


@dataclass(frozen=True, slots=True)
class Figures:
    sessions: int
    counted_sessions: int
    kwh: Decimal
    busy_hours: Decimal
    online_hours: Decimal
    fault_hours: Decimal
    time_utilization: Decimal | None
    energy_utilization: Decimal | None
    online_rate: Decimal | None
    fault_rate: Decimal | None


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator <= 0:
        return None
    return (numerator / denominator).quantize(RATIO, rounding=ROUND_HALF_UP)


def _hours(seconds: Decimal) -> Decimal:
    return (seconds / _SECONDS_PER_HOUR).quantize(RATIO, rounding=ROUND_HALF_UP)


def figures(sums: Sums, capacity: Capacity, hours: Decimal) -> Figures:
    """The ratios of a group over `hours` elapsed hours."""
    busy = sums.busy_seconds / _SECONDS_PER_HOUR
    online = sums.online_seconds / _SECONDS_PER_HOUR
    fault = sums.fault_seconds / _SECONDS_PER_HOUR
    connector_hours = capacity.connectors * hours
    rated = capacity.rated_kw
    return Figures(
        sessions=sums.sessions,
        counted_sessions=sums.counted_sessions,
        kwh=(Decimal(sums.energy_wh) / 1000).quantize(KWH, rounding=ROUND_HALF_UP),
        busy_hours=_hours(sums.busy_seconds),
        online_hours=_hours(sums.online_seconds),
        fault_hours=_hours(sums.fault_seconds),
        time_utilization=_ratio(busy, connector_hours),
        energy_utilization=None
        if rated is None
        else _ratio(Decimal(sums.rated_energy_wh) / 1000, rated * hours),
        online_rate=_ratio(online, capacity.stations * hours),
        fault_rate=_ratio(fault, connector_hours),
    )


# --- time ---------------------------------------------------------------------------------------


def floor_hour(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def rollup_window(now: datetime, hours: int) -> tuple[datetime, datetime]:
    """The last `hours` whole UTC hours up to and including the one running at `now`."""
    current = floor_hour(now)
    return current - (hours - 1) * HOUR, current + HOUR


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def days_touched(since: datetime, until: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The local days [first, last] that the UTC range [since, until) falls in."""
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return first, last


def check_range(since: date, until: date) -> None:
    """A query range of whole local days, `until` included; ValueError when unacceptable."""
    if until < since:
        raise ValueError(f"until ({until}) is before since ({since})")
    days = (until - since).days + 1
    if days > MAX_DAYS:
        raise ValueError(f"the range is {days} days; at most {MAX_DAYS} may be asked for")


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str  # hour: UTC start in ISO 8601; day: the local date; total: "since/until"
    start: datetime
    end: datetime
    hours: Decimal  # elapsed hours of the bucket (up to now)
    key: date | datetime | None  # what the rollup rows of the bucket are keyed by


def _elapsed(start: datetime, end: datetime, now: datetime) -> Decimal:
    seconds = (min(end, now) - start).total_seconds()
    return max(Decimal(0), Decimal(str(round(seconds, 3))) / _SECONDS_PER_HOUR)


def buckets(
    since: date, until: date, granularity: Granularity, zone: ZoneInfo, now: datetime
) -> list[Bucket]:
    """The buckets of the local days since..until (both included) that have begun by `now`."""
    start, end = local_midnight(since, zone), local_midnight(until + timedelta(days=1), zone)
    found: list[Bucket] = []
    if granularity is Granularity.TOTAL:
        if start < now:
            found.append(Bucket(f"{since}/{until}", start, end, _elapsed(start, end, now), None))
        return found
    if granularity is Granularity.DAY:
        day = since
        while day <= until:
            b_start = local_midnight(day, zone)
            b_end = local_midnight(day + timedelta(days=1), zone)
            if b_start >= now:
                break
            found.append(
                Bucket(day.isoformat(), b_start, b_end, _elapsed(b_start, b_end, now), day)
            )
            day += timedelta(days=1)
        return found
    hour = floor_hour(start)
    while hour < end and hour < now:
        label = hour.isoformat().replace("+00:00", "Z")
        found.append(Bucket(label, hour, hour + HOUR, _elapsed(hour, hour + HOUR, now), hour))
        hour += HOUR
    return found


def bucket_count(since: date, until: date, granularity: Granularity) -> int:
    """How many buckets a range has at most (before clipping at now)."""
    days = (until - since).days + 1
    return {Granularity.TOTAL: 1, Granularity.DAY: days, Granularity.HOUR: 25 * days}[granularity]


# --- groups and tables --------------------------------------------------------------------------

GroupKey = tuple[str | None, int]  # (station, EVSE) | (station, 0) | (county, 0) | (category, 0)
BucketKey = date | datetime | None
ZERO = Sums()


@dataclass(frozen=True, slots=True)
class StationFacts:
    """What a station could do: its connectors (numbers) with their rated power, and where."""

    station_id: str
    county: str | None
    category: str | None
    connectors: tuple[int, ...]
    connector_kw: dict[int, Decimal | None]
    rated_kw: Decimal | None


def station_facts(
    station_id: str,
    county: str | None,
    category: str | None,
    *,
    equipment: list[tuple[int, Decimal]],
    reported_evses: list[int],
    rated_power_kw: Decimal | None,
) -> StationFacts:
    """Registered equipment wins (its connectors, the sum of their power); else the EVSEs the
    station reported (at least one), sharing stations.rated_power_kw equally."""
    if equipment:
        nos = tuple(no for no, _ in equipment)
        kw: dict[int, Decimal | None] = {no: power for no, power in equipment}
        rated: Decimal | None = sum((power for _, power in equipment), Decimal(0))
    else:
        nos = tuple(sorted(set(reported_evses))) or (1,)
        rated = rated_power_kw
        kw = dict.fromkeys(nos, None if rated is None else rated / len(nos))
    return StationFacts(station_id, county, category, nos, kw, rated)


@dataclass(frozen=True, slots=True)
class Group:
    key: GroupKey
    labels: dict[str, str | int | None]
    capacity: Capacity


def _connector_group(s: StationFacts | None, station_id: str, no: int) -> Group:
    labels: dict[str, str | int | None] = {
        "station_id": station_id,
        "evse_id": no,
        "county": s.county if s else None,
        "category": s.category if s else None,
    }
    return Group((station_id, no), labels, Capacity(1, 1, s.connector_kw.get(no) if s else None))


def groups(facts: list[StationFacts], grouping: Grouping) -> dict[GroupKey, Group]:
    """Every group of the registry with its capacity (a group with no data still counts), in
    order of name."""
    found: dict[GroupKey, Group] = {}
    for s in facts:
        if grouping is Grouping.CONNECTOR:
            for no in s.connectors:
                found[(s.station_id, no)] = _connector_group(s, s.station_id, no)
            continue
        capacity = Capacity(1, len(s.connectors), s.rated_kw)
        key: GroupKey
        labels: dict[str, str | int | None]
        if grouping is Grouping.STATION:
            key = (s.station_id, 0)
            labels = {"station_id": s.station_id, "county": s.county, "category": s.category}
        elif grouping is Grouping.COUNTY:
            key, labels = (s.county, 0), {"county": s.county}
        else:
            key, labels = (s.category, 0), {"category": s.category}
        known = found.get(key)
        found[key] = Group(key, labels, capacity if known is None else known.capacity + capacity)
    return dict(sorted(found.items(), key=lambda item: sort_key(item[0])))


def network_capacity(facts: list[StationFacts]) -> Capacity:
    total = NO_CAPACITY
    for s in facts:
        total = total + Capacity(1, len(s.connectors), s.rated_kw)
    return total


def _decimal(value: float | Decimal | int | None) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def sums_of(row: Mapping[str, Any]) -> Sums:
    """A row of the rollup query (sessions, counted_sessions, busy_seconds, energy_wh,
    rated_energy_wh, online_seconds, fault_seconds) as Sums."""
    return Sums(
        int(row["sessions"] or 0),
        int(row["counted_sessions"] or 0),
        _decimal(row["busy_seconds"]),
        int(row["energy_wh"] or 0),
        int(row["rated_energy_wh"] or 0),
        _decimal(row["online_seconds"]),
        _decimal(row["fault_seconds"]),
    )


@dataclass(frozen=True, slots=True)
class Row:
    group: Group
    bucket: Bucket
    figures: Figures


@dataclass(frozen=True, slots=True)
class Table:
    rows: list[Row]
    network: Capacity
    totals: Figures  # the whole network over the whole range


def too_many_rows(found: dict[GroupKey, Group], bucket_list: list[Bucket]) -> bool:
    return len(found) * len(bucket_list) > MAX_ROWS


def tabulate(
    grouping: Grouping,
    facts: list[StationFacts],
    found: dict[GroupKey, Group],
    rows: Sequence[Mapping[str, Any]],
    bucket_list: list[Bucket],
    total_hours: Decimal,
) -> Table:
    """One row per group and bucket (zeros where nothing happened), and the network totals.

    `rows` are the rollup query's sums keyed by (key, evse_id, bucket). By connector, a
    station's online time (kept on EVSE 0) is every connector's, sessions of an unknown EVSE
    count only in the totals, and a connector the registry does not know is a group of its own.
    """
    by_station = {s.station_id: s for s in facts}
    placed: dict[tuple[GroupKey, BucketKey], Sums] = {}

    def add(key: GroupKey, bucket: BucketKey, sums: Sums) -> None:
        known = placed.get((key, bucket))
        placed[(key, bucket)] = sums if known is None else known + sums

    every = [sums_of(row) for row in rows]
    total = Sums(
        sum(s.sessions for s in every),
        sum(s.counted_sessions for s in every),
        sum((s.busy_seconds for s in every), Decimal(0)),
        sum(s.energy_wh for s in every),
        sum(s.rated_energy_wh for s in every),
        sum((s.online_seconds for s in every), Decimal(0)),
        sum((s.fault_seconds for s in every), Decimal(0)),
    )
    for row, sums in zip(rows, every, strict=True):
        key: GroupKey = (row["key"], int(row["evse_id"]))
        bucket: BucketKey = row["bucket"]
        if grouping is not Grouping.CONNECTOR:
            add(key, bucket, sums)
            continue
        station_id = str(key[0])
        station = by_station.get(station_id)
        if key[1] == 0:
            online = Sums(online_seconds=sums.online_seconds)
            for no in station.connectors if station else ():
                add((station_id, no), bucket, online)
            continue
        if key not in found:
            found[key] = _connector_group(station, station_id, key[1])
        rated = found[key].capacity.rated_kw is not None
        add(key, bucket, replace(sums, rated_energy_wh=sums.energy_wh if rated else 0))
    table = [
        Row(group, b, figures(placed.get((key, b.key), ZERO), group.capacity, b.hours))
        for key, group in sorted(found.items(), key=lambda item: sort_key(item[0]))
        for b in bucket_list
    ]
    network = network_capacity(facts)
    return Table(table, network, figures(total, network, total_hours))


def sort_key(key: GroupKey) -> tuple[bool, str, int]:
    """Groups in order of name; the group without a county or category last."""
    return (key[0] is None, key[0] or "", key[1])
