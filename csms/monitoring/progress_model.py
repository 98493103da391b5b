"""The progress engine's values: the network it reads, the figures it writes, and the status rule.

Status rule (one for every figure, see `judge`):
- MET when the comparison holds at the figure's evaluation date and no input is missing.
- Missing inputs (no places of a kind, no EV data, no parking spaces) are BEHIND, never a pass.
- Past the due date and not met: BEHIND.
- Before the due date and not met: count targets (piles, stations, places, coverage shares) are
  ON_TRACK when actual >= start + (target - start) x the elapsed fraction of their window;
  level targets (distances and ratios, whose trend one reading cannot show) are ON_TRACK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
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
    NEW_PILES = "new_piles"  # public piles commissioned within a plan year
    NEW_PILES_TOTAL = "new_piles_total"  # public piles commissioned since the baseline
    TOTAL_PILES = "total_piles"  # all public piles in the city
    COUNTY_STATIONS = "county_stations"
    COUNTY_PILES = "county_piles"
    COUNTIES_COVERED = "counties_covered"
    TOWNSHIPS_COVERED = "townships_covered"
    VILLAGES_COVERED = "villages_covered"
    HIGHWAY_FAST_COVERAGE = "highway_fast_coverage"
    HIGHWAY_SPACE_SHARE = "highway_space_share"
    TRUNK_ROAD_COVERED = "trunk_road_covered"
    TRUNK_ROAD_SPACE_RATIO = "trunk_road_space_ratio"
    TOURIST_ROAD_COVERED = "tourist_road_covered"
    CHARGING_DISTANCE = "charging_distance"
    SPACE_RATIO = "space_ratio"
    EVS_PER_PILE = "evs_per_pile"


# Count targets move towards the target over their window; level targets are a reading.
PROGRESSIVE_UNITS = frozenset({Unit.PILES, Unit.STATIONS, Unit.PLACES, Unit.SHARE})
_PLACES = {Unit.SHARE: Decimal("0.0001"), Unit.RATIO: Decimal("0.0001"), Unit.KM: Decimal("0.001")}


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
    commissioned_on: date | None  # None: in service before the plan's baseline
    locked: bool = False  # a safety lockout (二(六)17): out of use, not counted
    # Local day it was decommissioned: built and in service until the day before, not after.
    decommissioned_on: date | None = None

    def commissioned_on_or_before(self, day: date) -> bool:
        """In the network on the day (an unknown date means it was there before the plan)."""
        return self.commissioned_on is None or self.commissioned_on <= day

    def counts_on(self, day: date) -> bool:
        """Counted on the day: commissioned by then, not yet decommissioned, and not under a
        safety lockout."""
        in_service = self.decommissioned_on is None or day < self.decommissioned_on
        return not self.locked and in_service and self.commissioned_on_or_before(day)


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
class Network:
    piles: Sequence[Pile] = ()
    places: Sequence[Place] = ()
    sites: Sequence[SiteFacts] = ()
    evs_by_county: Mapping[str, int] = field(default_factory=dict)


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
    step = _PLACES.get(unit, Decimal(1))
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


def judge(
    *,
    comparison: Comparison,
    target: Decimal,
    actual: Decimal | None,
    on: date,
    due: date | None,
    start: date,
    progressive: bool,
    start_value: Decimal = Decimal(0),
    complete: bool = True,
    missing: bool = False,
) -> Status:
    """The status rule of the module docstring."""
    if missing:
        return Status.BEHIND
    if actual is not None and complete and holds(comparison, actual, target):
        return Status.MET
    if due is None or on >= due:
        return Status.BEHIND
    if not progressive or comparison is Comparison.AT_MOST:
        return Status.ON_TRACK
    if actual is None:
        return Status.BEHIND
    expected = start_value + (target - start_value) * elapsed_fraction(on, start, due)
    return Status.ON_TRACK if actual >= expected else Status.BEHIND


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

    A pile counts at a date when it was commissioned on or before it (None: before the plan)
    and is not under a safety lockout (lockouts are known only as they stand now).
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
        start_value: int = 0,
        complete: bool = True,
        missing: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Figure:
        """Build a figure and judge it (see `judge`); `missing` names the absent input."""
        info = dict(detail or {})
        value = None if actual is None or missing else Decimal(actual)
        if value is not None:
            value = quantize(value, unit, comparison)
        if missing:
            info["missing"] = missing
        status = judge(
            comparison=comparison,
            target=target,
            actual=value,
            on=self.on,
            due=due,
            start=start or self.plan.baseline,
            progressive=unit in PROGRESSIVE_UNITS,
            start_value=Decimal(start_value),
            complete=complete,
            missing=missing is not None,
        )
        gap = None if value is None else gap_of(comparison, value, target)
        zh, en = titles
        return Figure(key, kind, scope, subject, zh, en, target, value, gap, unit, comparison,
                      status, due, info)  # fmt: skip
