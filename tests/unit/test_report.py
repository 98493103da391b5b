"""The monthly report renders any document in Chinese: escaped, script-free HTML and a CSV, with
every key named, fractions as percentages, times in the plan's time zone, no "None"."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from csms.monitoring import report_format as fmt
from csms.monitoring.report import Standing, to_csv, to_html

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too


def figure(**extra: Any) -> dict[str, Any]:
    return {
        "key": "county.Shuocheng.new_piles.2025",
        "kind": "new_piles",
        "scope": "county",
        "subject": "朔城区",
        "title_zh": "朔城区2025年新增公共充电桩",
        "title_en": "Shuocheng District: new public piles in 2025",
        "target": "555",
        "actual": "120",
        "gap": "435",
        "unit": "piles",
        "comparison": "at_least",
        "status": "behind",
        "due": "2025-12-31",
        "detail": {},
        "change": "12",
        **extra,
    }


def document(**extra: Any) -> dict[str, Any]:
    missing = figure(key="city.evs_per_pile", kind="evs_per_pile", scope="city",
                     subject="<b>city</b>", unit="ratio", target="2.5", actual=None, gap=None,
                     change=None, detail={"missing": "no EV registrations"})  # fmt: skip
    return {
        "title": "月报 2025-06",
        "plan_name": "行动计划",
        "time_zone": "Asia/Shanghai",
        "month": "2025-06",
        "as_of": "2025-06-30",
        "generated_at": "2025-06-30T23:30:00.000Z",
        "figures": [figure(), missing],
        "changes": [
            {
                "key": "county.Shuocheng.new_piles.2025",
                "title_zh": "新增",
                "before": "108",
                "after": "120",
                "change": "12",
            }
        ],
        **extra,
    }


def text(html: str) -> str:
    """What a reader sees: the page without its tags and style."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S))


def test_html_is_self_contained_escaped_and_never_says_none() -> None:
    html = to_html(document())
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert "<b>city</b>" not in html and "&lt;b&gt;city&lt;/b&gt;" in html
    assert "<svg" in html  # the county chart: 2025 figures of the 2025 report
    seen = text(html)
    assert "滞后" in seen and "None" not in seen and "behind" not in seen
    assert "没有新能源汽车保有量数据" in seen  # why the EVs-per-pile figure has no value
    assert "2025年6月充电基础设施建设进展月报" in seen


@pytest.mark.parametrize(
    ("unit", "kind", "value", "signed", "shown"),
    [
        ("piles", "new_piles", "555", False, "555 台"),
        ("piles", "new_piles", "-3", True, "-3 台"),
        ("piles", "new_piles", "12", True, "+12 台"),
        ("share", "villages_covered", "0.1500", False, "15.00%"),
        ("share", "highway_fast_coverage", "0.8", False, "80.00%"),
        ("share", "highway_fast_coverage", "0.0200", True, "+2.00 个百分点"),
        ("ratio", "space_ratio", "0.1", False, "10.00%"),
        ("ratio", "evs_per_pile", "2.5", False, "2.5 辆/台"),
        ("km", "charging_distance", "17.750", False, "17.750 公里"),
        ("stations", "county_stations", "1", False, "1 座"),
        ("piles", "new_piles", None, False, "—"),
        ("piles", "new_piles", "not a number", False, "—"),
        ("furlongs", "a_newer_kind", "3", False, "3 furlongs"),  # unknown unit: its words
    ],
)
def test_figure_values(unit: str, kind: str, value: Any, signed: bool, shown: str) -> None:
    assert fmt.figure_value({"unit": unit, "kind": kind}, value, signed=signed) == shown


@pytest.mark.parametrize(
    ("zone", "moment", "shown"),
    [
        ("Asia/Shanghai", "2026-12-06T23:30:00.000Z", "2026-12-07 07:30"),
        ("Asia/Shanghai", "2026-12-06T23:30Z", "2026-12-07 07:30"),
        ("UTC", "2026-12-06T23:30:00.000Z", "2026-12-06 23:30"),
        ("Asia/Urumqi", "2026-12-06T23:30:00.000Z", "2026-12-07 05:30"),
        ("Asia/Shanghai", None, "—"),
        ("Asia/Shanghai", "2025-06-02", "2025-06-02"),  # a date stays a date
    ],
)
def test_times_in_the_plans_zone(zone: str, moment: Any, shown: str) -> None:
    assert fmt.local_time(moment, fmt.zone_of({"time_zone": zone})) == shown


def test_times_of_the_page_are_local_and_the_zone_is_named() -> None:
    html = to_html(
        document(
            lockouts={"opened": 1, "lifted": 0, "open_at_end": 1, "items": [
                {"station_id": "X", "hazard": "漏电", "locked_at": "2025-06-01T17:00:00.000Z",
                 "lifted_at": None, "rectification": None}]},
        )
    )  # fmt: skip
    seen = text(html)
    assert "2025-07-01 07:30" in seen and "T23:30" not in seen  # generated at
    assert "2025-06-02 01:00" in seen  # locked at
    assert "Asia/Shanghai（UTC+08:00）" in seen
    assert "None" not in seen
    # a document without a zone (filed before it was recorded) reads in the default one
    legacy = {k: v for k, v in document().items() if k != "time_zone"}
    assert "2025-07-01 07:30" in text(to_html(legacy))


def test_utilization_has_one_unit_in_the_chart_and_the_table() -> None:
    html = to_html(
        document(
            utilization_by_county=[
                {"scope": "应县", "sessions": 3, "all_sessions": 5, "energy_kwh": "12.000",
                 "time_utilization": "0.0002", "energy_utilization": "0.0100",
                 "online_rate": "0.9900", "fault_rate": "0.0000"}
            ],
            summary={"public_piles": 4, "new_piles_this_month": 1, "sessions": 3,
                     "all_sessions": 5, "energy_kwh": "12.000"},
        )
    )  # fmt: skip
    seen = text(html)
    chart = html[html.index("各县（市、区）时间利用率") :]
    assert "0.02%" in chart[: chart.index("</svg>")]  # the bar's value
    assert seen.count("0.02%") == 2  # the chart and the table: the same figure, the same unit
    assert "0.0002" not in seen and "0.0200" not in seen
    assert "1.00%" in seen and "99.00%" in seen and "0.00%" in seen
    nothing = to_html(document(utilization_by_county=[{"scope": "应县", "time_utilization": "0"}]))
    bars = nothing[nothing.index("各县（市、区）时间利用率") :]
    assert ">0.00%<" in bars[: bars.index("</svg>")]  # zero in the same unit, not "0%"
    # sessions: counted ones everywhere, named so, and all of them beside them
    assert "有效充电次数" in seen and "全部充电次数" in seen
    assert "超过 2 分钟且超过 0.5 千瓦时" in seen


def test_keys_are_named_in_chinese_and_unknown_ones_read_as_words() -> None:
    figures = [
        figure(key="a", kind="highway_fast_coverage", scope="place_kind",
               subject="highway_service_area", unit="share", target="0.8", actual="0.5",
               gap="0.3", change="0.1", status="on_track",
               detail={"registered": 12, "served": 6, "uncovered": ["甲", "乙"]}),
        figure(key="b", kind="townships_covered", scope="place_kind", subject="township_seat",
               unit="places", detail={"missing": "no township_seat places registered"}),
        figure(key="c", kind="total_piles", scope="city", subject="city", status="met"),
        figure(key="d", kind="a_newer_kind", scope="a_newer_scope", subject="mountain_pass",
               unit="piles", detail={"a_newer_detail": 7}),
    ]  # fmt: skip
    seen = text(to_html(document(figures=figures, changes=[])))
    for raw in ("highway_service_area", "township_seat", "place_kind", "on_track", "share"):
        assert raw not in seen, raw
    assert "高速公路服务区" in seen and "乡镇（街道）所在地" in seen and "全市" in seen
    assert "80.00%" in seen and "50.00%" in seen and "+10.00 个百分点" in seen
    assert "进度正常" in seen and "达标" in seen
    assert "已登记：12" in seen and "未覆盖：甲、乙" in seen
    assert "未登记乡镇（街道）所在地点位" in seen
    assert "mountain pass" in seen and "a newer detail：7" in seen  # readable, no crash


def test_csv_is_for_excel_with_chinese_headers_and_one_unit() -> None:
    body = to_csv(
        document(
            figures=[figure(), figure(key="s", kind="villages_covered", unit="share",
                                      target="1", actual="0.1500", gap="0.8500", change="0.02")],
            utilization_by_county=[{"scope": "应县", "sessions": 3, "all_sessions": 5,
                                    "energy_kwh": "12.000", "time_utilization": "0.0002",
                                    "energy_utilization": "0.0100", "online_rate": "0.9900",
                                    "fault_rate": "0.0000"}],
        )
    )  # fmt: skip
    assert body.startswith("\ufeff")  # Excel reads UTF-8 only with a BOM
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["指标编号", "范围", "对象", "指标"]
    assert rows[1][0] == "county.Shuocheng.new_piles.2025"
    assert rows[1][5:9] == ["555", "120", "435", "台"] and rows[1][9] == "滞后"
    assert rows[2][5:9] == ["100.00", "15.00", "85.00", "%"] and rows[2][11] == "2.00"
    blank = to_csv(document())
    missing = list(csv.reader(io.StringIO(blank.removeprefix("\ufeff"))))[2]
    assert missing[6] == "" and missing[8] == "辆/台"  # actual unknown: blank, never 0
    county = rows[rows.index(["县（市、区）", "有效充电次数", "全部充电次数", "充电量（千瓦时）",
                              "时间利用率（%）", "电量利用率（%）", "在线率（%）",
                              "故障率（%）"]) + 1]  # fmt: skip
    assert county == ["应县", "3", "5", "12.000", "0.02", "1.00", "99.00", "0.00"]


@pytest.mark.parametrize(
    ("standing", "says", "links"),
    [
        (None, [], []),
        (Standing(version=2, latest=2), [], []),
        # a filed version whose month got data later: says so and offers the amended one
        (Standing(version=1, latest=2, latest_url="/v2?sig=x"),
         ["本报告为第 1 版", "已生成更正后的"], ['href="/v2?sig=x"']),
        (Standing(version=1, latest=1, late_data=True), ["系统正在核对"], []),
        # a later version that only regenerated the report (nothing amended) is no amendment
        (
            Standing(version=1, latest=3, latest_url="/v3", amended_later=False),
            ["本月报告已重新生成", "查看第 3 版（最新版）"],
            ['href="/v3"'],
        ),
    ],
)  # fmt: skip
def test_where_a_filed_version_stands(
    standing: Standing | None, says: list[str], links: list[str]
) -> None:
    html = to_html(document(), standing)
    for phrase in says:
        assert phrase in html
    for link in links:
        assert link in html
    if standing is None or not says:
        assert 'class="notice"' not in html


def test_an_amended_version_says_it_is_one_and_links_the_original() -> None:
    amended = document(amendments=[{"version": 2, "amended_at": "2025-07-03T02:00:00.000Z",
                                    "changes": []}])  # fmt: skip
    html = to_html(amended, Standing(version=2, latest=2, original_url="/v1?sig=y"))
    assert "本报告为更正版（第 2 版，最近更正于 2025-07-03 10:00）" in text(html)
    assert 'href="/v1?sig=y"' in html


def test_after_the_plans_last_year_the_chart_shows_that_year() -> None:
    html = to_html({**document(), "as_of": "2026-11-30"})
    assert "<svg" in html and "2025年新增公共充电桩（台）：实际与目标" in html
    assert ">朔城区<" in html
