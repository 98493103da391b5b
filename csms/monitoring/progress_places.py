"""Progress figures about places: roadside coverage, parking-space shares and charging distance.

A place is served by a public pile at its site (the pile's site_name is the place's name) or,
failing that, by one within SITE_RADIUS_KM of the place's point.
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


def _coverage(
    scene: Scene,
    kind: PlaceKind,
    *,
    key: str,
    figure_kind: FigureKind,
    titles: tuple[str, str],
    target: Decimal,
    due: date,
    share: bool,
    planned: int | None = None,
    fast_only: bool = False,
    radius_km: float | None = None,
) -> Figure:
    """Places of a kind served: a count, or a share of max(registered, planned)."""
    places = scene.places[kind]
    as_of = scene.as_of(due)
    if radius_km is None:
        served = [p for p in places if piles_at(scene, p, as_of, fast_only=fast_only)]
    else:
        index = scene.index(as_of, fast_only=fast_only)
        served = [p for p in places if index.within(p.latitude, p.longitude, radius_km)]
    uncovered = [p.name for p in places if p not in served]
    detail = {"registered": len(places), "served": len(served), "uncovered": names(uncovered)}
    actual: Decimal | int = len(served)
    if share:  # of the registered places, or of the planned number when more are planned
        actual = Decimal(len(served)) / max(len(places), planned or 0, 1)
    if planned is not None:
        detail["planned"] = planned
    return scene.figure(
        key=key,
        kind=figure_kind,
        scope=Scope.PLACE_KIND,
        subject=kind.value,
        titles=titles,
        target=target,
        actual=actual,
        unit=Unit.SHARE if share else Unit.PLACES,
        due=due,
        missing=None if places else f"no {kind.value} places registered",
        detail=detail,
    )


def _space_ratio(
    scene: Scene, kind: PlaceKind, *, key: str, figure_kind: FigureKind, target: Decimal
) -> Figure:
    """The lowest charging-spaces / small-car-spaces ratio among the kind's places."""
    places = scene.places[kind]
    as_of = scene.as_of(COVERAGE_DUE)
    ratios: dict[str, Decimal] = {}
    unknown = []
    for place in places:
        if not place.small_car_spaces:
            unknown.append(place.name)
            continue
        connectors = sum(pile.connectors for pile in piles_at(scene, place, as_of))
        ratios[place.name] = Decimal(connectors) / place.small_car_spaces
    worst = min(ratios.values(), default=None)
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
        actual=worst,
        unit=Unit.RATIO,
        due=COVERAGE_DUE,
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
    """二(二)6 and 附件2: every post and RV camp has a public pile within 50 km."""
    cov = scene.plan.coverage_targets_2025.tourist_road
    if cov is None:
        return []
    dues = [MILESTONE_DUE] if scene.plan.milestones_2024.tourist_road else []
    return [
        _coverage(
            scene,
            kind,
            key=f"{kind.value}.covered.{due.year}",
            figure_kind=FigureKind.TOURIST_ROAD_COVERED,
            titles=(
                f"{due.year}年{_KIND_ZH[kind]}{cov.max_charging_distance_km}公里内有公共充电桩的比例",
                f"{_KIND_EN[kind]}s with a public pile within "
                f"{cov.max_charging_distance_km} km, {due.year}",
            ),
            target=Decimal(1),
            due=due,
            share=True,
            radius_km=float(cov.max_charging_distance_km),
        )
        for kind in (PlaceKind.TOURIST_ROAD_POST, PlaceKind.RV_CAMP)
        for due in (*dues, COVERAGE_DUE)
    ]


def _distance(scene: Scene, kind: PlaceKind, *, key: str, target_km: Decimal, due: date) -> Figure:
    """The worst distance from a place of the kind to its nearest public pile."""
    places = scene.places[kind]
    index = scene.index(scene.as_of(due))
    nearest = []
    for place in places:
        hit = index.nearest(place.latitude, place.longitude)
        if hit is not None:
            km = Decimal(hit[0]).quantize(Decimal("0.001"), rounding=ROUND_CEILING)
            nearest.append((km, place.name))
    nearest.sort(reverse=True)
    within = sum(1 for km, _ in nearest if km <= target_km)
    missing = None
    if not places:
        missing = f"no {kind.value} places registered"
    elif not len(index):
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
        )
        for kind in (PlaceKind.TOWNSHIP_SEAT, PlaceKind.VILLAGE)
    ]
    urban = scene.plan.urban_distance_targets_km
    for kind, by_year in ((PlaceKind.URBAN_CORE, urban.core), (PlaceKind.URBAN_OUTER, urban.outer)):
        year = min(max(scene.on.year, min(by_year)), max(by_year))
        figures.append(
            _distance(
                scene,
                kind,
                key=f"{kind.value}.distance.{year}",
                target_km=by_year[year],
                due=date(year, 12, 31),
            )
        )
    return figures
