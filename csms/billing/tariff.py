"""Time-of-use tariffs: bands by time of day, month and day type; prices; idle and session fees.

A tariff version is immutable once stored; a change is a new version. Which band applies at an
instant is decided in the tariff's own IANA zone, so a session is split at local band edges
whatever zone the station or the server runs in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
PRICE_PLACES = 4  # unit prices are per kWh to 4 decimal places
# Sanity bounds, far above any real price, that keep a typo (an extra zero, 1E+20) out of bills.
MAX_KWH_PRICE = Decimal(10)
MAX_IDLE_PER_MINUTE = Decimal(10)
MAX_FEE = Decimal(1000)


class Band(StrEnum):
    """The four Chinese time-of-use bands: 尖峰, 高峰, 平段, 低谷."""

    SHARP = "sharp"
    PEAK = "peak"
    FLAT = "flat"
    VALLEY = "valley"


class DayType(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


DayTypeOf = Callable[[date], DayType]


def weekday_type(day: date) -> DayType:
    """Monday to Friday are workdays; a holiday calendar can replace this (see sharing)."""
    return DayType.WORKDAY if day.weekday() < 5 else DayType.WEEKEND


@dataclass(frozen=True, slots=True)
class BandPrice:
    """Per-kWh prices in the tariff's currency: electricity and service are billed apart."""

    energy: Decimal
    service: Decimal


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in minutes after local midnight; end 1440 is midnight of the next day."""

    start: int
    end: int
    band: Band


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The band periods of a day; applies to the months and day types listed (empty = all)."""

    periods: tuple[Period, ...]
    months: frozenset[int] = frozenset()
    day_types: frozenset[DayType] = frozenset()

    def applies(self, day: date, day_type: DayType) -> bool:
        return (not self.months or day.month in self.months) and (
            not self.day_types or day_type in self.day_types
        )


@dataclass(frozen=True, slots=True)
class IdleFee:
    """Occupation (占位) fee: per whole minute after the grace period, up to an optional cap."""

    per_minute: Decimal
    grace_minutes: int = 0
    cap: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Tariff:
    tariff_id: str
    version: int
    name: str
    prices: Mapping[Band, BandPrice]
    plans: tuple[DayPlan, ...]  # the first plan that applies to a day wins
    effective_from: datetime
    effective_to: datetime | None = None
    currency: str = "CNY"
    time_zone: str = "Asia/Shanghai"
    idle: IdleFee | None = None
    session_fee: Decimal = Decimal(0)
    owner: str | None = field(default=None, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def in_force(self, at: datetime) -> bool:
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)

    def plan_for(self, day: date, day_type: DayType) -> DayPlan:
        for plan in self.plans:
            if plan.applies(day, day_type):
                return plan
        # validate() guarantees coverage, so this is a tariff built around validation
        raise LookupError(f"tariff {self.tariff_id} v{self.version} has no plan for {day}")


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time (UTC) inside one band period."""

    start: datetime
    end: datetime
    band: Band


def segments(
    tariff: Tariff, start: datetime, end: datetime, day_type_of: DayTypeOf = weekday_type
) -> list[Segment]:
    """Split [start, end) at the tariff's local band edges; adjacent same-band stretches merge.

    A zero-length span gives one zero-length segment in the band at `start`, so a reading
    pair with no duration still has somewhere to put its energy.
    """
    if end < start:
        raise ValueError("end before start")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    zone = tariff.zone
    out: list[Segment] = []
    day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    while day <= last_day:
        plan = tariff.plan_for(day, day_type_of(day))
        # Validation allows periods in any order; an edge inside a spring-forward gap maps an
        # hour late, so edges are kept monotone lest periods overlap and energy be counted twice.
        cursor = _local_instant(day, 0, zone)
        for period in sorted(plan.periods, key=lambda p: p.start):
            p_start = max(cursor, _local_instant(day, period.start, zone))
            p_end = cursor = max(p_start, _local_instant(day, period.end, zone))
            lo, hi = max(p_start, start), min(p_end, end)
            if lo < hi or (start == end and p_start <= start < p_end):
                if out and out[-1].band is period.band and out[-1].end == lo:
                    out[-1] = Segment(out[-1].start, hi, period.band)
                else:
                    out.append(Segment(lo, hi, period.band))
        day += timedelta(days=1)
    return out


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Local wall time `minute` after midnight of `day`, as a UTC instant."""
    # Wall-clock arithmetic on the naive time, then the zone: DST days keep their local edges.
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


# -- validation -------------------------------------------------------------------------------


def problems(tariff: Tariff) -> list[str]:
    """Everything wrong with a tariff, in words an operator can act on; empty when valid."""
    out: list[str] = []
    try:
        ZoneInfo(tariff.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        out.append(f"time_zone {tariff.time_zone!r} is not an IANA time zone")
    if tariff.currency != "CNY":
        out.append(f"currency must be CNY, not {tariff.currency!r}")
    if tariff.effective_from.tzinfo is None:
        out.append("effective_from needs a UTC offset")
    if tariff.effective_to is not None and tariff.effective_to.tzinfo is None:
        out.append("effective_to needs a UTC offset")
    elif (
        tariff.effective_to is not None
        and tariff.effective_from.tzinfo is not None
        and tariff.effective_to <= tariff.effective_from
    ):
        out.append("effective_to must be after effective_from")
    out += _price_problems(tariff)
    if not tariff.plans:
        out.append("at least one day plan with periods is needed")
    used: set[Band] = set()
    for index, plan in enumerate(tariff.plans):
        out += _plan_problems(index, plan)
        used |= {p.band for p in plan.periods}
    out += [f"band {b.value} is used but has no price" for b in sorted(used - set(tariff.prices))]
    out += _coverage_problems(tariff.plans)
    return out


def _money_problems(name: str, value: Decimal, places: int, ceiling: Decimal) -> list[str]:
    if not value.is_finite():
        return [f"{name} must be a number"]
    if value < 0:
        return [f"{name} must not be negative ({value})"]
    if value > ceiling:
        return [f"{name} {value} is beyond any real price (at most {ceiling})"]
    # 0.60000 is 0.6: trailing zeros are not precision the price does not have.
    if value.normalize().as_tuple().exponent < -places:  # type: ignore[operator]
        return [f"{name} has more than {places} decimal places ({value})"]
    return []


def _price_problems(tariff: Tariff) -> list[str]:
    out: list[str] = []
    for band, price in tariff.prices.items():
        for kind, value in (("energy", price.energy), ("service", price.service)):
            out += _money_problems(f"{band.value} {kind} price", value, PRICE_PLACES, MAX_KWH_PRICE)
    out += _money_problems("session_fee", tariff.session_fee, 2, MAX_FEE)
    if tariff.idle is not None:
        out += _money_problems(
            "idle per_minute", tariff.idle.per_minute, PRICE_PLACES, MAX_IDLE_PER_MINUTE
        )
        if tariff.idle.grace_minutes < 0:
            out.append("idle grace_minutes must not be negative")
        if tariff.idle.cap is not None:
            out += _money_problems("idle cap", tariff.idle.cap, 2, MAX_FEE)
    return out


def _plan_problems(index: int, plan: DayPlan) -> list[str]:
    name = f"plans[{index}]"
    out = [f"{name}: month {m} is not 1-12" for m in sorted(plan.months) if not 1 <= m <= 12]
    periods = sorted(plan.periods, key=lambda p: p.start)
    for p in periods:
        if not (0 <= p.start < MINUTES_PER_DAY and 0 < p.end <= MINUTES_PER_DAY):
            out.append(f"{name}: period {hhmm(p.start)}-{hhmm(p.end)} is outside the day")
        elif p.end <= p.start:
            out.append(
                f"{name}: period {hhmm(p.start)}-{hhmm(p.end)} ends before it starts "
                "(split a period that crosses midnight in two)"
            )
    if out:
        return out
    cursor = 0
    for p in periods:
        if p.start < cursor:
            out.append(f"{name}: periods overlap at {hhmm(p.start)}-{hhmm(min(cursor, p.end))}")
        elif p.start > cursor:
            out.append(f"{name}: no band covers {hhmm(cursor)}-{hhmm(p.start)}")
        cursor = max(cursor, p.end)
    if cursor < MINUTES_PER_DAY:
        out.append(f"{name}: no band covers {hhmm(cursor)}-24:00")
    return out


def _coverage_problems(plans: Sequence[DayPlan]) -> list[str]:
    missing = [
        (month, day_type)
        for month in range(1, 13)
        for day_type in DayType
        if not any(
            (not p.months or month in p.months) and (not p.day_types or day_type in p.day_types)
            for p in plans
        )
    ]
    if not missing or not plans:
        return []
    listed = ", ".join(f"month {m} {t.value}" for m, t in missing[:6])
    more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
    return [f"no day plan applies to {listed}{more}; add a plan without filters as a fallback"]


def policy_problems(tariff: Tariff, floor: Decimal | None, ceiling: Decimal | None) -> list[str]:
    """The price-policy guard: service prices in [floor, ceiling] (plan 二(六)16: no price wars)."""
    out: list[str] = []
    for band, price in sorted(tariff.prices.items()):
        if floor is not None and price.service < floor:
            out.append(
                f"{band.value} service price {price.service} CNY/kWh is below the policy floor "
                f"{floor} CNY/kWh"
            )
        if ceiling is not None and price.service > ceiling:
            out.append(
                f"{band.value} service price {price.service} CNY/kWh is above the policy ceiling "
                f"{ceiling} CNY/kWh"
            )
    return out


def parse_hhmm(text: str) -> int:
    """'07:30' -> 450; '24:00' is allowed as the end of the day."""
    hours, sep, minutes = text.partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"{text!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def hhmm(minute: int) -> str:
    """The inverse of parse_hhmm."""
    return f"{minute // 60:02d}:{minute % 60:02d}"
