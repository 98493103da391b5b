"""The plan reader and the pure progress engine, on the shipped plan and small networks."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from csms.errors import InvalidInput
from csms.monitoring.plan import (
    PlanError,
    canonical_county,
    county_names,
    default_plan,
    default_plan_document,
    plan_from,
)
from csms.monitoring.progress import (
    Comparison,
    Figure,
    Network,
    Pile,
    Place,
    PlaceKind,
    SiteFacts,
    Status,
    figure_json,
    judge,
    progress,
)

SHARED_PLAN = Path("/work/shared/plan/shuozhou-2024-2025.targets.json")
PLAN = default_plan()
BASELINE = date(2024, 6, 9)
END_2024, END_2025 = date(2024, 12, 31), date(2025, 12, 31)
HOME = (39.33, 112.43)  # Shuozhou
MET, ON_TRACK, BEHIND = Status.MET, Status.ON_TRACK, Status.BEHIND


def north(km: float, of: tuple[float, float] = HOME) -> tuple[float, float]:
    return (of[0] + km / 111.19508, of[1])


def pile(
    n: int | str,
    county: str | None = "朔城区",
    *,
    township: str | None = None,
    village: str | None = None,
    site: str | None = None,
    category: str | None = None,
    at: tuple[float, float] | None = HOME,
    public: bool = True,
    fast: bool = False,
    connectors: int = 1,
    on: date | None = None,
    locked: bool = False,
) -> Pile:
    lat, lon = at if at is not None else (None, None)
    return Pile(
        f"CP{n}", county, township, village, site, category, lat, lon, public, fast, connectors,
        on, locked,
    )  # fmt: skip


def place(
    kind: PlaceKind,
    name: str,
    at: tuple[float, float] = HOME,
    *,
    county: str = "朔城区",
    township: str | None = None,
    spaces: int | None = None,
) -> Place:
    return Place(kind, name, county, township, at[0], at[1], spaces)


def run(on: date, piles: list[Pile] = [], **network: Any) -> dict[str, Figure]:  # noqa: B006
    figures = progress(PLAN, Network(piles=piles, **network), on)
    return {figure.key: figure for figure in figures}


# ---- the plan document ---------------------------------------------------------------------


def test_shipped_plan_reads_the_action_plan() -> None:
    assert PLAN.baseline == BASELINE
    assert PLAN.timezone == "Asia/Shanghai"
    assert county_names(PLAN) == ("朔城区", "平鲁区", "怀仁市", "山阴县", "应县", "右玉县")
    assert [c.key for c in PLAN.counties] == [
        "Shuocheng", "Pinglu", "Huairen", "Shanyin", "Ying", "Youyu"
    ]  # fmt: skip
    # 附件1: the counties' yearly figures add up to the city's
    for year in (2024, 2025):
        total = sum(c.new_public_piles[year] for c in PLAN.counties)
        assert total == PLAN.city_totals[year].new_public_piles
    assert PLAN.city_totals[2024].evs_per_pile == 7
    assert PLAN.city_totals[2025].evs_per_pile == 6
    assert PLAN.coverage_targets_2025.townships.count == 69
    assert PLAN.coverage_targets_2025.highway_service_areas.min_share_of_small_car_spaces == (
        Decimal("0.15")
    )
    assert PLAN.milestones_2024.highway_service_area_fast_charger_coverage == Decimal("0.8")
    assert PLAN.urban_distance_targets_km.core == {2024: 3, 2025: 1}
    assert PLAN.space_ratio_targets.public_parking_commercial_transport_hubs[2025] == Decimal(
        "0.25"
    )
    assert PLAN.monthly_report_due_day == 5


def test_packaged_plan_is_the_shared_one() -> None:
    if not SHARED_PLAN.exists():
        pytest.skip("the shared plan folder is not on this machine")
    assert default_plan_document() == json.loads(SHARED_PLAN.read_text("utf-8"))


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("朔城区", "朔城区"),
        ("Shuocheng District", "朔城区"),
        ("shuocheng district", "朔城区"),
        ("Shuocheng", "朔城区"),
        ("应 县", "应县"),
        ("Ying County", "应县"),
        ("Youyu", "右玉县"),
        ("大同市", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_county(name: str | None, canonical: str | None) -> None:
    assert canonical_county(PLAN, name) == canonical


def broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(default_plan_document())
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("counties"), "counties: missing"),
        (lambda d: d.pop("plan"), "plan: missing"),
        (lambda d: d.update(document="朔政办发〔2024〕8号"), "document: must name the issue date"),
        (lambda d: d.update(document="issued 2024-13-40"), "is not a date"),
        (lambda d: d["counties"][0]["new_public_piles"].update({"2024": -1}), "not be negative"),
        (lambda d: d["counties"][1]["new_public_piles"].update({"2025": "144"}), "whole number"),
        (lambda d: d["counties"][2].update(name=7), "counties[2].name"),
        (lambda d: d["counties"].append(dict(d["counties"][0])), "listed twice"),
        (lambda d: d["city_totals"]["2024"].update(pile_to_ev_ratio="7:1"), '"1:N"'),
        (lambda d: d["city_totals"]["2025"].pop("total_public_piles"), "total_public_piles"),
        (
            lambda d: d["milestones_2024"].update(highway_service_area_fast_charger_coverage=80),
            "at most 1",
        ),
        (lambda d: d["space_ratio_targets"].update(scenic_below_A=-0.1), "scenic_below_A"),
        (lambda d: d["urban_distance_targets_km"].update(core={"24": 3}), "four digits"),
        (
            lambda d: d["coverage_targets_2025"].pop("highway_service_areas"),
            "highway_service_areas",
        ),
        (
            lambda d: d["coverage_targets_2025"]["highway_service_areas"].update(
                fast_chargers="yes"
            ),
            "true or false",
        ),
        (lambda d: d.update(counties=[]), "non-empty list"),
        (lambda d: d.update(reporting={"monthly_report_due_day": 31}), "1..28"),
    ],
)
def test_broken_plans_are_refused_with_the_problem(change: Any, problem: str) -> None:
    with pytest.raises(PlanError) as raised:
        plan_from(broken(change))
    assert problem in str(raised.value)


def test_every_problem_is_listed_at_once() -> None:
    def change(d: dict[str, Any]) -> None:
        d.pop("plan")
        d["counties"][0]["new_public_piles"]["2024"] = -3
        d["coverage_targets_2025"]["townships_with_public_piles"]["count"] = "69"

    with pytest.raises(ValueError) as raised:
        plan_from(broken(change))
    error = raised.value
    assert isinstance(error, PlanError) and isinstance(error, InvalidInput)
    assert len(error.problems) == 3
    assert "coverage_targets_2025.townships_with_public_piles.count" in str(error)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(PlanError):
        plan_from([])  # type: ignore[arg-type]


def test_unknown_keys_are_kept_and_tourist_road_is_optional() -> None:
    def change(d: dict[str, Any]) -> None:
        d["bus_depots"] = {"2025": 4}
        d["coverage_targets_2025"].pop("great_wall_no1_tourist_road")
        d["milestones_2024"].pop("great_wall_no1_tourist_road")
        d["baseline"] = "2024-07-01"

    plan = plan_from(broken(change))
    assert plan.extras == {"bus_depots": {"2025": 4}}
    assert plan.coverage_targets_2025.tourist_road is None
    assert plan.baseline == date(2024, 7, 1)
    keys = [f.key for f in progress(plan, Network(), date(2025, 1, 1))]
    assert not any(key.startswith(("tourist_road_post", "rv_camp")) for key in keys)


# ---- the status rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comparison", "target", "actual", "on", "start_value", "missing", "status"),
    [
        (Comparison.AT_LEAST, 100, 100, date(2024, 7, 1), 0, False, MET),
        (Comparison.AT_LEAST, 100, 100, date(2026, 7, 1), 0, False, MET),
        (Comparison.AT_LEAST, 100, 100, date(2024, 7, 1), 0, True, BEHIND),  # missing
        # 2024-07-01 is day 182 of 2024-01-01 .. 2024-12-31 (365 days): the line is 49.9
        (Comparison.AT_LEAST, 100, 50, date(2024, 7, 1), 0, False, ON_TRACK),
        (Comparison.AT_LEAST, 100, 49, date(2024, 7, 1), 0, False, BEHIND),
        # from 20: the line is 20 + 80 x 182/365 = 59.9
        (Comparison.AT_LEAST, 100, 59, date(2024, 7, 1), 20, False, BEHIND),
        (Comparison.AT_LEAST, 100, 99, date(2024, 12, 31), 0, False, BEHIND),  # due today
        (Comparison.AT_LEAST, 100, 0, date(2023, 12, 1), 0, False, ON_TRACK),  # not begun
        (Comparison.AT_MOST, 10, 10, date(2024, 7, 1), 12, False, MET),
        # a distance from 12 towards 10: the line is 12 - 2 x 182/365 = 11.003
        (Comparison.AT_MOST, 10, 11, date(2024, 7, 1), 12, False, ON_TRACK),
        (Comparison.AT_MOST, 10, 11, date(2024, 7, 1), 11, False, BEHIND),  # has not moved
        (Comparison.AT_MOST, 10, 11, date(2024, 7, 1), None, False, BEHIND),  # no start
        (Comparison.AT_MOST, 10, 11, date(2025, 1, 1), 12, False, BEHIND),
        (Comparison.AT_LEAST, 1, 0, date(2024, 12, 30), 0, False, BEHIND),  # a ratio, stuck
    ],
)
def test_judge(
    comparison: Comparison,
    target: int,
    actual: int,
    on: date,
    start_value: int | None,
    missing: bool,
    status: Status,
) -> None:
    assert (
        judge(
            comparison=comparison,
            target=Decimal(target),
            actual=Decimal(actual),
            on=on,
            due=END_2024,
            start=date(2024, 1, 1),
            start_value=None if start_value is None else Decimal(start_value),
            missing=missing,
        )
        is status
    )


def test_incomplete_inputs_are_never_met() -> None:
    args: dict[str, Any] = dict(comparison=Comparison.AT_LEAST, target=Decimal(1))
    args |= dict(actual=Decimal(2), due=END_2024, start=BASELINE)
    assert judge(on=date(2024, 7, 1), complete=False, **args) is ON_TRACK
    assert judge(on=date(2025, 7, 1), complete=False, **args) is BEHIND


# ---- every target kind ----------------------------------------------------------------------


def many(count: int, start: int = 0, **kw: Any) -> list[Pile]:
    return [pile(start + i, **kw) for i in range(count)]


@pytest.mark.parametrize(
    ("piles", "on", "status", "actual"),
    [
        (many(386, on=date(2024, 7, 1)), END_2024, MET, 386),
        # 附件1's 2024 column is the calendar year: 2024-09-01 is day 244 of its 365, the
        # line is 386 x 244/365 = 258.04
        (many(259, on=date(2024, 7, 1)), date(2024, 9, 1), ON_TRACK, 259),
        (many(258, on=date(2024, 7, 1)), date(2024, 9, 1), BEHIND, 258),
        # past the due date the 2024 figure keeps its 2024 count
        (many(385, on=date(2024, 7, 1)) + many(9, 500, on=date(2025, 1, 2)), date(2025, 2, 1),
         BEHIND, 385),
        # not new, not public, locked, not yet commissioned, another county: none count;
        # 2024-06-08 (before the plan's issue date) is in 2024: those 100 do
        (many(100) + many(100, 100, on=date(2024, 6, 8)) + many(100, 200, public=False,
         on=date(2024, 7, 1)) + many(100, 300, locked=True, on=date(2024, 7, 1))
         + many(100, 400, on=date(2024, 11, 1)) + many(100, 500, county="应县",
         on=date(2024, 7, 1)), date(2024, 10, 1), BEHIND, 100),
        # the county may be given in English; shared piles are public
        (many(386, county="Shuocheng District", on=date(2024, 7, 1)), END_2024, MET, 386),
    ],
)  # fmt: skip
def test_new_piles_per_county_and_year(
    piles: list[Pile], on: date, status: Status, actual: int
) -> None:
    figure = run(on, piles)["county.Shuocheng.new_piles.2024"]
    assert (figure.status, figure.actual, figure.target) == (status, Decimal(actual), Decimal(386))
    assert figure.gap == max(0, 386 - actual)


def test_new_piles_2025_counts_within_2025_and_in_total() -> None:
    piles = many(400, on=date(2024, 8, 1)) + many(541, 1000, on=date(2025, 3, 1))
    figures = run(date(2025, 4, 1), piles)
    in_2025 = figures["county.Shuocheng.new_piles.2025"]
    assert in_2025.actual == 541 and in_2025.status is ON_TRACK  # 541 >= 555 x 90/364
    total = figures["county.Shuocheng.new_piles.total"]
    assert (total.actual, total.target, total.status) == (Decimal(941), Decimal(941), MET)
    assert figures["county.Shuocheng.new_piles.2024"].status is MET
    # before 2025 begins, its window has not started
    assert run(date(2024, 10, 1), [])["county.Shuocheng.new_piles.2025"].status is ON_TRACK
    assert run(date(2026, 1, 5), piles)["county.Shuocheng.new_piles.2025"].status is BEHIND


def test_city_totals_start_from_the_piles_at_the_end_of_the_year_before() -> None:
    existing = many(2000, on=None) + many(100, 2000, county=None, on=date(2023, 6, 1))
    on = date(2024, 9, 1)  # day 244 of 365: the line is 2100 + 565 x 244/365 = 2477.7
    figures = run(on, existing + many(378, 5000, on=date(2024, 7, 1)))
    total = figures["city.total_piles.2024"]
    assert (total.actual, total.status) == (Decimal(2478), ON_TRACK)
    assert total.detail["at_start"] == 2100
    assert total.detail["piles_outside_plan_counties"] == 100
    assert (
        run(on, existing + many(377, 5000, on=date(2024, 7, 1)))["city.total_piles.2024"].status
        is BEHIND
    )
    new = figures["city.new_piles.2024"]
    # the line is 1076 x 244/365 = 719.3
    assert (new.actual, new.target, new.status) == (Decimal(378), Decimal(1076), BEHIND)
    met = run(END_2024, existing + many(1076, 5000, on=date(2024, 12, 1)))
    assert met["city.new_piles.2024"].status is MET
    assert met["city.total_piles.2024"].status is MET  # 3176 >= 2665


@pytest.mark.parametrize(
    ("piles", "on", "stations", "piles_status", "covered"),
    [
        ([pile(i, "应县", site=f"S{i % 3}") for i in range(45)], date(2025, 6, 1), MET, MET, 1),
        # two sites built since the plan are fewer than 3: on track early (on 2025-01-01 the
        # line from 0 at the baseline is 3 x 206/570 = 1.08), behind after 2025
        ([pile(i, "应县", site=f"S{i % 2}", on=date(2024, 7, 1)) for i in range(45)],
         date(2025, 1, 1), ON_TRACK, MET, 1),
        # the same two sites there since before the plan: the line runs from 2, at 2.36
        ([pile(i, "应县", site=f"S{i % 2}") for i in range(45)], date(2025, 1, 1), BEHIND,
         MET, 1),
        ([pile(i, "应县", site=f"S{i % 2}") for i in range(45)], date(2026, 1, 1), BEHIND,
         MET, 1),
        # piles without a site are not stations (but still cover the county); 44 piles are
        # fewer than 45
        ([pile(i, "应县", site=f"S{i}" if i < 3 else None) for i in range(44)], date(2026, 1, 1),
         MET, BEHIND, 1),
    ],
)  # fmt: skip
def test_county_stations_and_piles(
    piles: list[Pile], on: date, stations: Status, piles_status: Status, covered: int
) -> None:
    figures = run(on, piles)
    assert figures["county.Ying.stations"].status is stations
    assert figures["county.Ying.piles"].status is piles_status
    city = figures["city.counties_covered"]
    assert city.actual == covered and city.target == 6 and city.status is not MET


def test_all_six_counties_covered() -> None:
    piles = [
        pile(f"{c}-{i}", county, site=f"{county}{i % 3}")
        for c, county in enumerate(county_names(PLAN))
        for i in range(45)
    ]
    assert run(date(2025, 6, 1), piles)["city.counties_covered"].status is MET


def township_world(short: int, on: date | None = None) -> tuple[list[Place], list[Pile]]:
    """69 township seats; all but `short` of them have 5 public piles, those have 4."""
    seats, piles = [], []
    for t in range(69):
        # half name the township in `township`, half only by the seat's name
        seats.append(place(PlaceKind.TOWNSHIP_SEAT, f"T{t}镇", township=f"T{t}" if t % 2 else None))
        label = f"T{t}" if t % 2 else f"T{t}镇"
        piles += [pile(f"{t}-{i}", township=label, on=on) for i in range(4 if t < short else 5)]
    return seats, piles


@pytest.mark.parametrize(
    ("short", "on", "status"),
    [(0, date(2025, 6, 1), MET), (20, date(2025, 6, 1), ON_TRACK), (1, date(2026, 1, 1), BEHIND),
     (30, date(2025, 6, 1), BEHIND)],  # the line on 2025-06-01 is 69 x 357/570 = 43.2
)  # fmt: skip
def test_township_seats_with_five_piles(short: int, on: date, status: Status) -> None:
    seats, piles = township_world(short, on=date(2024, 7, 1))  # none before the plan
    figures = run(on, piles, places=seats)
    figure = figures["township_seat.min_piles"]
    assert (figure.actual, figure.status) == (Decimal(69 - short), status)
    covered = figures["township.covered"]  # 4 piles still cover a township
    assert (covered.actual, covered.status) == (Decimal(69), MET)


def test_township_piles_must_be_in_the_seats_county() -> None:
    seat = place(PlaceKind.TOWNSHIP_SEAT, "城关镇")
    piles = many(5, county="应县", township="城关镇")
    figures = run(END_2025, piles, places=[seat])
    for key in ("township_seat.min_piles", "township.covered"):
        assert figures[key].actual == 0 and figures[key].detail["uncovered"] == ["城关镇"]


@pytest.mark.parametrize(
    ("pile_counts", "on", "status", "actual"),
    [
        ((2, 2), date(2025, 6, 1), MET, 1),
        ((2, 1), date(2025, 6, 1), BEHIND, Decimal("0.5")),  # the line is 357/570 = 0.63
        ((2, 1), date(2024, 8, 1), ON_TRACK, Decimal("0.5")),  # 53/570 = 0.09
    ],
)
def test_villages_covered(
    pile_counts: tuple[int, int], on: date, status: Status, actual: Decimal
) -> None:
    villages = [
        place(PlaceKind.VILLAGE, "东村", township="北旺庄"),
        place(PlaceKind.VILLAGE, "西村", township="北旺庄"),
    ]
    built = date(2024, 7, 1)  # after the plan's baseline: its line starts from 0
    piles = many(pile_counts[0], village="东村", township="北旺庄", on=built)
    # no township on the pile: still counts
    piles += many(pile_counts[1], 100, village="西村", on=built)
    piles += many(3, 200, village="西村", township="另一镇")  # another township's 西村
    figure = run(on, piles, places=villages)["village.covered"]
    assert (figure.status, figure.actual) == (status, actual)


def service_areas(count: int) -> list[Place]:
    return [
        place(PlaceKind.HIGHWAY_SERVICE_AREA, f"SA{i}", (HOME[0], HOME[1] + i), spaces=20)
        for i in range(count)
    ]


def test_highway_service_area_fast_coverage() -> None:
    areas = service_areas(12)
    served = [pile(i, at=north(0.5, (a.latitude, a.longitude)), fast=True, connectors=3)
              for i, a in enumerate(areas[:10])]  # fmt: skip
    others = [
        pile("ac", at=north(0.2, (areas[10].latitude, areas[10].longitude))),  # AC only
        pile("far", at=north(3, (areas[11].latitude, areas[11].longitude)), fast=True),
    ]
    figures = run(date(2025, 1, 5), served + others, places=areas)
    milestone = figures["highway_service_area.fast_coverage.2024"]
    assert (milestone.actual, milestone.status) == (Decimal("0.8333"), MET)
    full = figures["highway_service_area.fast_coverage.2025"]
    # 2025's line runs from 10 of 12 at the end of 2024 towards 12: unmoved, it is behind
    assert full.status is BEHIND and full.detail["uncovered"] == ["SA10", "SA11"]
    assert full.detail["line"]["start"] == date(2025, 1, 1)
    assert full.detail["line"]["start_value"] == Decimal("0.8333")
    day_one = run(date(2025, 1, 1), served + others, places=areas)
    assert day_one["highway_service_area.fast_coverage.2025"].status is ON_TRACK
    assert (
        run(date(2026, 1, 5), served + others, places=areas)[
            "highway_service_area.fast_coverage.2025"
        ].status
        is BEHIND
    )
    # a fast pile named after the area serves it wherever its coordinates are
    named = pile("named", site="SA11", at=None, fast=True)
    more = run(END_2025, [*served, *others, named, pile("x", site="SA10", fast=True)],
               places=areas)  # fmt: skip
    assert more["highway_service_area.fast_coverage.2025"].status is MET


def test_highway_coverage_counts_against_the_planned_twelve() -> None:
    areas = service_areas(5)
    piles = [pile(i, at=(a.latitude, a.longitude), fast=True) for i, a in enumerate(areas)]
    figure = run(END_2024, piles, places=areas)["highway_service_area.fast_coverage.2024"]
    assert (figure.actual, figure.status) == (Decimal("0.4166"), BEHIND)  # 5 / 12, floored


@pytest.mark.parametrize(
    ("connectors", "spaces", "on", "status"),
    [
        (3, (20, 20), date(2025, 6, 1), MET),  # 3 / 20 = 0.15
        # 0 at the baseline (built 2024-07-01): the line is 0.15 x 357/570 = 0.094 <= 0.10
        (2, (20, 20), date(2025, 6, 1), ON_TRACK),
        (2, (20, 20), date(2026, 1, 1), BEHIND),
        (3, (20, None), date(2026, 1, 1), BEHIND),  # an area without spaces is not a pass
    ],
)
def test_highway_small_car_space_share(
    connectors: int, spaces: tuple[int | None, int | None], on: date, status: Status
) -> None:
    areas = [
        place(PlaceKind.HIGHWAY_SERVICE_AREA, "SA0", spaces=spaces[0]),
        place(PlaceKind.HIGHWAY_SERVICE_AREA, "SA1", north(50), spaces=spaces[1]),
    ]
    built = date(2024, 7, 1)
    piles = [pile("a", fast=True, connectors=connectors, on=built),
             pile("b", at=north(50), fast=True, connectors=connectors, on=built)]  # fmt: skip
    figure = run(on, piles, places=areas)["highway_service_area.small_car_space_share"]
    assert figure.status is status


def parking_areas(served: int, on: date | None = None) -> tuple[list[Place], list[Pile]]:
    areas = [
        place(PlaceKind.TRUNK_ROAD_PARKING, f"P{i}", (HOME[0] + i * 0.2, HOME[1]), spaces=30)
        for i in range(13)
    ]
    piles = [pile(i, at=north(0.8, (a.latitude, a.longitude)), connectors=3, on=on)
             for i, a in enumerate(areas[:served])]  # fmt: skip
    return areas, piles


@pytest.mark.parametrize(
    ("served", "on", "milestone", "full"),
    [
        (13, date(2025, 6, 1), MET, MET),
        # 2025's window starts on 1 January from the 10 served then: on its first day 10 is on
        # the line; by 2025-01-05 the line is 10 + 3 x 4/364 = 10.03
        (10, date(2025, 1, 1), MET, ON_TRACK),
        (10, date(2025, 1, 5), MET, BEHIND),
        (9, date(2025, 1, 5), BEHIND, BEHIND),
        # 2024-09-01: the 2024 line from 0 at the baseline is 10 x 84/205 = 4.1; 2025's
        # window has not begun
        (9, date(2024, 9, 1), ON_TRACK, ON_TRACK),
        (12, date(2026, 1, 5), MET, BEHIND),
    ],
)
def test_trunk_road_parking_areas_covered(
    served: int, on: date, milestone: Status, full: Status
) -> None:
    areas, piles = parking_areas(served, on=date(2024, 7, 1))
    figures = run(on, piles, places=areas)
    assert figures["trunk_road_parking.covered.2024"].status is milestone
    assert figures["trunk_road_parking.covered.2025"].status is full
    assert figures["trunk_road_parking.covered.2025"].actual == served


def test_trunk_road_charging_space_ratio() -> None:
    areas, piles = parking_areas(13)  # 3 connectors per 30 spaces = 0.10
    ratio = run(END_2025, piles, places=areas)["trunk_road_parking.space_ratio"]
    assert (ratio.actual, ratio.status) == (Decimal("0.1"), MET)
    piles[0] = pile(0, at=north(0.8, (areas[0].latitude, areas[0].longitude)), connectors=2)
    ratio = run(date(2026, 1, 1), piles, places=areas)["trunk_road_parking.space_ratio"]
    assert (ratio.actual, ratio.status) == (Decimal("0.0666"), BEHIND)
    assert ratio.detail["below"] == ["P0"]


@pytest.mark.parametrize(
    ("km", "on", "status"),
    # covered by a public pile at the site (within 1 km); one post is all or nothing: on track
    # only while the window has not run (the baseline day)
    [(0.5, date(2024, 10, 1), MET), (40, BASELINE, ON_TRACK), (40, date(2024, 10, 1), BEHIND),
     (40, date(2025, 1, 5), BEHIND)],
)  # fmt: skip
def test_tourist_road_posts_and_camps(km: float, on: date, status: Status) -> None:
    places = [
        place(PlaceKind.TOURIST_ROAD_POST, "杀虎口驿站", north(km)),
        place(PlaceKind.RV_CAMP, "右玉营地", north(-0.9)),
    ]
    figures = run(on, [pile(1)], places=places)
    assert figures["tourist_road_post.covered.2024"].status is status
    assert figures["rv_camp.covered.2024"].status is MET
    assert figures["rv_camp.covered.2025"].status is MET


@pytest.mark.parametrize(
    ("km", "on", "status"),
    # 12 km since before the plan: on 2025-06-01 the line is 12 - 2 x 357/570 = 10.75
    [(8, date(2025, 6, 1), MET), (12, date(2025, 6, 1), BEHIND), (12, date(2026, 1, 1), BEHIND)],
)
def test_township_charging_distance(km: float, on: date, status: Status) -> None:
    seats = [
        place(PlaceKind.TOWNSHIP_SEAT, "A镇", north(km)),
        place(PlaceKind.TOWNSHIP_SEAT, "B镇"),
    ]
    figure = run(on, [pile(1)], places=seats)["township_seat.distance"]
    assert figure.status is status
    assert figure.actual == pytest.approx(Decimal(km), abs=Decimal("0.01"))
    assert figure.detail["share_within"] == (Decimal(1) if km <= 10 else Decimal("0.5"))


@pytest.mark.parametrize(
    ("on", "key", "status"),
    [
        (date(2024, 9, 1), "urban_core.distance.2024", MET),  # 2 km < 3 km
        # 2 km > 1 km, and unmoved since the end of 2024 (2024's 3 km step): the line is at
        # 2 - 1 x 151/364 = 1.585 on 2025-06-01
        (date(2025, 6, 1), "urban_core.distance.2025", BEHIND),
        (date(2025, 1, 1), "urban_core.distance.2025", ON_TRACK),  # the window's first day
        (date(2026, 2, 1), "urban_core.distance.2025", BEHIND),
    ],
)
def test_urban_core_distance_by_the_year_of_on(on: date, key: str, status: Status) -> None:
    core = [place(PlaceKind.URBAN_CORE, "市中心", north(2))]
    figures = run(on, [pile(1)], places=core)
    assert figures[key].status is status
    outer = next(f for k, f in figures.items() if k.startswith("urban_outer.distance"))
    assert outer.detail["missing"] == "no urban_outer places registered"


def test_distance_without_public_piles_is_missing() -> None:
    seats = [place(PlaceKind.TOWNSHIP_SEAT, "A镇")]
    figure = run(date(2025, 6, 1), [pile(1, public=False)], places=seats)["township_seat.distance"]
    assert (
        figure.status is BEHIND and figure.detail["missing"] == "no public piles with coordinates"
    )


@pytest.mark.parametrize(
    ("category", "connectors", "public", "on", "key", "status", "actual"),
    [
        ("commercial", 10, True, date(2024, 10, 1), "commercial.space_ratio.2024", MET, None),
        # 0.20 at the end of 2024, unmoved: the line is 0.20 + 0.05 x 151/364 = 0.2207
        ("commercial", 10, True, date(2025, 6, 1), "commercial.space_ratio.2025", BEHIND, None),
        ("commercial", 10, True, date(2025, 1, 1), "commercial.space_ratio.2025", ON_TRACK,
         None),
        ("commercial", 10, True, date(2026, 1, 1), "commercial.space_ratio.2025", BEHIND, None),
        ("transport_hub", 13, True, date(2026, 1, 1), "transport_hub.space_ratio.2025", MET, None),
        # internal sites count their own (private) piles: 10% minimum
        ("government_enterprise_internal", 5, False, date(2026, 1, 1),
         "government_enterprise_internal.space_ratio.2025", MET, None),
        ("commercial", 10, False, date(2024, 10, 1), "commercial.space_ratio.2024", BEHIND,
         0),  # private piles do not count at a commercial site
        ("scenic_4a_plus", 15, True, date(2026, 1, 1), "scenic_4a_plus.space_ratio.2025", MET,
         None),
        ("scenic_a", 7, True, date(2026, 1, 1), "scenic_a.space_ratio.2025", BEHIND, None),
        ("scenic_below_a", 5, True, date(2026, 1, 1), "scenic_below_a.space_ratio.2025", MET, None),
    ],
)  # fmt: skip
def test_space_ratio_per_site_category(
    category: str,
    connectors: int,
    public: bool,
    on: date,
    key: str,
    status: Status,
    actual: int | None,
) -> None:
    sites = [SiteFacts("A", category, 60), SiteFacts("B", category, 40)]
    piles = [pile(1, site="A", public=public, connectors=connectors),
             pile(2, site="B", public=public, connectors=connectors)]  # fmt: skip
    figure = run(on, piles, sites=sites)[f"site_category.{key}"]
    assert figure.status is status
    assert figure.actual == (Decimal(2 * connectors) / 100 if actual is None else actual)


def test_space_ratio_override_unknown_spaces_and_missing() -> None:
    sites = [SiteFacts("A", "commercial", 100, charging_spaces=30)]
    figures = run(date(2026, 1, 1), [], sites=sites)
    assert figures["site_category.commercial.space_ratio.2025"].status is MET
    sites.append(SiteFacts("B", "commercial", None))
    figure = run(date(2026, 1, 1), [], sites=sites)["site_category.commercial.space_ratio.2025"]
    assert figure.status is BEHIND and figure.detail["unknown_parking_spaces"] == ["B"]
    assert figures["site_category.scenic_a.space_ratio.2025"].detail["missing"]


@pytest.mark.parametrize(
    ("evs", "piles", "on", "key", "status", "actual"),
    [
        ({"朔城区": 70}, 10, date(2024, 10, 1), "county.Shuocheng.evs_per_pile.2024", MET, 7),
        # 7 at the end of 2024 too: the 2025 line is 7 - 1 x 151/364 = 6.585 on 2025-06-01
        ({"Shuocheng District": 70}, 10, date(2025, 6, 1), "county.Shuocheng.evs_per_pile.2025",
         BEHIND, 7),
        ({"Shuocheng District": 70}, 10, date(2025, 1, 1), "county.Shuocheng.evs_per_pile.2025",
         ON_TRACK, 7),
        ({"朔城区": 70}, 10, date(2026, 1, 1), "county.Shuocheng.evs_per_pile.2025", BEHIND, 7),
        ({"朔城区": 60}, 10, date(2026, 1, 1), "county.Shuocheng.evs_per_pile.2025", MET, 6),
        ({"朔城区": 0}, 0, date(2026, 1, 1), "county.Shuocheng.evs_per_pile.2025", MET, 0),
        ({"朔城区": 5}, 0, date(2026, 1, 1), "county.Shuocheng.evs_per_pile.2025", BEHIND, None),
        ({}, 10, date(2024, 10, 1), "county.Shuocheng.evs_per_pile.2024", BEHIND, None),
        ({"应县": 10}, 10, date(2024, 10, 1), "county.Shuocheng.evs_per_pile.2024", BEHIND, None),
    ],
)  # fmt: skip
def test_evs_per_public_pile(
    evs: dict[str, int], piles: int, on: date, key: str, status: Status, actual: int | None
) -> None:
    figure = run(on, many(piles), evs_by_county=evs)[key]
    assert figure.status is status
    assert figure.actual == (None if actual is None else Decimal(actual))


def test_city_evs_per_pile_needs_every_county() -> None:
    evs = {name: 7 for name in county_names(PLAN)}
    piles = [pile(name, name) for name in county_names(PLAN)]
    assert run(date(2024, 10, 1), piles, evs_by_county=evs)["city.evs_per_pile.2024"].status is MET
    del evs["右玉县"]
    city = run(date(2024, 10, 1), piles, evs_by_county=evs)["city.evs_per_pile.2024"]
    assert city.status is ON_TRACK and city.detail["counties_without_ev_data"] == ["右玉县"]


# ---- the shipped plan, end to end ------------------------------------------------------------


def test_shipped_plan_with_an_empty_network_is_behind_everywhere() -> None:
    figures = progress(PLAN, Network(), date(2026, 1, 15))
    assert len(figures) > 60
    assert len({f.key for f in figures}) == len(figures)
    assert {f.status for f in figures} == {BEHIND}
    for figure in figures:
        document = figure_json(figure)
        json.dumps(document)
        assert document["status"] == "behind"
        assert isinstance(document["target"], str)
        assert figure.gap is None or figure.gap >= 0


def test_shipped_plan_with_an_empty_network_during_2024() -> None:
    figures = progress(PLAN, Network(), date(2024, 9, 1))
    assert not [f for f in figures if f.status is MET]
    # only the 2025 yearly windows, not yet begun, are on track
    on_track = {f.key for f in figures if f.status is ON_TRACK}
    assert on_track == {f"county.{c.key}.new_piles.2025" for c in PLAN.counties} | {
        "city.new_piles.2025",
        "city.total_piles.2025",
    }
    missing = [f for f in figures if "missing" in f.detail]
    assert missing and all(f.actual is None for f in missing)


def test_figure_json_shape() -> None:
    figure = run(END_2024, many(386, on=date(2024, 7, 1)))["county.Shuocheng.new_piles.2024"]
    assert figure_json(figure) == {
        "key": "county.Shuocheng.new_piles.2024",
        "kind": "new_piles",
        "scope": "county",
        "subject": "朔城区",
        "title_zh": "朔城区2024年新增公共充电桩",
        "title_en": "Shuocheng District: new public piles in 2024",
        "target": "386",
        "actual": "386",
        "gap": "0",
        "unit": "piles",
        "comparison": "at_least",
        "status": "met",
        "due": "2024-12-31",
        "detail": {},
    }


def test_a_network_of_the_plans_size() -> None:
    # 4,000 piles and 1,700 villages: the size of the plan's 2025 network
    piles = [pile(i, at=(39.0 + (i % 100) * 0.013, 112.0 + (i // 100) * 0.04),
                  village=f"V{i % 1700}", on=BASELINE + timedelta(days=i % 300))
             for i in range(4000)]  # fmt: skip
    villages = [place(PlaceKind.VILLAGE, f"V{i}", (39.0 + (i % 50) * 0.026, 112.0 + i * 0.0009))
                for i in range(1700)]  # fmt: skip
    figures = progress(PLAN, Network(piles=piles, places=villages), date(2025, 6, 1))
    distance = next(f for f in figures if f.key == "village.distance")
    assert distance.actual is not None and distance.actual < 10
    covered = next(f for f in figures if f.key == "village.covered")
    assert (covered.actual, covered.status) == (Decimal(1), MET)  # every village has 2 or 3 piles
