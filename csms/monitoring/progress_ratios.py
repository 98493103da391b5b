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
# The plan's own words for each category, for the Chinese title (二(一)1, 4, 5).
_CATEGORY_ZH = {
    "urban_public_parking": "公共停车场",
    "commercial": "商业区停车场",
    "transport_hub": "交通枢纽",
    INTERNAL_CATEGORY: "党政机关、企事业单位",
    "scenic_4a_plus": "国家4A级以上景区、省级以上旅游度假区",
    "scenic_a": "其他A级景区",
    "scenic_below_a": "A级（不含）以下景区",
}


def _ratio_targets(plan: Plan) -> list[tuple[str, Decimal, date, date]]:
    """(site category, minimum chargers per parking space, due date, the category's first
    due date), 二(一)1, 4, 5."""
    ratios = plan.space_ratio_targets
    by_year = ratios.public_parking_commercial_transport_hubs
    first = date(min(by_year), 12, 31)
    out = [
        (category, value, date(year, 12, 31), first)
        for category in PUBLIC_PARKING_CATEGORIES
        for year, value in sorted(by_year.items())
    ]
    out += [
        (category, value, COVERAGE_DUE, COVERAGE_DUE)
        for category, value in (
            (INTERNAL_CATEGORY, ratios.government_enterprise_internal_min),
            ("scenic_4a_plus", ratios.scenic_4a_plus),
            ("scenic_a", ratios.scenic_a),
            ("scenic_below_a", ratios.scenic_below_a),
        )
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
    for category, target, due, first_due in _ratio_targets(scene.plan):
        start = scene.step_start(due, first_due)
        sites = [s for s in scene.network.sites if s.category == category]
        known = [s for s in sites if s.parking_spaces]
        unknown = [s.site_name for s in sites if s.parking_spaces is None]
        spaces = sum(s.parking_spaces or 0 for s in known)
        chargers = {s.site_name: _charging_spaces(scene, s, scene.as_of(due)) for s in known}
        before = sum(_charging_spaces(scene, s, scene.before(start)) for s in known)
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
                    f"{due.year}年{_CATEGORY_ZH.get(category, category)}充电桩安装比例（占车位）",
                    f"{category.replace('_', ' ')}: chargers per parking space, {due.year}",
                ),
                target=target,
                actual=Decimal(sum(chargers.values())) / spaces if spaces else None,
                unit=Unit.RATIO,
                due=due,
                start=start,
                start_value=Decimal(before) / spaces if spaces else None,
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


def _per_pile(evs: int | None, piles: int) -> Decimal | None:
    """EVs per public pile; None without EV data, or with EVs and no pile to divide by."""
    if evs is None or (evs and not piles):
        return None
    return Decimal(evs) / max(piles, 1)


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
    start: date,
    start_value: Decimal | None,
    lacking: list[str],
) -> Figure:
    target = scene.plan.city_totals[year].evs_per_pile
    assert target is not None
    due = date(year, 12, 31)
    detail: dict[str, object] = {
        "evs": evs,
        "public_piles": piles,
        "evs_as_of": scene.as_of(due),  # a year-end target takes the registrations then
    }
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
        actual=_per_pile(evs, piles),
        unit=Unit.RATIO,
        comparison=Comparison.AT_MOST,
        due=due,
        start=start,
        start_value=start_value,
        complete=not lacking,
        missing=None if evs is not None else "no EV registrations",
        detail=detail,
    )


def _county_piles(scene: Scene, as_of: date) -> Counter[str]:
    return Counter(scene.county(p.county) for p in scene.public(as_of))


def evs_per_pile(scene: Scene) -> list[Figure]:
    """一(一)-(二): at most 7 (2024) and 6 (2025) EVs per public pile, per county and city,
    with the EVs registered and the piles counted at that year end (or `on`, before it)."""
    years = sorted(y for y, totals in scene.plan.city_totals.items() if totals.evs_per_pile)
    figures = []
    for year in years:
        due = date(year, 12, 31)
        start = scene.step_start(due, date(years[0], 12, 31))
        evs, evs_then = scene.evs_on(scene.as_of(due)), scene.evs_on(scene.before(start))
        piles = _county_piles(scene, scene.as_of(due))
        piles_then = _county_piles(scene, scene.before(start))
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
                    piles=piles[county.name],
                    start=start,
                    start_value=_per_pile(evs_then.get(county.name), piles_then[county.name]),
                    lacking=[],
                )
            )
        lacking = [c.name for c in scene.plan.counties if c.name not in evs]
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
                piles=piles.total(),
                start=start,
                start_value=_per_pile(
                    sum(evs_then.values()) if evs_then else None, piles_then.total()
                ),
                lacking=lacking if evs else [],
            )
        )
    return figures
