"""Names a reader sees for the keys of plan figures (kind, scope, subject, unit, status, detail).

The progress engine and the report speak in stable keys (`highway_service_area`, `share`,
`on_track`); officials read Chinese. One table here serves the monthly report and the
dashboard (which loads it as JSON), so a key is named the same way everywhere. A key the
table does not know yet (the engine gains figures over time) still reads as words, never
crashes a render: see `name`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class Label:
    zh: str
    en: str
    en_plural: str | None = None  # English count nouns: "1 pile", "2 piles"

    def text(self, lang: Lang, count: Any = None) -> str:
        if lang == "zh":
            return self.zh
        if self.en_plural is not None and count is not None and str(count) not in {"1", "1.0"}:
            return self.en_plural
        return self.en


def _table(rows: Mapping[str, tuple[str, ...]]) -> dict[str, Label]:
    return {key: Label(*row) for key, row in rows.items()}


# progress_model.FigureKind
KINDS = _table(
    {
        "new_piles": ("新增公共充电桩", "new public piles"),
        "new_piles_total": ("行动计划期间新增公共充电桩", "new public piles over the plan"),
        "total_piles": ("公共充电桩总数", "public piles in total"),
        "county_stations": ("县（市、区）公共充电站数", "public stations of a county"),
        "county_piles": ("县（市、区）公共充电桩数", "public piles of a county"),
        "average_stations_per_county": ("平均每县公共充电站数", "public stations per county"),
        "average_piles_per_county": ("平均每县公共充电桩数", "public piles per county"),
        "counties_covered": ("公共充电站覆盖的县（市、区）", "counties covered"),
        "townships_covered": ("公共充电桩覆盖的乡镇（街道）", "townships covered"),
        "township_seat_piles": ("乡镇驻地公共充电桩达标数", "township seats with enough piles"),
        "villages_covered": ("公共充电桩覆盖的行政村（社区）", "villages covered"),
        "highway_fast_coverage": ("高速公路服务区快充覆盖率", "highway fast-charging coverage"),
        "highway_space_share": ("高速公路服务区充电车位占比", "highway charging-space share"),
        "trunk_road_covered": ("干线公路停车区覆盖", "trunk-road parking areas covered"),
        "trunk_road_space_ratio": ("干线公路停车区充电车位比例", "trunk-road charging spaces"),
        "tourist_road_covered": ("长城一号旅游公路覆盖", "tourist road covered"),
        "charging_distance": ("充电距离", "charging distance"),
        "space_ratio": ("充电车位比例", "charging-space ratio"),
        "evs_per_pile": ("车桩比", "EVs per public pile"),
    }
)

# progress_model.Scope
SCOPES = _table(
    {
        "city": ("全市", "city"),
        "county": ("县（市、区）", "county"),
        "site_category": ("场所类别", "site category"),
        "place_kind": ("点位类型", "place kind"),
    }
)

# A figure's subject: "city", a county (named by the plan, shown as is), a site category
# (registry_csv.SITE_CATEGORIES) or a place kind (progress_model.PlaceKind).
SUBJECTS = _table(
    {
        "city": ("全市", "city"),
        "urban_public_parking": ("城市公共停车场", "urban public parking"),
        "commercial": ("商业场所", "commercial sites"),
        "transport_hub": ("交通枢纽", "transport hubs"),
        "residential_community": ("居住社区", "residential communities"),
        "government_enterprise_internal": ("党政机关和企事业单位内部", "internal of agencies"),
        "scenic_4a_plus": ("4A级及以上景区", "4A+ scenic areas"),
        "scenic_a": ("其他A级景区", "other A-level scenic areas"),
        "scenic_below_a": ("A级以下景区", "scenic areas below A"),
        "tourist_road_post": ("长城一号旅游公路驿站", "Great Wall No.1 road posts"),
        "rv_camp": ("房车营地", "RV camps"),
        "trunk_road_parking": ("普通国省干线公路停车区", "trunk-road parking areas"),
        "highway_service_area": ("高速公路服务区", "highway service areas"),
        "bus_depot": ("公交场站", "bus depots"),
        "logistics_industrial_park": ("物流园区、产业园区", "logistics and industrial parks"),
        "other": ("其他", "other"),
        "township_seat": ("乡镇（街道）所在地", "township seats"),
        "village": ("行政村（社区）", "villages"),
        "urban_core": ("城市核心区", "urban core"),
        "urban_outer": ("外围城区", "outer urban area"),
    }
)

# progress_model.Unit
UNITS = _table(
    {
        "piles": ("台", "pile", "piles"),
        "stations": ("座", "station", "stations"),
        "places": ("处", "place", "places"),
        "share": ("%", "%"),
        "km": ("公里", "km"),
        "ratio": ("%", "%"),
    }
)
# Units read as percentages (the engine keeps them as fractions: 0.15 is 15%) ...
PERCENT_UNITS = frozenset({"share", "ratio"})
# ... except kinds whose ratio is a plain number, with their own unit.
PLAIN_RATIO_KINDS = _table({"evs_per_pile": ("辆/台", "EVs per pile")})

STATUSES = _table({"met": ("达标", "met"), "on_track": ("进度正常", "on track"),
                   "behind": ("滞后", "behind")})  # fmt: skip
COMPARISONS = _table({"at_least": ("不少于", "at least"), "at_most": ("不超过", "at most")})

# Keys of a figure's `detail`; the value's kind says how to show it.
# "ratios" and "by" map names (places, counties: data, not keys) to a percentage or a number.
DetailKind = Literal["count", "names", "percent", "km", "text", "flag", "ratios", "by", "line"]
_DETAIL_ROWS: dict[str, tuple[str, str, DetailKind]] = {
    "missing": ("缺少数据", "missing input", "text"),
    "registered": ("已登记", "registered", "count"),
    "served": ("已覆盖", "served", "count"),
    "planned": ("规划数", "planned", "count"),
    "places": ("点位数", "places", "count"),
    "uncovered": ("未覆盖", "not covered", "names"),
    "below": ("未达标", "below target", "names"),
    "beyond": ("超出距离", "beyond the distance", "names"),
    "unknown_spaces": ("未登记车位数", "parking spaces unknown", "names"),
    "by_place": ("各点位", "by place", "ratios"),
    "share_within": ("距离内占比", "share within the distance", "percent"),
    "piles_outside_plan_counties": ("不在规划县区的桩", "piles outside the plan's counties",
                                    "count"),
    "at_baseline": ("基期数", "at the baseline", "count"),
    "piles_without_site": ("未填场站名的桩", "piles without a site name", "count"),
    "evs": ("新能源汽车保有量", "EVs registered", "count"),
    "public_piles": ("公共充电桩", "public piles", "count"),
    "counties_without_ev_data": ("缺少保有量数据的县区", "counties without EV data", "names"),
    "no_public_piles": ("没有公共充电桩", "no public piles", "flag"),
    "sites": ("场站数", "sites", "count"),
    "spaces": ("停车位", "parking spaces", "count"),
    "charging_spaces": ("充电车位", "charging spaces", "count"),
    "line": ("进度线", "on-track line", "line"),
    "start": ("起点", "start", "text"),
    "start_value": ("起点值", "start value", "text"),
    "expected_now": ("当前应达", "expected now", "text"),
    "counties": ("县（市、区）数", "counties", "count"),
    "covered": ("已覆盖", "covered", "count"),
    "at_start": ("期初数", "at the window's start", "count"),
    "plan_start": ("规划基数", "at the plan's start", "count"),
    "by_county": ("各县（市、区）", "by county", "by"),
    "parking_spaces": ("停车位", "parking spaces", "count"),
    "sites_below": ("未达标场站", "sites below target", "names"),
    "unknown_parking_spaces": ("未登记车位数的场站", "sites without parking spaces", "names"),
    "evs_as_of": ("保有量统计日期", "EVs counted on", "text"),
}  # fmt: skip
# Detail keys whose mapping is keyed by names (data), not by detail keys.
NAMED_MAPS = frozenset(k for k, (_, _, kind) in _DETAIL_ROWS.items() if kind in ("ratios", "by"))
DETAILS: dict[str, tuple[Label, DetailKind]] = {
    key: (Label(zh, en), kind) for key, (zh, en, kind) in _DETAIL_ROWS.items()
}

# The engine's sentences for a missing input, matched whole; {x} is a subject key.
_MISSING: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"no (\w+) places registered"), "未登记{x}点位", "no {x} registered"),
    (
        re.compile(r"no (\w+) place has its small-car spaces registered"),
        "{x}均未登记小型车停车位数",
        "no {x} has its small-car spaces registered",
    ),
    (re.compile(r"no (\w+) site with its parking spaces"), "没有登记车位数的{x}场站",
     "no {x} site with its parking spaces"),
    (re.compile(r"no public piles with coordinates"), "没有带坐标的公共充电桩",
     "no public piles with coordinates"),
    (re.compile(r"no EV registrations"), "没有新能源汽车保有量数据", "no EV registrations"),
)  # fmt: skip

TABLES: dict[str, dict[str, Label]] = {
    "kind": KINDS,
    "scope": SCOPES,
    "subject": SUBJECTS,
    "unit": UNITS,
    "status": STATUSES,
    "comparison": COMPARISONS,
}


def humanize(key: str) -> str:
    """The fallback for a key no table knows: its words ("city_average" -> "city average")."""
    return re.sub(r"[_.\s]+", " ", key).strip() or key


def name(table: str, key: str | None, lang: Lang = "zh", count: Any = None) -> str:
    """The reader's name of `key` in one of TABLES; an unknown key reads as its words."""
    if key is None:
        return ""
    found = TABLES[table].get(key)
    return humanize(key) if found is None else found.text(lang, count)


def detail_name(key: str, lang: Lang = "zh") -> str:
    found = DETAILS.get(key)
    return humanize(key) if found is None else found[0].text(lang)


def missing_text(text: str, lang: Lang = "zh") -> str:
    """An engine sentence naming a missing input, in the reader's language (as is if unknown)."""
    for pattern, zh, en in _MISSING:
        match = pattern.fullmatch(text.strip())
        if match:
            subject = name("subject", match.group(1), lang) if match.groups() else ""
            return (zh if lang == "zh" else en).format(x=subject)
    return text


def missing_known(text: str) -> bool:
    return any(pattern.fullmatch(text.strip()) for pattern, _, _ in _MISSING)


def is_percent(unit: str | None, kind: str | None) -> bool:
    """Shares and space ratios read as percentages; EVs per pile is a plain number."""
    return unit in PERCENT_UNITS and kind not in PLAIN_RATIO_KINDS


def unit_name(unit: str | None, kind: str | None, lang: Lang = "zh", count: Any = None) -> str:
    """The unit shown after a figure's value ("台", "piles", "%", "辆/台")."""
    plain = PLAIN_RATIO_KINDS.get(kind or "")
    if plain is not None and unit not in (None, "piles", "stations", "places", "km"):
        return plain.text(lang)
    return name("unit", unit, lang, count)


def as_json() -> dict[str, Any]:
    """Every table for the dashboard: {table: {key: {zh, en, en_plural}}}, and the rules."""

    def rows(table: Mapping[str, Label]) -> dict[str, dict[str, str | None]]:
        return {k: {"zh": v.zh, "en": v.en, "en_plural": v.en_plural} for k, v in table.items()}

    return {
        **{table: rows(labels) for table, labels in TABLES.items()},
        "detail": rows({key: label for key, (label, _) in DETAILS.items()}),
        "plain_ratio_kind": rows(PLAIN_RATIO_KINDS),
        "percent_units": sorted(PERCENT_UNITS),
        "missing": [{"pattern": p.pattern, "zh": zh, "en": en} for p, zh, en in _MISSING],
    }
