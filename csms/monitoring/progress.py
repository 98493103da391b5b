"""The pure plan-progress engine: the plan, the network and a date in, one figure per target out.

Choices (the status rule itself is in progress_model's docstring):
- New public piles are counted per plan year, within the year: 2024 from the baseline (the
  issue date) to 31 Dec 2024, 2025 from 1 Jan to 31 Dec 2025, against 附件1's yearly figures;
  each county also gets "new since the baseline" against its 附件1 total (so a county that
  built 2025's piles early shows it), and the city its total public piles against 一(一)/(二).
- A target whose due date has passed is judged on the network as it stood on the due date.
- The on-track line of a count runs from its window's start value (0 for "new" piles and
  coverage; the piles already in service at the baseline for city totals) to the target.
- Figures are emitted even when their inputs are missing, marked BEHIND with detail.missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from csms.monitoring.plan import County, Plan
from csms.monitoring.progress_model import (
    Comparison,
    Figure,
    FigureKind,
    Network,
    Pile,
    Place,
    PlaceKind,
    Scene,
    Scope,
    SiteFacts,
    Status,
    Unit,
    figure_json,
    judge,
    norm,
)
from csms.monitoring.progress_places import (
    COVERAGE_DUE,
    charging_distances,
    highway_service_areas,
    names,
    tourist_road,
    trunk_road_parking,
)
from csms.monitoring.progress_ratios import evs_per_pile, space_ratios

__all__ = [
    "Comparison",
    "Figure",
    "FigureKind",
    "Network",
    "Pile",
    "Place",
    "PlaceKind",
    "Scope",
    "SiteFacts",
    "Status",
    "Unit",
    "figure_json",
    "judge",
    "progress",
]


def _new_between(piles: list[Pile], start: date, end: date) -> int:
    """Piles commissioned within [start, end] (a None date is before the plan: not new)."""
    return sum(1 for p in piles if p.commissioned_on and start <= p.commissioned_on <= end)


def _in_county(scene: Scene, county: County, due: date) -> list[Pile]:
    return [p for p in scene.public(scene.as_of(due)) if scene.county(p.county) == county.name]


def _county_en(county: County) -> str:
    return county.name_en or county.name


def _new_piles_of(scene: Scene, county: County) -> list[Figure]:
    figures = []
    for year, target in sorted(county.new_public_piles.items()):
        start, due = max(scene.plan.baseline, date(year, 1, 1)), date(year, 12, 31)
        if start > due:
            continue  # a year before the plan's baseline
        piles = _in_county(scene, county, due)
        figures.append(
            scene.figure(
                key=f"county.{county.key}.new_piles.{year}",
                kind=FigureKind.NEW_PILES,
                scope=Scope.COUNTY,
                subject=county.name,
                titles=(
                    f"{county.name}{year}年新增公共充电桩",
                    f"{_county_en(county)}: new public piles in {year}",
                ),
                target=Decimal(target),
                actual=_new_between(piles, start, due),
                unit=Unit.PILES,
                due=due,
                start=start,
            )
        )
    if county.new_public_piles:
        due = date(max(county.new_public_piles), 12, 31)
        piles = _in_county(scene, county, due)
        figures.append(
            scene.figure(
                key=f"county.{county.key}.new_piles.total",
                kind=FigureKind.NEW_PILES_TOTAL,
                scope=Scope.COUNTY,
                subject=county.name,
                titles=(
                    f"{county.name}行动计划期间新增公共充电桩合计",
                    f"{_county_en(county)}: new public piles since the plan was issued",
                ),
                target=Decimal(county.total_new),
                actual=_new_between(piles, scene.plan.baseline, due),
                unit=Unit.PILES,
                due=due,
            )
        )
    return figures


def public_piles(scene: Scene) -> list[Figure]:
    """一(一)-(二) and 附件1: new public piles per county and year; city new and total piles."""
    plan = scene.plan
    figures = [f for county in plan.counties for f in _new_piles_of(scene, county)]
    at_baseline = len(scene.public(plan.baseline - timedelta(days=1)))
    for year, totals in sorted(plan.city_totals.items()):
        start, due = max(plan.baseline, date(year, 1, 1)), date(year, 12, 31)
        piles = scene.public(scene.as_of(due))
        outside = sum(1 for p in piles if scene.county(p.county) not in _names(plan))
        detail = {"piles_outside_plan_counties": outside}
        figures.append(
            scene.figure(
                key=f"city.new_piles.{year}",
                kind=FigureKind.NEW_PILES,
                scope=Scope.CITY,
                subject="city",
                titles=(f"全市{year}年新增公共充电桩", f"City: new public piles in {year}"),
                target=Decimal(totals.new_public_piles),
                actual=_new_between(piles, start, due) if start <= due else 0,
                unit=Unit.PILES,
                due=due,
                start=start,
                detail=detail,
            )
        )
        figures.append(
            scene.figure(
                key=f"city.total_piles.{year}",
                kind=FigureKind.TOTAL_PILES,
                scope=Scope.CITY,
                subject="city",
                titles=(
                    f"全市{year}年底公共充电桩总数",
                    f"City: public piles at the end of {year}",
                ),
                target=Decimal(totals.total_public_piles),
                actual=len(piles),
                unit=Unit.PILES,
                due=due,
                start_value=at_baseline,
                detail={**detail, "at_baseline": at_baseline},
            )
        )
    return figures


def _names(plan: Plan) -> set[str]:
    return {county.name for county in plan.counties}


def county_stations(scene: Scene) -> list[Figure]:
    """二(一)1: every county has public stations, at least 3 sites and 45 piles."""
    cov = scene.plan.coverage_targets_2025.counties
    piles = scene.public(scene.as_of(COVERAGE_DUE))
    figures, covered = [], []
    for county in scene.plan.counties:
        mine = [p for p in piles if scene.county(p.county) == county.name]
        sites = {norm(p.site_name) for p in mine if norm(p.site_name)}
        unsited = sum(1 for p in mine if not norm(p.site_name))
        if len(sites) >= cov.min_stations_per_county and len(mine) >= cov.min_piles_per_county:
            covered.append(county.name)
        for kind, target, actual, unit, zh, en in (
            (FigureKind.COUNTY_STATIONS, cov.min_stations_per_county, len(sites),
             Unit.STATIONS, "公共充电站（场站）数", "public charging sites"),
            (FigureKind.COUNTY_PILES, cov.min_piles_per_county, len(mine),
             Unit.PILES, "公共充电桩数", "public piles"),
        ):  # fmt: skip
            figures.append(
                scene.figure(
                    key=f"county.{county.key}.{kind.value.removeprefix('county_')}",
                    kind=kind,
                    scope=Scope.COUNTY,
                    subject=county.name,
                    titles=(f"{county.name}{zh}", f"{_county_en(county)}: {en}"),
                    target=Decimal(target),
                    actual=actual,
                    unit=unit,
                    due=COVERAGE_DUE,
                    detail={"piles_without_site": unsited} if unsited else {},
                )
            )
    figures.append(
        scene.figure(
            key="city.counties_covered",
            kind=FigureKind.COUNTIES_COVERED,
            scope=Scope.CITY,
            subject="city",
            titles=("公共充电站覆盖的县（市、区）数", "Counties with enough public stations"),
            target=Decimal(cov.count),
            actual=len(covered),
            unit=Unit.PLACES,
            due=COVERAGE_DUE,
            detail={"uncovered": [c.name for c in scene.plan.counties if c.name not in covered]},
        )
    )
    return figures


def _township_piles(scene: Scene, seat: Place, counts: Counter[tuple[str, str]]) -> int:
    county = scene.county(seat.county)
    labels = {norm(seat.name), norm(seat.township)} - {""}
    return sum(counts[(county, label)] for label in labels)


def townships(scene: Scene) -> list[Figure]:
    """二(一)2: 69 township seats with >= 5 public piles; every village with >= 2."""
    cov = scene.plan.coverage_targets_2025.townships
    piles = scene.public(scene.as_of(COVERAGE_DUE))
    by_township = Counter((scene.county(p.county), norm(p.township)) for p in piles if p.township)
    seats = scene.places[PlaceKind.TOWNSHIP_SEAT]
    short = [
        s.name
        for s in seats
        if _township_piles(scene, s, by_township) < cov.min_piles_per_township_seat
    ]
    villages = scene.places[PlaceKind.VILLAGE]
    by_village: dict[tuple[str, str], list[Pile]] = {}
    for p in piles:
        if p.village:
            by_village.setdefault((scene.county(p.county), norm(p.village)), []).append(p)
    short_villages = [
        v.name for v in villages if _village_piles(scene, v, by_village) < cov.min_piles_per_village
    ]
    return [
        scene.figure(
            key="township_seat.covered",
            kind=FigureKind.TOWNSHIPS_COVERED,
            scope=Scope.PLACE_KIND,
            subject=PlaceKind.TOWNSHIP_SEAT.value,
            titles=(
                f"公共充电桩不少于{cov.min_piles_per_township_seat}台的乡镇（街道）数",
                f"Township seats with at least {cov.min_piles_per_township_seat} public piles",
            ),
            target=Decimal(cov.count),
            actual=len(seats) - len(short),
            unit=Unit.PLACES,
            due=COVERAGE_DUE,
            missing=None if seats else "no township_seat places registered",
            detail={"registered": len(seats), "uncovered": names(short)},
        ),
        scene.figure(
            key="village.covered",
            kind=FigureKind.VILLAGES_COVERED,
            scope=Scope.PLACE_KIND,
            subject=PlaceKind.VILLAGE.value,
            titles=(
                f"公共充电桩不少于{cov.min_piles_per_village}台的行政村（社区）比例",
                f"Villages with at least {cov.min_piles_per_village} public piles",
            ),
            target=Decimal(1),
            actual=Decimal(len(villages) - len(short_villages)) / max(len(villages), 1),
            unit=Unit.SHARE,
            due=COVERAGE_DUE,
            missing=None if villages else "no village places registered",
            detail={"registered": len(villages), "uncovered": names(short_villages)},
        ),
    ]


def _village_piles(
    scene: Scene, village: Place, by_village: dict[tuple[str, str], list[Pile]]
) -> int:
    """Public piles in the village (same county; same township when both name one)."""
    township = norm(village.township)
    candidates = by_village.get((scene.county(village.county), norm(village.name)), [])
    return sum(
        1 for p in candidates if not township or not p.township or norm(p.township) == township
    )


TARGET_KINDS: tuple[Callable[[Scene], list[Figure]], ...] = (
    public_piles,
    county_stations,
    townships,
    highway_service_areas,
    trunk_road_parking,
    tourist_road,
    charging_distances,
    space_ratios,
    evs_per_pile,
)


def progress(plan: Plan, network: Network, on: date) -> list[Figure]:
    """Every target of the plan as a figure judged at `on` (see the module docstring)."""
    scene = Scene(plan, network, on)
    return [figure for target_kind in TARGET_KINDS for figure in target_kind(scene)]
