"""The pure plan-progress engine: the plan, the network and a date in, one figure per target out.

Choices (the status rule itself is in progress_model's docstring):
- 附件1's columns are calendar years: "2024年新增" counts the public piles commissioned from
  1 January to 31 December 2024, whenever the plan was issued (the end-2023 base is
  2665 - 1076 = 1589). Each county also gets its piles new in all the plan's years against
  its 附件1 total, and the city its public piles at each year end against 一(一)/(二).
- A target whose due date has passed is judged on the network as it stood on its due date.
- The on-track line of a figure runs from its value when its window began to the target: a
  year's pile counts over that calendar year; a target the plan sets year by year (1:7 then
  1:6) from the previous year end; any other target from the plan's issue date.
- "全覆盖" of the counties (一(二), 二(一)1) is at least one public station in each; "平均每县
  不少于3座、45台" is a city average, shown beside each county's own figures.
- Figures are emitted even when their inputs are missing, marked BEHIND with detail.missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from csms.monitoring.plan import County, Plan
from csms.monitoring.progress_model import (
    Comparison,
    EvCount,
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
    "EvCount",
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
    """附件1: a county's new public piles in each calendar year, and in all of them."""
    figures = []
    for year, target in sorted(county.new_public_piles.items()):
        start, due = date(year, 1, 1), date(year, 12, 31)
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
                actual=_new_between(_in_county(scene, county, due), start, due),
                unit=Unit.PILES,
                due=due,
                start=start,
            )
        )
    if county.new_public_piles:
        first, last = min(county.new_public_piles), max(county.new_public_piles)
        start, due = date(first, 1, 1), date(last, 12, 31)
        figures.append(
            scene.figure(
                key=f"county.{county.key}.new_piles.total",
                kind=FigureKind.NEW_PILES_TOTAL,
                scope=Scope.COUNTY,
                subject=county.name,
                titles=(
                    f"{county.name}{first}—{last}年新增公共充电桩合计",
                    f"{_county_en(county)}: new public piles in {first}-{last}",
                ),
                target=Decimal(county.total_new),
                actual=_new_between(_in_county(scene, county, due), start, due),
                unit=Unit.PILES,
                due=due,
                start=start,
            )
        )
    return figures


def public_piles(scene: Scene) -> list[Figure]:
    """一(一)-(二) and 附件1: new public piles per county and calendar year; the city's new
    piles in each year and its public piles at each year end."""
    plan = scene.plan
    figures = [f for county in plan.counties for f in _new_piles_of(scene, county)]
    for year, totals in sorted(plan.city_totals.items()):
        start, due = date(year, 1, 1), date(year, 12, 31)
        piles = scene.public(scene.as_of(due))
        at_start = len(scene.public(scene.before(start)))
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
                actual=_new_between(piles, start, due),
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
                start=start,
                start_value=at_start,
                detail={
                    **detail,
                    # the network's piles on 31 Dec of the year before, and the plan's own
                    # figure for it (the year-end total less the year's new piles)
                    "at_start": at_start,
                    "plan_start": totals.total_public_piles - totals.new_public_piles,
                },
            )
        )
    return figures


def _names(plan: Plan) -> set[str]:
    return {county.name for county in plan.counties}


def _by_county(scene: Scene, as_of: date) -> dict[str, list[Pile]]:
    """The counted public piles of each plan county."""
    out: dict[str, list[Pile]] = {county.name: [] for county in scene.plan.counties}
    for pile in scene.public(as_of):
        out.get(scene.county(pile.county), []).append(pile)
    return out


def _sites(piles: list[Pile]) -> int:
    """Public charging sites (场站): distinct site names; a pile without one is not counted."""
    return len({norm(p.site_name) for p in piles if norm(p.site_name)})


def _average(total: int, counties: int) -> Decimal:
    return Decimal(total) / max(counties, 1)


def counties(scene: Scene) -> list[Figure]:
    """一(二), 二(一)1: a public station in every county (全覆盖), and on average at least 3
    sites and 45 public piles per county, shown with each county's own figures."""
    cov = scene.plan.coverage_targets_2025.counties
    plan_counties = scene.plan.counties
    now = _by_county(scene, scene.as_of(COVERAGE_DUE))
    then = _by_county(scene, scene.before(scene.plan.baseline))
    figures = []
    for county in plan_counties:
        mine, before = now[county.name], then[county.name]
        unsited = sum(1 for p in mine if not norm(p.site_name))
        for kind, target, actual, start_value, unit, zh, en in (
            (FigureKind.COUNTY_STATIONS, cov.min_stations_per_county, _sites(mine),
             _sites(before), Unit.STATIONS, "公共充电站（场站）数", "public charging sites"),
            (FigureKind.COUNTY_PILES, cov.min_piles_per_county, len(mine), len(before),
             Unit.PILES, "公共充电桩数", "public piles"),
        ):  # fmt: skip
            figures.append(
                scene.figure(
                    key=f"county.{county.key}.{kind.value.removeprefix('county_')}",
                    kind=kind,
                    scope=Scope.COUNTY,
                    subject=county.name,
                    titles=(
                        f"{county.name}{zh}（对照平均每县{target}）",
                        f"{_county_en(county)}: {en} (against the plan's average of {target})",
                    ),
                    target=Decimal(target),
                    actual=actual,
                    unit=unit,
                    due=COVERAGE_DUE,
                    start_value=start_value,
                    detail={"piles_without_site": unsited} if unsited else {},
                )
            )
    count = len(plan_counties)
    for kind, key, target, measure, unit, zh, en in (
        (FigureKind.AVERAGE_STATIONS_PER_COUNTY, "stations_per_county",
         cov.min_stations_per_county, _sites, Unit.STATIONS,
         "平均每县（市、区）公共充电站（场站）数", "public charging sites per county, on average"),
        (FigureKind.AVERAGE_PILES_PER_COUNTY, "piles_per_county", cov.min_piles_per_county,
         len, Unit.PILES, "平均每县（市、区）公共充电桩数", "public piles per county, on average"),
    ):  # fmt: skip
        by_county = {county.name: measure(now[county.name]) for county in plan_counties}
        figures.append(
            scene.figure(
                key=f"city.{key}",
                kind=kind,
                scope=Scope.CITY,
                subject="city",
                titles=(zh, f"City: {en}"),
                target=Decimal(target),
                actual=_average(sum(by_county.values()), count),
                unit=unit,
                due=COVERAGE_DUE,
                start_value=_average(sum(measure(then[c.name]) for c in plan_counties), count),
                detail={"counties": count, "by_county": by_county},
            )
        )
    covered = [c.name for c in plan_counties if now[c.name]]
    figures.append(
        scene.figure(
            key="city.counties_covered",
            kind=FigureKind.COUNTIES_COVERED,
            scope=Scope.CITY,
            subject="city",
            titles=("有公共充电站的县（市、区）数", "Counties with a public charging station"),
            target=Decimal(cov.count),
            actual=len(covered),
            unit=Unit.PLACES,
            due=COVERAGE_DUE,
            start_value=sum(1 for c in plan_counties if then[c.name]),
            detail={"uncovered": [c.name for c in plan_counties if c.name not in covered]},
        )
    )
    return figures


def _township_piles(scene: Scene, seat: Place, counts: Counter[tuple[str, str]]) -> int:
    county = scene.county(seat.county)
    labels = {norm(seat.name), norm(seat.township)} - {""}
    return sum(counts[(county, label)] for label in labels)


def _seat_piles(scene: Scene, seats: list[Place], as_of: date) -> list[int]:
    """Public piles in each seat's township (same county; by the pile's township label)."""
    counts = Counter(
        (scene.county(p.county), norm(p.township)) for p in scene.public(as_of) if p.township
    )
    return [_township_piles(scene, seat, counts) for seat in seats]


def _villages_short(scene: Scene, villages: list[Place], as_of: date, least: int) -> list[str]:
    by_village: dict[tuple[str, str], list[Pile]] = {}
    for p in scene.public(as_of):
        if p.village:
            by_village.setdefault((scene.county(p.county), norm(p.village)), []).append(p)
    return [v.name for v in villages if _village_piles(scene, v, by_village) < least]


def townships(scene: Scene) -> list[Figure]:
    """二(一)2: a public pile in each of the 69 townships (全覆盖); at least 5 at each
    township seat; at least 2 in each village."""
    cov = scene.plan.coverage_targets_2025.townships
    seats = scene.places[PlaceKind.TOWNSHIP_SEAT]
    now = _seat_piles(scene, seats, scene.as_of(COVERAGE_DUE))
    then = _seat_piles(scene, seats, scene.before(scene.plan.baseline))
    least = cov.min_piles_per_township_seat
    no_seats = None if seats else "no township_seat places registered"
    villages = scene.places[PlaceKind.VILLAGE]
    short_villages = _villages_short(
        scene, villages, scene.as_of(COVERAGE_DUE), cov.min_piles_per_village
    )
    short_before = _villages_short(
        scene, villages, scene.before(scene.plan.baseline), cov.min_piles_per_village
    )
    shares = [Decimal(len(villages) - len(short)) / max(len(villages), 1)
              for short in (short_villages, short_before)]  # fmt: skip
    return [
        scene.figure(
            key="township.covered",
            kind=FigureKind.TOWNSHIPS_COVERED,
            scope=Scope.PLACE_KIND,
            subject=PlaceKind.TOWNSHIP_SEAT.value,
            titles=("有公共充电桩的乡镇（街道）数", "Townships (streets) with a public pile"),
            target=Decimal(cov.count),
            actual=sum(1 for n in now if n >= 1),
            unit=Unit.PLACES,
            due=COVERAGE_DUE,
            start_value=sum(1 for n in then if n >= 1),
            missing=no_seats,
            detail={
                "registered": len(seats),
                "uncovered": names([s.name for s, n in zip(seats, now, strict=True) if n < 1]),
            },
        ),
        scene.figure(
            key="township_seat.min_piles",
            kind=FigureKind.TOWNSHIP_SEAT_PILES,
            scope=Scope.PLACE_KIND,
            subject=PlaceKind.TOWNSHIP_SEAT.value,
            titles=(
                f"公共充电桩不少于{least}台的乡镇（街道）所在地数",
                f"Township seats with at least {least} public piles",
            ),
            target=Decimal(cov.count),
            actual=sum(1 for n in now if n >= least),
            unit=Unit.PLACES,
            due=COVERAGE_DUE,
            start_value=sum(1 for n in then if n >= least),
            missing=no_seats,
            detail={
                "registered": len(seats),
                "uncovered": names([s.name for s, n in zip(seats, now, strict=True) if n < least]),
            },
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
            actual=shares[0],
            unit=Unit.SHARE,
            due=COVERAGE_DUE,
            start_value=shares[1],
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
    counties,
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
