"""Progress figures about places: roadside coverage, parking-space shares and charging distance.

A place is served by a public pile at its site (the pile's site_name is the place's name) or,
failing that, by one within SITE_RADIUS_KM of the place's point: that is what "covered"
means for parking areas, service areas, tourist-road posts and RV camps. How far the nearest
public pile is (充电距离) is a figure of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_CEILING, Decimal

from csms.monitoring.progress_model import (
    Comparison,
    Figure,
    FigureKind,
    Pile,
    Place,
    PlaceKind,
    Scene,
    Scope,
    Unit,
)

MILESTONE_DUE = date(2024, 12, 31)  # 附件2: the 2024 year-end milestones
COVERAGE_DUE = date(2025, 12, 31)  # 一(二), 二(一)-(二): "到 2025 年底"
SITE_RADIUS_KM = 1.0
NAMES_SHOWN = 100  # detail lists are capped; their counts are not

_KIND_ZH = {
    PlaceKind.TOWNSHIP_SEAT: "乡镇（街道）所在地",
    PlaceKind.VILLAGE: "行政村（社区）",
    PlaceKind.TRUNK_ROAD_PARKING: "普通国省干线公路停车区",
    PlaceKind.HIGHWAY_SERVICE_AREA: "高速公路服务区",
    PlaceKind.TOURIST_ROAD_POST: "长城一号旅游公路驿站",
    PlaceKind.RV_CAMP: "房车营地",
    PlaceKind.URBAN_CORE: "城市核心区",
    PlaceKind.URBAN_OUTER: "外围城区",
}
_KIND_EN = {kind: kind.value.replace("_", " ") for kind in PlaceKind}


def names(items: Sequence[str]) -> list[str]:
    return sorted(items)[:NAMES_SHOWN]


def piles_at(scene: Scene, place: Place, as_of: date, *, fast_only: bool = False) -> list[Pile]:
    """The counted public piles serving a place (by site name, else within SITE_RADIUS_KM)."""
    named = [
        pile
        for pile in scene.at_site(as_of, place.name)
        if pile.public and (pile.fast or not fast_only)
    ]
    if named:
        return named
    index = scene.index(as_of, fast_only=fast_only)
    return [pile for _, pile in index.within(place.latitude, place.longitude, SITE_RADIUS_KM)]


def _served(scene: Scene, places: list[Place], as_of: date, fast_only: bool) -> list[Place]:
    return [p for p in places if piles_at(scene, p, as_of, fast_only=fast_only)]


def _coverage(
    scene: Scene,
    kind: PlaceKind,
    *,
    key: str,
    figure_kind: FigureKind,
    titles: tuple[str, str],
    target: Decimal,
    due: date,
    start: date,
    share: bool,
    planned: int | None = None,
    fast_only: bool = False,
) -> Figure:
    """Places of a kind served by a public pile at the place (see `piles_at`): a count, or a
    share of max(registered, planned)."""
    places = scene.places[kind]
    served = _served(scene, places, scene.as_of(due), fast_only)
    before = _served(scene, places, scene.before(start), fast_only)

    def amount(count: int) -> Decimal | int:
        # a share of the registered places, or of the planned number when more are planned
        return Decimal(count) / max(len(places), planned or 0, 1) if share else count

    uncovered = [p.name for p in places if p not in served]
    detail = {"registered": len(places), "served": len(served), "uncovered": names(uncovered)}
    if planned is not None:
        detail["planned"] = planned
    return scene.figure(
        key=key,
        kind=figure_kind,
        scope=Scope.PLACE_KIND,
        subject=kind.value,
        titles=titles,
        target=target,
        actual=amount(len(served)),
        unit=Unit.SHARE if share else Unit.PLACES,
        due=due,
        start=start,
        start_value=amount(len(before)),
        missing=None if places else f"no {kind.value} places registered",
        detail=detail,
    )


def _ratios(scene: Scene, places: list[Place], as_of: date) -> tuple[dict[str, Decimal], list[str]]:
    """Each place's charging spaces (connectors of its piles) per small-car space; the places
    whose small-car spaces are unknown."""
    ratios: dict[str, Decimal] = {}
    unknown = []
    for place in places:
        if not place.small_car_spaces:
            unknown.append(place.name)
            continue
        connectors = sum(pile.connectors for pile in piles_at(scene, place, as_of))
        ratios[place.name] = Decimal(connectors) / place.small_car_spaces
    return ratios, unknown


def _space_ratio(
    scene: Scene, kind: PlaceKind, *, key: str, figure_kind: FigureKind, target: Decimal
) -> Figure:
    """The lowest charging-spaces / small-car-spaces ratio among the kind's places."""
    places = scene.places[kind]
    ratios, unknown = _ratios(scene, places, scene.as_of(COVERAGE_DUE))
    before, _ = _ratios(scene, places, scene.before(scene.plan.baseline))
    missing = None
    if not places:
        missing = f"no {kind.value} places registered"
    elif not ratios:
        missing = f"no {kind.value} place has its small-car spaces registered"
    return scene.figure(
        key=key,
        kind=figure_kind,
        scope=Scope.PLACE_KIND,
        subject=kind.value,
        titles=(
            f"{_KIND_ZH[kind]}充电车位比例（最低）",
            f"{_KIND_EN[kind]}: charging spaces per small-car space (lowest)",
        ),
        target=target,
        actual=min(ratios.values(), default=None),
        unit=Unit.RATIO,
        due=COVERAGE_DUE,
        start_value=min(before.values(), default=None),
        complete=not unknown,
        missing=missing,
        detail={
            "by_place": {name: ratio.quantize(Decimal("0.0001")) for name, ratio in ratios.items()},
            "below": names([name for name, ratio in ratios.items() if ratio < target]),
            "unknown_spaces": names(unknown),
        },
    )


def highway_service_areas(scene: Scene) -> list[Figure]:
    """二(二)8 and 附件2: fast chargers at the 12 service areas (80% in 2024, all in 2025),
    chargers for at least 15% of small-car spaces."""
    cov = scene.plan.coverage_targets_2025.highway_service_areas
    milestone = scene.plan.milestones_2024.highway_service_area_fast_charger_coverage
    figures = [
        _coverage(
            scene,
            PlaceKind.HIGHWAY_SERVICE_AREA,
            key=f"highway_service_area.fast_coverage.{due.year}",
            figure_kind=FigureKind.HIGHWAY_FAST_COVERAGE,
            titles=(
                f"{due.year}年高速公路服务区快充桩覆盖率",
                f"Highway service areas with fast chargers, {due.year}",
            ),
            target=target,
            due=due,
            start=scene.step_start(due, MILESTONE_DUE),
            share=True,
            planned=cov.count,
            fast_only=cov.fast_chargers,
        )
        for target, due in ((milestone, MILESTONE_DUE), (Decimal(1), COVERAGE_DUE))
    ]
    figures.append(
        _space_ratio(
            scene,
            PlaceKind.HIGHWAY_SERVICE_AREA,
            key="highway_service_area.small_car_space_share",
            figure_kind=FigureKind.HIGHWAY_SPACE_SHARE,
            target=cov.min_share_of_small_car_spaces,
        )
    )
    return figures


def trunk_road_parking(scene: Scene) -> list[Figure]:
    """二(二)7 and 附件2: 10 parking areas served in 2024, all 13 in 2025, >= 10% spaces."""
    cov = scene.plan.coverage_targets_2025.trunk_road_parking
    milestone = scene.plan.milestones_2024.trunk_road_parking_areas_covered
    figures = [
        _coverage(
            scene,
            PlaceKind.TRUNK_ROAD_PARKING,
            key=f"trunk_road_parking.covered.{due.year}",
            figure_kind=FigureKind.TRUNK_ROAD_COVERED,
            titles=(
                f"{due.year}年普通国省干线公路停车区覆盖数",
                f"Trunk-road parking areas served, {due.year}",
            ),
            target=Decimal(target),
            due=due,
            start=scene.step_start(due, MILESTONE_DUE),
            share=False,
            planned=cov.count,
        )
        for target, due in ((milestone, MILESTONE_DUE), (cov.count, COVERAGE_DUE))
    ]
    figures.append(
        _space_ratio(
            scene,
            PlaceKind.TRUNK_ROAD_PARKING,
            key="trunk_road_parking.space_ratio",
            figure_kind=FigureKind.TRUNK_ROAD_SPACE_RATIO,
            target=cov.min_charging_space_ratio,
        )
    )
    return figures


def tourist_road(scene: Scene) -> list[Figure]:
    """二(二)6 and 附件2: a public pile at every post and RV camp of the Great Wall No.1 road
    (at the site, as for parking areas), and a charging distance under 50 km, its own figure."""
    cov = scene.plan.coverage_targets_2025.tourist_road
    if cov is None:
        return []
    dues = [MILESTONE_DUE] if scene.plan.milestones_2024.tourist_road else []
    at_site = f"{SITE_RADIUS_KM:g}"
    figures = [
        _coverage(
            scene,
            kind,
            key=f"{kind.value}.covered.{due.year}",
            figure_kind=FigureKind.TOURIST_ROAD_COVERED,
            titles=(
                f"{due.year}年{_KIND_ZH[kind]}充电桩覆盖率（场地内或{at_site}公里内有公共充电桩）",
                f"{_KIND_EN[kind]}s with a public pile at the site (within {at_site} km), "
                f"{due.year}",
            ),
            target=Decimal(1),
            due=due,
            start=scene.step_start(due, min(dues, default=COVERAGE_DUE)),
            share=True,
        )
        for kind in (PlaceKind.TOURIST_ROAD_POST, PlaceKind.RV_CAMP)
        for due in (*dues, COVERAGE_DUE)
    ]
    figures += [
        _distance(
            scene,
            kind,
            key=f"{kind.value}.distance",
            target_km=cov.max_charging_distance_km,
            due=COVERAGE_DUE,
            start=scene.plan.baseline,
        )
        for kind in (PlaceKind.TOURIST_ROAD_POST, PlaceKind.RV_CAMP)
    ]
    return figures


def _nearest(scene: Scene, places: list[Place], as_of: date) -> list[tuple[Decimal, str]]:
    """Each place's distance to its nearest public pile (km, rounded up), farthest first."""
    index = scene.index(as_of)
    nearest = []
    for place in places:
        hit = index.nearest(place.latitude, place.longitude)
        if hit is not None:
            km = Decimal(hit[0]).quantize(Decimal("0.001"), rounding=ROUND_CEILING)
            nearest.append((km, place.name))
    nearest.sort(reverse=True)
    return nearest


def _distance(
    scene: Scene, kind: PlaceKind, *, key: str, target_km: Decimal, due: date, start: date
) -> Figure:
    """The worst distance from a place of the kind to its nearest public pile."""
    places = scene.places[kind]
    nearest = _nearest(scene, places, scene.as_of(due))
    before = _nearest(scene, places, scene.before(start))
    within = sum(1 for km, _ in nearest if km <= target_km)
    missing = None
    if not places:
        missing = f"no {kind.value} places registered"
    elif not nearest:
        missing = "no public piles with coordinates"
    return scene.figure(
        key=key,
        kind=FigureKind.CHARGING_DISTANCE,
        scope=Scope.PLACE_KIND,
        subject=kind.value,
        titles=(
            f"{_KIND_ZH[kind]}到最近公共充电桩的距离（最远）",
            f"{_KIND_EN[kind]}: distance to the nearest public pile (worst)",
        ),
        target=target_km,
        actual=nearest[0][0] if nearest else None,
        unit=Unit.KM,
        comparison=Comparison.AT_MOST,
        due=due,
        start=start,
        start_value=before[0][0] if before else None,
        missing=missing,
        detail={
            "places": len(places),
            "share_within": (Decimal(within) / len(places)).quantize(Decimal("0.0001"))
            if places
            else None,
            "beyond": [f"{name} ({km} km)" for km, name in nearest if km > target_km][:NAMES_SHOWN],
        },
    )


def charging_distances(scene: Scene) -> list[Figure]:
    """二(一)1-2: townships and villages within 10 km; urban core/outer by the year of `on`."""
    townships = scene.plan.coverage_targets_2025.townships
    figures = [
        _distance(
            scene,
            kind,
            key=f"{kind.value}.distance",
            target_km=townships.max_charging_distance_km,
            due=COVERAGE_DUE,
            start=scene.plan.baseline,
        )
        for kind in (PlaceKind.TOWNSHIP_SEAT, PlaceKind.VILLAGE)
    ]
    urban = scene.plan.urban_distance_targets_km
    for kind, by_year in ((PlaceKind.URBAN_CORE, urban.core), (PlaceKind.URBAN_OUTER, urban.outer)):
        year = min(max(scene.on.year, min(by_year)), max(by_year))
        due = date(year, 12, 31)
        figures.append(
            _distance(
                scene,
                kind,
                key=f"{kind.value}.distance.{year}",
                target_km=by_year[year],
                due=due,
                start=scene.step_start(due, date(min(by_year), 12, 31)),
            )
        )
    return figures
