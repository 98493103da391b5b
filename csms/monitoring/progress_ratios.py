"""Progress figures about ratios: chargers per parking space by site category, EVs per pile."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from csms.monitoring.plan import Plan
from csms.monitoring.progress_model import (
    Comparison,
    Figure,
    FigureKind,
    Scene,
    Scope,
    SiteFacts,
    Unit,
)
from csms.monitoring.progress_places import COVERAGE_DUE, names

# 二(一)1, 4, 5: site categories and the ratio target each answers to.
PUBLIC_PARKING_CATEGORIES = ("urban_public_parking", "commercial", "transport_hub")
INTERNAL_CATEGORY = "government_enterprise_internal"


def _ratio_targets(plan: Plan) -> list[tuple[str, Decimal, date]]:
    """(site category, minimum chargers per parking space, due date), 二(一)1, 4, 5."""
    ratios = plan.space_ratio_targets
    out = [
        (category, value, date(year, 12, 31))
        for category in PUBLIC_PARKING_CATEGORIES
        for year, value in sorted(ratios.public_parking_commercial_transport_hubs.items())
    ]
    out += [
        (INTERNAL_CATEGORY, ratios.government_enterprise_internal_min, COVERAGE_DUE),
        ("scenic_4a_plus", ratios.scenic_4a_plus, COVERAGE_DUE),
        ("scenic_a", ratios.scenic_a, COVERAGE_DUE),
        ("scenic_below_a", ratios.scenic_below_a, COVERAGE_DUE),
    ]
    return out


def _charging_spaces(scene: Scene, site: SiteFacts, as_of: date) -> int:
    """Connectors at the site: the caller's count, else its counted piles' (public ones,
    except at internal sites, whose clause 二(一)4 is about the units' own piles)."""
    if site.charging_spaces is not None:
        return site.charging_spaces
    piles = scene.at_site(as_of, site.site_name)
    return sum(p.connectors for p in piles if p.public or site.category == INTERNAL_CATEGORY)


def space_ratios(scene: Scene) -> list[Figure]:
    """Chargers as a share of parking spaces, per site category (all its sites together)."""
    figures = []
    for category, target, due in _ratio_targets(scene.plan):
        as_of = scene.as_of(due)
        sites = [s for s in scene.network.sites if s.category == category]
        known = [s for s in sites if s.parking_spaces]
        unknown = [s.site_name for s in sites if s.parking_spaces is None]
        spaces = sum(s.parking_spaces or 0 for s in known)
        chargers = {s.site_name: _charging_spaces(scene, s, as_of) for s in known}
        below = [
            s.site_name
            for s in known
            if Decimal(chargers[s.site_name]) / (s.parking_spaces or 1) < target
        ]
        figures.append(
            scene.figure(
                key=f"site_category.{category}.space_ratio.{due.year}",
                kind=FigureKind.SPACE_RATIO,
                scope=Scope.SITE_CATEGORY,
                subject=category,
                titles=(
                    f"{due.year}年{category}场所充电桩占车位比例",
                    f"{category.replace('_', ' ')}: chargers per parking space, {due.year}",
                ),
                target=target,
                actual=Decimal(sum(chargers.values())) / spaces if spaces else None,
                unit=Unit.RATIO,
                due=due,
                complete=not unknown,
                missing=None if known else f"no {category} site with its parking spaces",
                detail={
                    "sites": len(sites),
                    "parking_spaces": spaces,
                    "charging_spaces": sum(chargers.values()),
                    "sites_below": names(below),
                    "unknown_parking_spaces": names(unknown),
                },
            )
        )
    return figures


def _evs_figure(
    scene: Scene,
    *,
    key: str,
    scope: Scope,
    subject: str,
    titles: tuple[str, str],
    year: int,
    evs: int | None,
    piles: int,
    lacking: list[str],
) -> Figure:
    target = scene.plan.city_totals[year].evs_per_pile
    assert target is not None
    detail: dict[str, object] = {"evs": evs, "public_piles": piles}
    if lacking:
        detail["counties_without_ev_data"] = lacking
    if evs and not piles:
        detail["no_public_piles"] = True
    return scene.figure(
        key=key,
        kind=FigureKind.EVS_PER_PILE,
        scope=scope,
        subject=subject,
        titles=titles,
        target=target,
        actual=None if evs is None or (evs and not piles) else Decimal(evs) / max(piles, 1),
        unit=Unit.RATIO,
        comparison=Comparison.AT_MOST,
        due=date(year, 12, 31),
        complete=not lacking,
        missing=None if evs is not None else "no EV registrations",
        detail=detail,
    )


def evs_per_pile(scene: Scene) -> list[Figure]:
    """一(一)-(二): at most 7 (2024) and 6 (2025) EVs per public pile, per county and city."""
    evs: Counter[str] = Counter()
    for name, count in scene.network.evs_by_county.items():
        evs[scene.county(name)] += count
    lacking = [c.name for c in scene.plan.counties if c.name not in evs]
    figures = []
    for year, totals in sorted(scene.plan.city_totals.items()):
        if totals.evs_per_pile is None:
            continue
        piles = scene.public(scene.as_of(date(year, 12, 31)))
        for county in scene.plan.counties:
            figures.append(
                _evs_figure(
                    scene,
                    key=f"county.{county.key}.evs_per_pile.{year}",
                    scope=Scope.COUNTY,
                    subject=county.name,
                    titles=(
                        f"{county.name}{year}年每台公共充电桩对应电动汽车数（桩车比）",
                        f"{(county.name_en or county.name)}: EVs per public pile, {year}",
                    ),
                    year=year,
                    evs=evs.get(county.name),
                    piles=sum(1 for p in piles if scene.county(p.county) == county.name),
                    lacking=[],
                )
            )
        figures.append(
            _evs_figure(
                scene,
                key=f"city.evs_per_pile.{year}",
                scope=Scope.CITY,
                subject="city",
                titles=(
                    f"全市{year}年每台公共充电桩对应电动汽车数（桩车比）",
                    f"City: EVs per public pile, {year}",
                ),
                year=year,
                evs=sum(evs.values()) if evs else None,
                piles=len(piles),
                lacking=lacking if evs else [],
            )
        )
    return figures
