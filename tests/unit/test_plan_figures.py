"""The plan's figures that a hand check found wrong (issue 17), each worked out by hand here.

Every expected value below is computed in the comment beside it from the plan's text
(/work/shared/plan/shuozhou-action-plan-2024-2025.zh.txt) and a small network.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from csms.monitoring.plan import county_names, default_plan
from csms.monitoring.progress import (
    EvCount,
    Figure,
    Network,
    Pile,
    Place,
    PlaceKind,
    SiteFacts,
    Status,
    progress,
)

PLAN = default_plan()
HOME = (39.33, 112.43)  # Shuozhou
KM_PER_DEGREE = 111.19508  # along a meridian, on the engine's earth (R = 6371.0088 km)
MET, ON_TRACK, BEHIND = Status.MET, Status.ON_TRACK, Status.BEHIND


def north(km: float) -> tuple[float, float]:
    return (HOME[0] + km / KM_PER_DEGREE, HOME[1])


def pile(
    n: int | str,
    county: str = "朔城区",
    *,
    on: date | None = None,
    site: str | None = None,
    township: str | None = None,
    at: tuple[float, float] = HOME,
    public: bool = True,
    connectors: int = 1,
    lockouts: tuple[tuple[date, date | None], ...] = (),
    decommissioned_on: date | None = None,
) -> Pile:
    return Pile(
        station_id=f"CP{n}",
        county=county,
        township=township,
        village=None,
        site_name=site,
        site_category=None,
        latitude=at[0],
        longitude=at[1],
        public=public,
        fast=False,
        connectors=connectors,
        commissioned_on=on,
        decommissioned_on=decommissioned_on,
        lockouts=lockouts,
    )


def many(count: int, start: int = 0, **kw: Any) -> list[Pile]:
    return [pile(start + i, **kw) for i in range(count)]


def place(kind: PlaceKind, name: str, at: tuple[float, float] = HOME, **kw: Any) -> Place:
    return Place(kind, name, kw.pop("county", "朔城区"), kw.pop("township", None), *at, **kw)


def run(on: date, piles: list[Pile] = [], **network: Any) -> dict[str, Figure]:  # noqa: B006
    return {f.key: f for f in progress(PLAN, Network(piles=piles, **network), on)}


# ---- 附件1: new piles per calendar year ------------------------------------------------------

# One pile commissioned on each of these days in 朔城区, judged on 2026-03-01 (all windows
# past). 附件1's "2024年" column is the calendar year 2024, whatever day the plan was issued
# (2024-06-09): 2024-03-15 is a 2024 pile.
DAYS = [
    date(2023, 12, 31),  # the end-2023 base, not new
    date(2024, 1, 1),  # 2024
    date(2024, 3, 15),  # 2024: the pile the issue found counted nowhere
    date(2024, 6, 8),  # 2024 (the day before the plan's issue date)
    date(2024, 6, 9),  # 2024
    date(2024, 12, 31),  # 2024
    date(2025, 1, 1),  # 2025
    date(2025, 12, 31),  # 2025
    date(2026, 1, 1),  # after the plan: new in no column
]


@pytest.mark.parametrize(
    ("key", "actual", "target"),
    [
        ("county.Shuocheng.new_piles.2024", 5, 386),  # 1 Jan, 15 Mar, 8 Jun, 9 Jun, 31 Dec
        ("county.Shuocheng.new_piles.2025", 2, 555),  # 1 Jan, 31 Dec
        ("county.Shuocheng.new_piles.total", 7, 941),  # 5 + 2, against 386 + 555
        ("city.new_piles.2024", 5, 1076),
        ("city.new_piles.2025", 2, 1552),
        ("city.total_piles.2024", 6, 2665),  # the base pile + the 5 of 2024
        ("city.total_piles.2025", 8, 4217),  # + the 2 of 2025 (the 2026 one is later)
    ],
)
def test_new_piles_count_calendar_years(key: str, actual: int, target: int) -> None:
    figure = run(date(2026, 3, 1), [pile(i, on=day) for i, day in enumerate(DAYS)])[key]
    assert (figure.actual, figure.target, figure.status) == (Decimal(actual), target, BEHIND)


def test_the_end_2023_base_is_the_plans_2665_less_1076() -> None:
    figures = run(date(2026, 3, 1), [pile(i, on=day) for i, day in enumerate(DAYS)])
    total_2024 = figures["city.total_piles.2024"].detail
    assert (total_2024["plan_start"], total_2024["at_start"]) == (1589, 1)  # 2665 - 1076
    total_2025 = figures["city.total_piles.2025"].detail
    assert (total_2025["plan_start"], total_2025["at_start"]) == (2665, 6)  # 4217 - 1552


@pytest.mark.parametrize(
    ("new", "status"),
    [
        # 2024-07-01 is day 182 of 2024's 365-day window (31+29+31+30+31+30 days from 1 Jan
        # to 1 Jul; 1 Jan to 31 Dec is 365 in a leap year): the line is 386 x 182/365 = 192.47
        (193, ON_TRACK),
        (192, BEHIND),
    ],
)
def test_county_line_runs_over_the_calendar_year(new: int, status: Status) -> None:
    figure = run(date(2024, 7, 1), many(new, on=date(2024, 2, 1)))[
        "county.Shuocheng.new_piles.2024"
    ]
    assert figure.status is status
    assert figure.detail["line"]["expected_now"] == Decimal("192.48")  # 192.4712, rounded up


@pytest.mark.parametrize(
    ("new", "status"),
    [
        # 1589 piles at the end of 2023; on 2024-07-01 the total's line is
        # 1589 + (2665 - 1589) x 182/365 = 1589 + 536.5 = 2125.5
        (537, ON_TRACK),  # 2126
        (536, BEHIND),  # 2125
    ],
)
def test_city_total_line_starts_from_the_end_of_2023(new: int, status: Status) -> None:
    piles = many(1589, on=date(2023, 5, 1)) + many(new, 5000, on=date(2024, 3, 15))
    figure = run(date(2024, 7, 1), piles)["city.total_piles.2024"]
    assert (figure.actual, figure.status) == (1589 + new, status)


# ---- 一(二), 二(一)1: counties covered, and the per-county average ----------------------------


def _spread(per_county: dict[str, tuple[int, int]]) -> list[Pile]:
    """(sites, piles per site) in each county named."""
    return [
        pile(f"{county}-{s}-{i}", county, site=f"{county}站{s}")
        for county, (sites, per_site) in per_county.items()
        for s in range(sites)
        for i in range(per_site)
    ]


ALL = county_names(PLAN)


@pytest.mark.parametrize(
    ("piles", "covered", "avg_sites", "avg_piles", "ying_sites", "statuses"),
    [
        # 18 sites of 15 piles, all in 朔城区: on average 18/6 = 3 sites and 270/6 = 45 piles
        # per county (the plan's average, met), but only 1 of the 6 counties has a station
        (_spread({"朔城区": (18, 15)}), 1, Decimal(3), Decimal(45), 0, (BEHIND, MET, MET)),
        # one site of 1 pile in every county: all 6 covered; 1 site and 1 pile on average
        (_spread({c: (1, 1) for c in ALL}), 6, Decimal(1), Decimal(1), 1, (MET, BEHIND, BEHIND)),
        # a public pile without a site name is still at a public station: 应县 is covered
        ([pile("x", "应县")], 1, Decimal(0), Decimal("0.16"), 0, (BEHIND, BEHIND, BEHIND)),
        # a private pile is no public station
        ([pile("x", "应县", site="S", public=False)], 0, Decimal(0), Decimal(0), 0,
         (BEHIND, BEHIND, BEHIND)),
        # 17 sites of 16 piles: 17/6 = 2.833 sites (shown 2.83, rounded down), 272/6 = 45.33
        (_spread({"朔城区": (17, 16)}), 1, Decimal("2.83"), Decimal("45.33"), 0,
         (BEHIND, BEHIND, MET)),
    ],
)  # fmt: skip
def test_counties_covered_and_the_average_per_county(
    piles: list[Pile],
    covered: int,
    avg_sites: Decimal,
    avg_piles: Decimal,
    ying_sites: int,
    statuses: tuple[Status, Status, Status],
) -> None:
    figures = run(date(2026, 1, 5), piles)  # after the 2025 year end: met or behind
    coverage = figures["city.counties_covered"]
    sites, per_county = figures["city.stations_per_county"], figures["city.piles_per_county"]
    assert (coverage.actual, coverage.target) == (covered, 6)
    assert (sites.actual, sites.target) == (avg_sites, 3)
    assert (per_county.actual, per_county.target) == (avg_piles, 45)
    assert (coverage.status, sites.status, per_county.status) == statuses
    # each county's own figures, beside the average
    assert figures["county.Ying.stations"].actual == ying_sites
    assert sites.detail["by_county"]["应县"] == ying_sites


# ---- 二(一)2: a public pile in each township, and 5 at each seat ------------------------------


@pytest.mark.parametrize(
    ("piles_per_township", "covered", "with_five"),
    [
        ({t: 1 for t in range(69)}, 69, 0),  # one pile in each: all 69 covered, none has 5
        ({t: 5 for t in range(10)}, 10, 10),  # five in each of 10: 10 covered, 10 with 5
        ({0: 4, 1: 6}, 2, 1),
        ({}, 0, 0),
    ],
)
def test_township_coverage_beside_five_at_each_seat(
    piles_per_township: dict[int, int], covered: int, with_five: int
) -> None:
    seats = [place(PlaceKind.TOWNSHIP_SEAT, f"T{t}镇") for t in range(69)]
    piles = [
        pile(f"{t}-{i}", township=f"T{t}镇")
        for t, count in piles_per_township.items()
        for i in range(count)
    ]
    piles.append(pile("private", township="T68镇", public=False))  # covers nothing
    figures = run(date(2026, 1, 5), piles, places=seats)
    coverage, five = figures["township.covered"], figures["township_seat.min_piles"]
    assert (coverage.actual, coverage.target) == (covered, 69)
    assert (five.actual, five.target) == (with_five, 69)
    assert coverage.status is (MET if covered == 69 else BEHIND)


# ---- 一(一)-(二): EVs per pile at a year end take that year end's registrations ---------------


@pytest.mark.parametrize(
    ("counts", "key", "actual", "status"),
    [
        # queried on 2025-06-30: the 2024 figure takes the count as of 2024-12-31 (70 EVs on
        # 10 piles = 7, the 1:7 target: met), not June 2025's 90 (9 per pile, behind)
        ([("2024-12-31", 70), ("2025-06-30", 90)], "county.Shuocheng.evs_per_pile.2024",
         Decimal(7), MET),
        # the 2025 figure takes June 2025's: 90 / 10 = 9; its line runs from 7 on 2024-12-31
        # to 6 on 2025-12-31: on 2025-06-30 (day 180 of 364) 7 - 1 x 180/364 = 6.5055
        ([("2024-12-31", 70), ("2025-06-30", 90)], "county.Shuocheng.evs_per_pile.2025",
         Decimal(9), BEHIND),
        ([("2024-12-31", 70), ("2025-06-30", 65)], "county.Shuocheng.evs_per_pile.2025",
         Decimal("6.5"), ON_TRACK),  # 6.5 <= 6.5055
        ([("2024-12-31", 70), ("2025-06-30", 66)], "county.Shuocheng.evs_per_pile.2025",
         Decimal("6.6"), BEHIND),  # 6.6 > 6.5055
        # a count dated after the year end does not say what it was then: missing
        ([("2025-01-15", 70)], "county.Shuocheng.evs_per_pile.2024", None, BEHIND),
        # the latest count on or before the year end
        ([("2024-06-30", 50), ("2024-11-30", 60), ("2025-03-31", 200)],
         "county.Shuocheng.evs_per_pile.2024", Decimal(6), MET),
    ],
)  # fmt: skip
def test_evs_per_pile_at_a_year_end(
    counts: list[tuple[str, int]], key: str, actual: Decimal | None, status: Status
) -> None:
    evs = [EvCount("朔城区", date.fromisoformat(day), n) for day, n in counts]
    figure = run(date(2025, 6, 30), many(10), ev_counts=evs)[key]
    assert (figure.actual, figure.status) == (actual, status)


def test_evs_as_of_is_shown() -> None:
    evs = [EvCount("Shuocheng District", date(2024, 12, 31), 70)]
    figures = run(date(2025, 6, 30), many(10), ev_counts=evs)
    assert figures["county.Shuocheng.evs_per_pile.2024"].detail["evs_as_of"] == date(2024, 12, 31)
    assert figures["county.Shuocheng.evs_per_pile.2025"].detail["evs_as_of"] == date(2025, 6, 30)


# ---- 二(二)6: Great Wall No.1 posts and RV camps, covered at the site; 50 km its own figure --


@pytest.mark.parametrize(
    ("km", "site", "covered", "distance"),
    [
        (0.8, None, MET, MET),  # within 1 km (as for parking areas): covered; 0.8 km <= 50
        (40, None, BEHIND, MET),  # 40 km away: not at the post, but within 50 km
        (60, None, BEHIND, BEHIND),  # neither
        (30, "杀虎口驿站", MET, MET),  # named after the post: at its site wherever its point
    ],
)
def test_tourist_road_posts_are_covered_at_the_site(
    km: float, site: str | None, covered: Status, distance: Status
) -> None:
    post = place(PlaceKind.TOURIST_ROAD_POST, "杀虎口驿站")
    figures = run(date(2026, 1, 5), [pile(1, at=north(km), site=site)], places=[post])
    for year in (2024, 2025):  # 附件2: all posts and camps at both year ends
        assert figures[f"tourist_road_post.covered.{year}"].status is covered
    assert figures["tourist_road_post.distance"].status is distance
    assert figures["tourist_road_post.distance"].target == 50
    assert figures["rv_camp.distance"].detail["missing"] == "no rv_camp places registered"


# ---- the status rule: on track means at or ahead of the line ----------------------------------


@pytest.mark.parametrize(
    ("new_km", "status"),
    [
        # A township 17.75 km from its nearest pile since before the plan (2024-06-09), target
        # 10 km by 2025-12-31 (570 days). On 2025-06-01 (day 357) the line is at
        # 17.75 - (17.75 - 10) x 357/570 = 17.75 - 4.854 = 12.896 km.
        (None, BEHIND),  # still 17.75 km: not on track just because the due date is ahead
        (12.5, ON_TRACK),  # a pile 12.5 km away: ahead of the line
        (13.5, BEHIND),  # 13.5 km: closer than before, behind the line
        (9, MET),
    ],
)
def test_a_distance_is_on_track_only_ahead_of_the_line(
    new_km: float | None, status: Status
) -> None:
    seat = place(PlaceKind.TOWNSHIP_SEAT, "A镇")
    piles = [pile("old", at=north(17.75))]
    if new_km is not None:
        piles.append(pile("new", at=north(new_km), on=date(2025, 1, 1)))
    figure = run(date(2025, 6, 1), piles, places=[seat])["township_seat.distance"]
    assert figure.status is status
    if status is not MET:
        assert figure.detail["line"]["expected_now"] == Decimal("12.896")  # 12.8964..., down


@pytest.mark.parametrize(
    ("connectors", "status"),
    [
        # 二(一)1: commercial sites, 15% of spaces by the end of 2024. 10 connectors on 100
        # spaces (0.10) since before the plan; on 2024-10-01 (day 114 of the 205 from the
        # baseline) the line is 0.10 + 0.05 x 114/205 = 0.1278
        (10, BEHIND),  # 0.10 has not moved
        (13, ON_TRACK),  # 0.13 >= 0.1278
        (12, BEHIND),  # 0.12 < 0.1278
    ],
)
def test_a_ratio_is_on_track_only_ahead_of_the_line(connectors: int, status: Status) -> None:
    piles = [pile("old", site="A", connectors=10)]
    if connectors > 10:
        piles.append(pile("new", site="A", connectors=connectors - 10, on=date(2024, 8, 1)))
    sites = [SiteFacts("A", "commercial", 100)]
    figure = run(date(2024, 10, 1), piles, sites=sites)["site_category.commercial.space_ratio.2024"]
    assert figure.status is status


def test_no_reading_at_the_start_means_no_line_to_be_on() -> None:
    # no public pile at all before the plan: the distance had no value then
    seat = place(PlaceKind.TOWNSHIP_SEAT, "A镇")
    figure = run(date(2025, 6, 1), [pile(1, at=north(12), on=date(2024, 7, 1))], places=[seat])[
        "township_seat.distance"
    ]
    assert figure.status is BEHIND and figure.detail["line"]["start_value"] is None


# ---- counting as of a date ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "counted"),
    [
        # a: locked 2025-09-10, never lifted; b: locked 2025-03-01, lifted 2025-04-01;
        # c: locked and lifted on 2025-05-05 (in service at that day's end);
        # d: decommissioned 2025-08-01; e: commissioned 2025-09-01
        (date(2025, 3, 15), {"a", "c", "d"}),
        (date(2025, 4, 1), {"a", "b", "c", "d"}),
        (date(2025, 6, 30), {"a", "b", "c", "d"}),
        (date(2025, 9, 10), {"b", "c", "e"}),
    ],
)
def test_piles_count_as_of_their_date(on: date, counted: set[str]) -> None:
    piles = {
        "a": pile("a", lockouts=((date(2025, 9, 10), None),)),
        "b": pile("b", lockouts=((date(2025, 3, 1), date(2025, 4, 1)),)),
        "c": pile("c", lockouts=((date(2025, 5, 5), date(2025, 5, 5)),)),
        "d": pile("d", decommissioned_on=date(2025, 8, 1)),
        "e": pile("e", on=date(2025, 9, 1)),
    }
    assert {name for name, p in piles.items() if p.counts_on(on)} == counted
    figure = run(on, list(piles.values()))["county.Shuocheng.piles"]
    assert figure.actual == len(counted)


def test_chinese_titles_carry_no_english_keys() -> None:
    # 二(一)1, 4, 5 name the site categories in Chinese: "2024年urban_public_parking..." is not
    titles = [f.title_zh for f in progress(PLAN, Network(), date(2025, 6, 30))]
    assert "2024年公共停车场充电桩安装比例（占车位）" in titles
    assert [t for t in titles if re.search(r"[A-Za-z_]{2,}", t)] == []
