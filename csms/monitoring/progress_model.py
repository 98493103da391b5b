"""The progress engine's values: the network it reads, the figures it writes, and the status rule.

Status rule (one for every figure, see `judge`):
- MET when the comparison holds at the figure's evaluation date and no input is missing.
- Missing inputs (no places of a kind, no EV data, no parking spaces) are BEHIND, never a pass.
- Past the due date and not met: BEHIND.
- Before the due date and not met: ON_TRACK only when the actual is at or ahead of the straight
  line from the figure's value at the start of its window to the target (for a distance or an
  EVs-per-pile ratio, "ahead" is lower). Counts, shares, ratios and distances alike: a reading
  that has not moved towards the target while time passed is BEHIND. With no reading at the
  start (no piles then, no EV data then) there is no line to be on: BEHIND until met.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from csms.monitoring.geo import PointIndex, in_china
from csms.monitoring.plan import Plan, canonical_county


class PlaceKind(StrEnum):
    TOWNSHIP_SEAT = "township_seat"
    VILLAGE = "village"
    TRUNK_ROAD_PARKING = "trunk_road_parking"
    HIGHWAY_SERVICE_AREA = "highway_service_area"
    TOURIST_ROAD_POST = "tourist_road_post"
    RV_CAMP = "rv_camp"
    URBAN_CORE = "urban_core"
    URBAN_OUTER = "urban_outer"


class Status(StrEnum):
    MET = "met"
    ON_TRACK = "on_track"
    BEHIND = "behind"


class Comparison(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Scope(StrEnum):
    CITY = "city"
    COUNTY = "county"
    SITE_CATEGORY = "site_category"
    PLACE_KIND = "place_kind"


class Unit(StrEnum):
    PILES = "piles"
    STATIONS = "stations"
    PLACES = "places"
    SHARE = "share"
    KM = "km"
    RATIO = "ratio"


class FigureKind(StrEnum):
    NEW_PILES = "new_piles"  # public piles commissioned within a calendar year (附件1)
    NEW_PILES_TOTAL = "new_piles_total"  # public piles commissioned in the plan's years
    TOTAL_PILES = "total_piles"  # all public piles in the city
    COUNTY_STATIONS = "county_stations"  # one county's own public sites, beside the average
    COUNTY_PILES = "county_piles"  # one county's own public piles, beside the average
    AVERAGE_STATIONS_PER_COUNTY = "average_stations_per_county"  # 平均每县不少于3座
    AVERAGE_PILES_PER_COUNTY = "average_piles_per_county"  # 平均每县不少于45台
    COUNTIES_COVERED = "counties_covered"  # counties with at least one public station
    TOWNSHIPS_COVERED = "townships_covered"  # townships with at least one public pile
    TOWNSHIP_SEAT_PILES = "township_seat_piles"  # seats with at least 5 public piles
    VILLAGES_COVERED = "villages_covered"
    HIGHWAY_FAST_COVERAGE = "highway_fast_coverage"
    HIGHWAY_SPACE_SHARE = "highway_space_share"
    TRUNK_ROAD_COVERED = "trunk_road_covered"
    TRUNK_ROAD_SPACE_RATIO = "trunk_road_space_ratio"
    TOURIST_ROAD_COVERED = "tourist_road_covered"
    CHARGING_DISTANCE = "charging_distance"
    SPACE_RATIO = "space_ratio"
    EVS_PER_PILE = "evs_per_pile"


_PLACES = {Unit.SHARE: Decimal("0.0001"), Unit.RATIO: Decimal("0.0001"), Unit.KM: Decimal("0.001")}
_AVERAGE_PLACES = Decimal("0.01")  # a count unit's average (piles per county) keeps 2 decimals


@dataclass(frozen=True, slots=True)
class Pile:
    """A station (one charge point) as the registry describes it."""

    station_id: str
    county: str | None  # Chinese or English name; matched to the plan's counties
    township: str | None
    village: str | None
    site_name: str | None
    site_category: str | None
    latitude: float | None  # WGS-84
    longitude: float | None
    public: bool  # access mode public or shared
    fast: bool  # has a DC connector
    connectors: int
    commissioned_on: date | None  # None: in service before the plan's first year
    locked: bool = False  # under a safety lockout (二(六)17) on every day: never counted
    # Local day it was decommissioned: built and in service until the day before, not after.
    decommissioned_on: date | None = None
    # Safety lockouts as local days [locked on, lifted on): locked at the end of those days,
    # so not counted on them; None as the end: not lifted yet.
    lockouts: tuple[tuple[date, date | None], ...] = ()

    def commissioned_on_or_before(self, day: date) -> bool:
        """In the network on the day (an unknown date means it was there before the plan)."""
        return self.commissioned_on is None or self.commissioned_on <= day

    def locked_on(self, day: date) -> bool:
        """Under a safety lockout at the end of the day."""
        return self.locked or any(
            start <= day and (end is None or day < end) for start, end in self.lockouts
        )

    def counts_on(self, day: date) -> bool:
        """Counted on the day: commissioned by then, not yet decommissioned, and not under a
        safety lockout at the day's end."""
        in_service = self.decommissioned_on is None or day < self.decommissioned_on
        return in_service and self.commissioned_on_or_before(day) and not self.locked_on(day)


@dataclass(frozen=True, slots=True)
class Place:
    """A place the plan counts: a township seat, a service area, an urban reference point..."""

    kind: PlaceKind
    name: str
    county: str
    township: str | None
    latitude: float
    longitude: float
    small_car_spaces: int | None = None


@dataclass(frozen=True, slots=True)
class SiteFacts:
    site_name: str
    category: str | None
    parking_spaces: int | None
    # Connectors at the site's piles as the caller counted them; None (the default) lets the
    # engine count them from the network at each figure's date, lockouts included.
    charging_spaces: int | None = None


@dataclass(frozen=True, slots=True)
class EvCount:
    """EVs registered in a county, as counted on a day."""

    county: str
    as_of: date
    evs: int


@dataclass(frozen=True, slots=True)
class Network:
    piles: Sequence[Pile] = ()
    places: Sequence[Place] = ()
    sites: Sequence[SiteFacts] = ()
    # Undated EV counts, taken as true on every day; ignored when dated counts are given.
    evs_by_county: Mapping[str, int] = field(default_factory=dict)
    # Dated EV counts: a figure for a day uses each county's latest count on or before it.
    ev_counts: Sequence[EvCount] = ()


@dataclass(frozen=True, slots=True)
class Figure:
    key: str  # stable id, e.g. "county.Shuocheng.new_piles.2025"
    kind: FigureKind
    scope: Scope
    subject: str  # the county, site category or place kind; "city" for the city
    title_zh: str
    title_en: str
    target: Decimal
    actual: Decimal | None  # None: not computable (inputs missing, or nothing to divide by)
    gap: Decimal | None  # how far from meeting the target, never negative; None with actual
    unit: Unit
    comparison: Comparison
    status: Status
    due: date | None
    detail: Mapping[str, Any] = field(default_factory=dict)


def quantize(value: Decimal, unit: Unit, comparison: Comparison) -> Decimal:
    """Round for display against the target's favour, so rounding never turns a miss into a hit.

    Targets have at most the kept decimals, so comparing rounded values decides as exactly.
    """
    step = _PLACES.get(unit)
    if step is None:  # a count is whole; an average of counts keeps two decimals
        step = Decimal(1) if value == value.to_integral_value() else _AVERAGE_PLACES
    rounding = ROUND_FLOOR if comparison is Comparison.AT_LEAST else ROUND_CEILING
    return value.quantize(step, rounding=rounding)


def holds(comparison: Comparison, actual: Decimal, target: Decimal) -> bool:
    return actual >= target if comparison is Comparison.AT_LEAST else actual <= target


def gap_of(comparison: Comparison, actual: Decimal, target: Decimal) -> Decimal:
    gap = target - actual if comparison is Comparison.AT_LEAST else actual - target
    return max(gap, Decimal(0))


def elapsed_fraction(on: date, start: date, due: date) -> Decimal:
    """How much of [start, due] has passed at `on`, clamped to 0..1."""
    if due <= start:
        return Decimal(1)
    days = Decimal((on - start).days) / Decimal((due - start).days)
    return min(Decimal(1), max(Decimal(0), days))


def line_value(
    *, on: date, start: date, due: date, start_value: Decimal, target: Decimal
) -> Decimal:
    """The straight line from the window's start value to the target, read at `on`."""
    return start_value + (target - start_value) * elapsed_fraction(on, start, due)


def judge(
    *,
    comparison: Comparison,
    target: Decimal,
    actual: Decimal | None,
    on: date,
    due: date | None,
    start: date,
    start_value: Decimal | None = Decimal(0),
    complete: bool = True,
    missing: bool = False,
) -> Status:
    """The status rule of the module docstring; `start_value` is the figure's value when its
    window [start, due] began (None: not known, so no line to be on)."""
    if missing:
        return Status.BEHIND
    if actual is not None and complete and holds(comparison, actual, target):
        return Status.MET
    if due is None or on >= due or actual is None or start_value is None:
        return Status.BEHIND
    line = line_value(on=on, start=start, due=due, start_value=start_value, target=target)
    return Status.ON_TRACK if holds(comparison, actual, line) else Status.BEHIND


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(v) for v in value]
    return value


def figure_json(fig: Figure) -> dict[str, Any]:
    """A figure as JSON-ready data: Decimals as strings, dates as ISO dates."""
    return {
        "key": fig.key,
        "kind": fig.kind.value,
        "scope": fig.scope.value,
        "subject": fig.subject,
        "title_zh": fig.title_zh,
        "title_en": fig.title_en,
        "target": str(fig.target),
        "actual": None if fig.actual is None else str(fig.actual),
        "gap": None if fig.gap is None else str(fig.gap),
        "unit": fig.unit.value,
        "comparison": fig.comparison.value,
        "status": fig.status.value,
        "due": None if fig.due is None else fig.due.isoformat(),
        "detail": _json_value(fig.detail),
    }


def norm(name: str | None) -> str:
    """Names compare without case or spaces ("应 县" is 应县)."""
    return "".join((name or "").split()).casefold()


class Scene:
    """One evaluation: the plan, the network and the date, with lookups cached per as-of date.

    A pile counts at a date when it was commissioned on or before it (None: before the plan),
    not decommissioned and not under a safety lockout at that day's end.
    """

    def __init__(self, plan: Plan, network: Network, on: date) -> None:
        self.plan, self.network, self.on = plan, network, on
        self._counties: dict[str, str] = {}
        self._counted: dict[date, tuple[Pile, ...]] = {}
        self._indexes: dict[tuple[date, bool], PointIndex[Pile]] = {}
        self._sites: dict[date, dict[str, list[Pile]]] = {}
        self.places: dict[PlaceKind, list[Place]] = {kind: [] for kind in PlaceKind}
        for place in network.places:
            if place.kind in self.places:  # a kind this engine has no target for is ignored
                self.places[PlaceKind(place.kind)].append(place)

    def as_of(self, due: date | None) -> date:
        """A dated target is judged on the network as it stood on its due date, once past."""
        return self.on if due is None else min(self.on, due)

    def before(self, start: date) -> date:
        """The day whose network a window starting at `start` begins from: the day before it
        (or `on`, while the window has not begun)."""
        return min(self.on, start - timedelta(days=1))

    def year_start(self, due: date) -> date:
        """1 January of the due date's year: 附件1's columns are calendar years."""
        return date(due.year, 1, 1)

    def step_start(self, due: date, first_due: date) -> date:
        """Where the window of a target the plan sets year by year (1:7 then 1:6; 10 parking
        areas then 13) begins: a later step at 1 January of its year, from the previous
        step's year end; the first step, and a target set once, at the plan's baseline."""
        if due > first_due:
            return max(self.plan.baseline, self.year_start(due))
        return self.plan.baseline

    def evs_on(self, day: date) -> dict[str, int]:
        """EVs per plan county on the day: each county's latest dated count on or before it
        (a count dated later was not known then), else the undated counts. Counts of one
        county under two of its names (on one day) add up."""
        evs: dict[str, int] = {}
        if not self.network.ev_counts:
            for name, count in self.network.evs_by_county.items():
                evs[self.county(name)] = evs.get(self.county(name), 0) + count
            return evs
        latest: dict[str, date] = {}
        for item in sorted(self.network.ev_counts, key=lambda item: item.as_of):
            county = self.county(item.county)
            if item.as_of > day:
                break
            if latest.get(county) != item.as_of:
                latest[county], evs[county] = item.as_of, 0
            evs[county] += item.evs
        return evs

    def county(self, name: str | None) -> str:
        """The plan's name for a county, or the normalised name when the plan lacks it."""
        key = name or ""
        if key not in self._counties:
            self._counties[key] = canonical_county(self.plan, key) or norm(key)
        return self._counties[key]

    def counted(self, as_of: date) -> tuple[Pile, ...]:
        if as_of not in self._counted:
            self._counted[as_of] = tuple(p for p in self.network.piles if p.counts_on(as_of))
        return self._counted[as_of]

    def public(self, as_of: date) -> list[Pile]:
        return [pile for pile in self.counted(as_of) if pile.public]

    def index(self, as_of: date, *, fast_only: bool = False) -> PointIndex[Pile]:
        """Public piles with coordinates inside China, for distance queries."""
        key = (as_of, fast_only)
        if key not in self._indexes:
            self._indexes[key] = PointIndex(
                (pile.latitude, pile.longitude, pile)
                for pile in self.public(as_of)
                if pile.latitude is not None
                and pile.longitude is not None
                and in_china(pile.latitude, pile.longitude)
                and (pile.fast or not fast_only)
            )
        return self._indexes[key]

    def at_site(self, as_of: date, site_name: str) -> list[Pile]:
        """Counted piles (public or not) whose site_name is this one."""
        if as_of not in self._sites:
            sites: dict[str, list[Pile]] = {}
            for pile in self.counted(as_of):
                if pile.site_name:
                    sites.setdefault(norm(pile.site_name), []).append(pile)
            self._sites[as_of] = sites
        return self._sites[as_of].get(norm(site_name), [])

    def figure(
        self,
        *,
        key: str,
        kind: FigureKind,
        scope: Scope,
        subject: str,
        titles: tuple[str, str],
        target: Decimal,
        actual: Decimal | int | None,
        unit: Unit,
        due: date,
        start: date | None = None,
        comparison: Comparison = Comparison.AT_LEAST,
        start_value: Decimal | int | None = 0,
        complete: bool = True,
        missing: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Figure:
        """Build a figure and judge it (see `judge`): its window runs from `start` (default:
        the plan's baseline) to `due`, starting from `start_value` (the figure's value on
        `before(start)`; None: unknown then); `missing` names the absent input."""
        info = dict(detail or {})
        value = None if actual is None or missing else Decimal(actual)
        if value is not None:
            value = quantize(value, unit, comparison)
        if missing:
            info["missing"] = missing
        begin = start or self.plan.baseline
        # rounded as the actual is, so a figure that has not moved sits on its line's start
        first = None if start_value is None else quantize(Decimal(start_value), unit, comparison)
        status = judge(
            comparison=comparison,
            target=target,
            actual=value,
            on=self.on,
            due=due,
            start=begin,
            start_value=first,
            complete=complete,
            missing=missing is not None,
        )
        if status is not Status.MET and self.on < due and not missing:
            line = None
            if first is not None:
                raw = line_value(on=self.on, start=begin, due=due, start_value=first, target=target)
                # rounded the other way from the actual: the line is never shown easier
                other = (
                    Comparison.AT_MOST if comparison is Comparison.AT_LEAST else Comparison.AT_LEAST
                )
                line = quantize(raw, unit, other)
            # The on-track line, so a reader can check the status by hand.
            info["line"] = {"start": begin, "start_value": first, "expected_now": line}
        gap = None if value is None else gap_of(comparison, value, target)
        zh, en = titles
        return Figure(key, kind, scope, subject, zh, en, target, value, gap, unit, comparison,
                      status, due, info)  # fmt: skip
