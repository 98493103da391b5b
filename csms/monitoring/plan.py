"""A city's plan targets document (plans/*.targets.json) read into a typed, frozen Plan.

`plan_from` checks the whole document and raises one `PlanError` (a ValueError and an
InvalidInput, so the API answers 422) listing every problem. Keys it does not know are kept in
`Plan.extras`, so other cities' plans may carry more than Shuozhou's does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Any

from csms.errors import InvalidInput
from csms.monitoring.docreader import YEAR, DocumentReader

DEFAULT_PLAN_RESOURCE = "plans/shuozhou-2024-2025.targets.json"
DEFAULT_TIMEZONE = "Asia/Shanghai"

_ISSUED = re.compile(r"issued\s+(\d{4}-\d{2}-\d{2})")
_RATIO = re.compile(r"^\s*1\s*:\s*(\d+(?:\.\d+)?)\s*$")  # "1:7" piles to EVs
_COUNTY_SUFFIXES = ("district", "county", "city")
_KNOWN_KEYS = frozenset(
    {
        "plan", "document", "baseline", "timezone", "currency", "reporting", "city_totals",
        "counties", "coverage_targets_2025", "milestones_2024", "urban_distance_targets_km",
        "space_ratio_targets", "yearly_pilots", "rules",
    }
)  # fmt: skip


class PlanError(InvalidInput, ValueError):
    """The targets document is not a usable plan; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid plan: " + "; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class CityTotals:
    """目标 一(一)/(二): one year's city-wide public pile and EV figures."""

    year: int
    new_public_piles: int
    total_public_piles: int
    evs_served: int | None
    evs_per_pile: Decimal | None  # "1:7" -> 7: at most 7 EVs per public pile


@dataclass(frozen=True, slots=True)
class County:
    """附件1: a county's yearly new public pile targets."""

    name: str
    name_en: str | None
    new_public_piles: Mapping[int, int]
    total_new: int

    @property
    def key(self) -> str:
        """A stable ASCII id for figure keys: "Shuocheng District" -> "Shuocheng"."""
        if not self.name_en:
            return self.name
        words = self.name_en.split()
        if len(words) > 1 and words[-1].casefold() in _COUNTY_SUFFIXES:
            words = words[:-1]
        return "_".join(words)


@dataclass(frozen=True, slots=True)
class CountyCoverage:
    count: int
    min_stations_per_county: int
    min_piles_per_county: int


@dataclass(frozen=True, slots=True)
class TownshipCoverage:
    count: int
    min_piles_per_township_seat: int
    min_piles_per_village: int
    max_charging_distance_km: Decimal


@dataclass(frozen=True, slots=True)
class TouristRoadCoverage:
    scope: str
    max_charging_distance_km: Decimal


@dataclass(frozen=True, slots=True)
class TrunkRoadCoverage:
    count: int
    min_charging_space_ratio: Decimal
    max_charging_distance_km: Decimal


@dataclass(frozen=True, slots=True)
class HighwayCoverage:
    count: int
    fast_chargers: bool
    min_share_of_small_car_spaces: Decimal


@dataclass(frozen=True, slots=True)
class Coverage2025:
    counties: CountyCoverage
    townships: TownshipCoverage
    tourist_road: TouristRoadCoverage | None  # a city without such a road has no target
    trunk_road_parking: TrunkRoadCoverage
    highway_service_areas: HighwayCoverage
    max_charging_radius_km: Decimal


@dataclass(frozen=True, slots=True)
class Milestones2024:
    trunk_road_parking_areas_covered: int
    highway_service_area_fast_charger_coverage: Decimal
    tourist_road: str | None  # "all posts and RV camps", or no 2024 milestone


@dataclass(frozen=True, slots=True)
class UrbanDistances:
    core: Mapping[int, Decimal]  # year -> max km to the nearest public pile
    outer: Mapping[int, Decimal]


@dataclass(frozen=True, slots=True)
class SpaceRatios:
    """任务 1, 4, 5: chargers as a share of parking spaces, by kind of site."""

    public_parking_commercial_transport_hubs: Mapping[int, Decimal]
    government_enterprise_internal_min: Decimal
    government_enterprise_internal_aim: Decimal | None
    scenic_4a_plus: Decimal
    scenic_a: Decimal
    scenic_below_a: Decimal


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    document: str
    # The issue date: where the on-track line of a target set once (by the end of 2025)
    # starts. 附件1's yearly "new" piles count calendar years, not from this date.
    baseline: date
    timezone: str
    currency: str | None
    monthly_report_due_day: int | None
    city_totals: Mapping[int, CityTotals]
    counties: tuple[County, ...]
    coverage_targets_2025: Coverage2025
    milestones_2024: Milestones2024
    urban_distance_targets_km: UrbanDistances
    space_ratio_targets: SpaceRatios
    yearly_pilots: Mapping[str, Any]
    rules: Mapping[str, Any]
    extras: Mapping[str, Any]  # keys this reader does not know, kept verbatim


def _frozen(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(value))


def _baseline(r: DocumentReader, doc: Mapping[str, Any]) -> date | None:
    explicit = r.text(doc, "", "baseline", optional=True)
    document = r.text(doc, "", "document")
    raw = explicit
    if raw is None and document is not None:
        match = _ISSUED.search(document)
        raw = match.group(1) if match else None
        if raw is None:
            r.fail("document", 'must name the issue date as "issued YYYY-MM-DD"')
            return None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        r.fail("baseline" if explicit else "document", f"{raw!r} is not a date")
        return None


def _city_totals(r: DocumentReader, doc: Mapping[str, Any]) -> dict[int, CityTotals]:
    section = r.section(doc, "", "city_totals") or {}
    out: dict[int, CityTotals] = {}
    for year, item in section.items():
        where = f"city_totals.{year}"
        if not YEAR.match(str(year)) or not isinstance(item, Mapping):
            r.fail(where, "must be a four-digit year mapped to an object")
            continue
        new = r.count(item, where, "new_public_piles")
        total = r.count(item, where, "total_public_piles")
        evs = r.count(item, where, "evs_served", optional=True)
        ratio_text = r.text(item, where, "pile_to_ev_ratio", optional=True)
        ratio = None
        if ratio_text is not None:
            match = _RATIO.match(ratio_text)
            if match is None or Decimal(match.group(1)) <= 0:
                r.fail(f"{where}.pile_to_ev_ratio", 'must read "1:N" with N > 0')
            else:
                ratio = Decimal(match.group(1))
        if new is not None and total is not None:
            out[int(year)] = CityTotals(int(year), new, total, evs, ratio)
    if not section and "city_totals" in doc:
        r.fail("city_totals", "must give at least one year")
    return out


def _counties(r: DocumentReader, doc: Mapping[str, Any]) -> tuple[County, ...]:
    items = r.get(doc, "", "counties", optional=False)
    if items is None:
        return ()
    if not isinstance(items, list) or not items:
        r.fail("counties", "must be a non-empty list")
        return ()
    out: list[County] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"counties[{i}]"
        if not isinstance(item, Mapping):
            r.fail(where, "must be an object")
            continue
        name = r.text(item, where, "name")
        name_en = r.text(item, where, "name_en", optional=True)
        yearly: dict[int, int] = {}
        for year, value in (r.section(item, where, "new_public_piles") or {}).items():
            count = r.count({str(year): value}, f"{where}.new_public_piles", str(year))
            if not YEAR.match(str(year)):
                r.fail(f"{where}.new_public_piles.{year}", "a year must have four digits")
            elif count is not None:
                yearly[int(year)] = count
        total = r.count(item, where, "total_new", optional=True)
        if name is None:
            continue
        for label in (name, name_en):
            if label is not None and _norm(label) in seen:
                r.fail(where, f"county {label!r} is listed twice")
            elif label is not None:
                seen.add(_norm(label))
        total = sum(yearly.values()) if total is None else total
        out.append(County(name, name_en, _frozen(yearly), total))
    return tuple(out)


def _county_coverage(r: DocumentReader, cov: Mapping[str, Any], w: str) -> CountyCoverage | None:
    c = r.section(cov, w, "counties_with_public_station") or {}
    cw = f"{w}.counties_with_public_station"
    count = r.count(c, cw, "count")
    stations = r.count(c, cw, "min_stations_per_county")
    piles = r.count(c, cw, "min_piles_per_county")
    if count is None or stations is None or piles is None:
        return None
    return CountyCoverage(count, stations, piles)


def _township_coverage(
    r: DocumentReader, cov: Mapping[str, Any], w: str
) -> TownshipCoverage | None:
    t = r.section(cov, w, "townships_with_public_piles") or {}
    tw = f"{w}.townships_with_public_piles"
    count = r.count(t, tw, "count")
    seat = r.count(t, tw, "min_piles_per_township_seat")
    village = r.count(t, tw, "min_piles_per_village")
    km = r.number(t, tw, "max_charging_distance_km")
    if count is None or seat is None or village is None or km is None:
        return None
    return TownshipCoverage(count, seat, village, km)


def _tourist_coverage(
    r: DocumentReader, cov: Mapping[str, Any], w: str
) -> TouristRoadCoverage | None:
    g = r.section(cov, w, "great_wall_no1_tourist_road", optional=True)
    if g is None:
        return None
    gw = f"{w}.great_wall_no1_tourist_road"
    scope = r.text(g, gw, "scope", optional=True)
    km = r.number(g, gw, "max_charging_distance_km")
    return None if km is None else TouristRoadCoverage(scope or "all", km)


def _trunk_coverage(r: DocumentReader, cov: Mapping[str, Any], w: str) -> TrunkRoadCoverage | None:
    p = r.section(cov, w, "trunk_road_parking_areas") or {}
    pw = f"{w}.trunk_road_parking_areas"
    count = r.count(p, pw, "count")
    ratio = r.number(p, pw, "min_charging_space_ratio", at_most_one=True)
    km = r.number(p, pw, "max_charging_distance_km")
    if count is None or ratio is None or km is None:
        return None
    return TrunkRoadCoverage(count, ratio, km)


def _highway_coverage(r: DocumentReader, cov: Mapping[str, Any], w: str) -> HighwayCoverage | None:
    h = r.section(cov, w, "highway_service_areas") or {}
    hw = f"{w}.highway_service_areas"
    count = r.count(h, hw, "count")
    fast = r.flag(h, hw, "fast_chargers")
    share = r.number(h, hw, "min_share_of_small_car_spaces", at_most_one=True)
    if count is None or fast is None or share is None:
        return None
    return HighwayCoverage(count, fast, share)


def _coverage(r: DocumentReader, doc: Mapping[str, Any]) -> Coverage2025 | None:
    w = "coverage_targets_2025"
    cov = r.section(doc, "", w)
    if cov is None:
        return None
    counties = _county_coverage(r, cov, w)
    townships = _township_coverage(r, cov, w)
    tourist = _tourist_coverage(r, cov, w)
    trunk = _trunk_coverage(r, cov, w)
    highway = _highway_coverage(r, cov, w)
    radius = r.number(cov, w, "max_charging_radius_km")
    if counties is None or townships is None or trunk is None or highway is None:
        return None
    if radius is None:
        return None
    return Coverage2025(counties, townships, tourist, trunk, highway, radius)


def _milestones(r: DocumentReader, doc: Mapping[str, Any]) -> Milestones2024 | None:
    w = "milestones_2024"
    m = r.section(doc, "", w)
    if m is None:
        return None
    trunk = r.count(m, w, "trunk_road_parking_areas_covered")
    highway = r.number(m, w, "highway_service_area_fast_charger_coverage", at_most_one=True)
    tourist = r.text(m, w, "great_wall_no1_tourist_road", optional=True)
    if trunk is None or highway is None:
        return None
    return Milestones2024(trunk, highway, tourist)


def _urban(r: DocumentReader, doc: Mapping[str, Any]) -> UrbanDistances | None:
    w = "urban_distance_targets_km"
    u = r.section(doc, "", w)
    if u is None:
        return None
    core, outer = r.by_year(u, w, "core"), r.by_year(u, w, "outer")
    return UrbanDistances(_frozen(core), _frozen(outer)) if core and outer else None


def _space_ratios(r: DocumentReader, doc: Mapping[str, Any]) -> SpaceRatios | None:
    w = "space_ratio_targets"
    s = r.section(doc, "", w)
    if s is None:
        return None
    public = r.by_year(s, w, "public_parking_commercial_transport_hubs", share=True)
    g = r.section(s, w, "government_and_enterprise_internal") or {}
    gw = f"{w}.government_and_enterprise_internal"
    gov_min = r.number(g, gw, "min", at_most_one=True)
    gov_aim = r.number(g, gw, "aim", optional=True, at_most_one=True)
    a4 = r.number(s, w, "scenic_4A_plus_and_provincial_resorts", at_most_one=True)
    a = r.number(s, w, "scenic_other_A_level", at_most_one=True)
    below = r.number(s, w, "scenic_below_A", at_most_one=True)
    if not public or gov_min is None or a4 is None or a is None or below is None:
        return None
    return SpaceRatios(_frozen(public), gov_min, gov_aim, a4, a, below)


def plan_from(document: Mapping[str, Any]) -> Plan:
    """Read a targets document; raise PlanError listing every problem found."""
    if not isinstance(document, Mapping):
        raise PlanError(["the plan must be a JSON object"])
    r = DocumentReader()
    name = r.text(document, "", "plan")
    baseline = _baseline(r, document)
    timezone = r.text(document, "", "timezone", optional=True) or DEFAULT_TIMEZONE
    currency = r.text(document, "", "currency", optional=True)
    reporting = r.section(document, "", "reporting", optional=True) or {}
    due_day = r.count(reporting, "reporting", "monthly_report_due_day", optional=True)
    if due_day is not None and not 1 <= due_day <= 28:
        r.fail("reporting.monthly_report_due_day", "must be a day 1..28")
    totals = _city_totals(r, document)
    counties = _counties(r, document)
    coverage = _coverage(r, document)
    milestones = _milestones(r, document)
    urban = _urban(r, document)
    ratios = _space_ratios(r, document)
    pilots = r.section(document, "", "yearly_pilots", optional=True) or {}
    rules = r.section(document, "", "rules", optional=True) or {}
    if r.problems:
        raise PlanError(r.problems)
    assert name is not None and baseline is not None and coverage is not None
    assert milestones is not None and urban is not None and ratios is not None
    return Plan(
        name=name,
        document=str(document["document"]),
        baseline=baseline,
        timezone=timezone,
        currency=currency,
        monthly_report_due_day=due_day,
        city_totals=_frozen(totals),
        counties=counties,
        coverage_targets_2025=coverage,
        milestones_2024=milestones,
        urban_distance_targets_km=urban,
        space_ratio_targets=ratios,
        yearly_pilots=_frozen(pilots),
        rules=_frozen(rules),
        extras=_frozen({k: v for k, v in document.items() if k not in _KNOWN_KEYS}),
    )


def _norm(name: str) -> str:
    return "".join(name.split()).casefold()


def county_names(plan: Plan) -> tuple[str, ...]:
    """The plan's counties by their canonical (Chinese) names, in the plan's order."""
    return tuple(county.name for county in plan.counties)


def canonical_county(plan: Plan, name: str | None) -> str | None:
    """The plan's name for a county given in Chinese, English or as its key; None if unknown.

    Spaces and case do not matter ("应 县", "ying county", "Ying" all mean 应县).
    """
    if not name:
        return None
    wanted = _norm(name)
    for county in plan.counties:
        labels = (county.name, county.name_en or "", county.key)
        if any(_norm(label) == wanted for label in labels if label):
            return county.name
    return None


def default_plan_document() -> dict[str, Any]:
    """The plan the CSMS ships: Shuozhou's 2024-2025 action plan targets."""
    text = resources.files("csms.monitoring").joinpath(DEFAULT_PLAN_RESOURCE).read_text("utf-8")
    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def default_plan() -> Plan:
    return plan_from(default_plan_document())
