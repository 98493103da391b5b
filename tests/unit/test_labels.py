"""Every key the progress engine emits has a reader's name; an unknown key still reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from csms.monitoring import labels
from csms.monitoring.plan import default_plan
from csms.monitoring.progress import Network, Pile, Place, PlaceKind, SiteFacts, progress
from csms.monitoring.progress_model import Comparison, FigureKind, Scope, Status, Unit, figure_json
from csms.monitoring.registry_csv import PLACE_KINDS, SITE_CATEGORIES

PLAN = default_plan()
HOME = (39.33, 112.43)  # Shuozhou


def _pile(n: int, county: str, **kw: Any) -> Pile:
    facts: dict[str, Any] = {
        "station_id": f"P-{n}",
        "county": county,
        "township": "北城街道",
        "village": "村一",
        "site_name": f"站{n % 4}",
        "site_category": SITE_CATEGORIES[n % len(SITE_CATEGORIES)],
        "latitude": HOME[0] + n * 0.001,
        "longitude": HOME[1],
        "public": True,
        "fast": n % 2 == 0,
        "connectors": 2,
        "commissioned_on": date(2024, 7, 1) if n % 3 else None,
    }
    facts.update(kw)
    return Pile(**facts)


def networks() -> list[Network]:
    """An empty network (every input missing) and one with every input the engine reads."""
    counties = [c.name for c in PLAN.counties]
    piles = [_pile(n, counties[n % len(counties)]) for n in range(40)]
    places = [
        Place(kind=kind, name=f"{kind.value}-1", county=counties[0], township="北城街道",
              latitude=HOME[0], longitude=HOME[1], small_car_spaces=20)
        for kind in PlaceKind
    ]  # fmt: skip
    sites = [SiteFacts(site_name=f"站{i}", category=SITE_CATEGORIES[i], parking_spaces=50)
             for i in range(4)]  # fmt: skip
    evs = {name: 1000 for name in counties}
    return [Network(), Network(piles=piles, places=places, sites=sites, evs_by_county=evs)]


def emitted() -> list[dict[str, Any]]:
    return [
        figure_json(f)
        for network in networks()
        for on in (date(2024, 9, 30), date(2025, 6, 30), date(2026, 3, 31))
        for f in progress(PLAN, network, on)
    ]


def detail_keys(value: Any) -> set[str]:
    """Keys of a detail, and of the mappings in it that label their keys (the on-track line);
    `by_place`, `by_county` map names, which are data, not keys."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            if key not in labels.NAMED_MAPS:
                found |= detail_keys(inner)
    return found


def test_every_key_the_engine_emits_has_a_label() -> None:
    figures = emitted()
    assert len(figures) > 50
    tables = {"kind": labels.KINDS, "scope": labels.SCOPES, "unit": labels.UNITS,
              "status": labels.STATUSES, "comparison": labels.COMPARISONS}  # fmt: skip
    for field, table in tables.items():
        missing = {str(f[field]) for f in figures} - table.keys()
        assert not missing, f"{field} without a label: {missing}"
    subjects = {str(f["subject"]) for f in figures if f["scope"] != "county"}
    assert not subjects - labels.SUBJECTS.keys(), subjects - labels.SUBJECTS.keys()
    details = set().union(*(detail_keys(f["detail"]) for f in figures))
    assert not details - labels.DETAILS.keys(), details - labels.DETAILS.keys()
    sentences = {f["detail"]["missing"] for f in figures if "missing" in f["detail"]}
    assert sentences, "the empty network misses inputs"
    assert all(labels.missing_known(s) for s in sentences), sentences
    assert all(labels.missing_text(s) != s for s in sentences)


@pytest.mark.parametrize(
    ("table", "values"),
    [
        ("kind", [k.value for k in FigureKind]),
        ("scope", [s.value for s in Scope]),
        ("unit", [u.value for u in Unit]),
        ("status", [s.value for s in Status]),
        ("comparison", [c.value for c in Comparison]),
        ("subject", [*SITE_CATEGORIES, *PLACE_KINDS, *(k.value for k in PlaceKind), "city"]),
    ],
)
def test_every_value_the_engine_can_take_has_a_label(table: str, values: list[str]) -> None:
    known = labels.TABLES[table]
    assert not set(values) - known.keys(), set(values) - known.keys()
    assert all(known[v].zh and known[v].en for v in values)


@pytest.mark.parametrize(
    ("table", "key", "lang", "count", "expected"),
    [
        ("subject", "highway_service_area", "zh", None, "高速公路服务区"),
        ("subject", "township_seat", "zh", None, "乡镇（街道）所在地"),
        ("scope", "city", "zh", None, "全市"),
        ("unit", "piles", "zh", 1, "台"),
        ("unit", "piles", "en", 1, "pile"),  # never "1 piles"
        ("unit", "piles", "en", "2", "piles"),
        ("unit", "piles", "en", "0", "piles"),
        ("status", "on_track", "zh", None, "进度正常"),
        # a key newer than the table reads as its words, in either language
        ("kind", "city_average_piles", "zh", None, "city average piles"),
        ("subject", "mountain_pass", "en", None, "mountain pass"),
        ("scope", None, "zh", None, ""),
    ],
)
def test_names(table: str, key: str | None, lang: labels.Lang, count: Any, expected: str) -> None:
    assert labels.name(table, key, lang, count) == expected


@pytest.mark.parametrize(
    ("sentence", "zh"),
    [
        ("no township_seat places registered", "未登记乡镇（街道）所在地点位"),
        ("no EV registrations", "没有新能源汽车保有量数据"),
        ("no highway_service_area place has its small-car spaces registered",
         "高速公路服务区均未登记小型车停车位数"),
        ("no bus_depot site with its parking spaces", "没有登记车位数的公交场站场站"),
        ("a sentence of a newer engine", "a sentence of a newer engine"),
    ],
)  # fmt: skip
def test_missing_inputs_read_in_chinese(sentence: str, zh: str) -> None:
    assert labels.missing_text(sentence) == zh


@pytest.mark.parametrize(
    ("unit", "kind", "percent", "zh"),
    [
        ("share", "villages_covered", True, "%"),
        ("ratio", "space_ratio", True, "%"),
        ("ratio", "evs_per_pile", False, "辆/台"),
        ("piles", "evs_per_pile", False, "台"),
        ("km", "charging_distance", False, "公里"),
    ],
)
def test_units(unit: str, kind: str, percent: bool, zh: str) -> None:
    assert labels.is_percent(unit, kind) is percent
    assert labels.unit_name(unit, kind) == zh


def test_the_dashboard_gets_every_table() -> None:
    table = labels.as_json()
    assert table["subject"]["highway_service_area"]["zh"] == "高速公路服务区"
    assert table["unit"]["piles"] == {"zh": "台", "en": "pile", "en_plural": "piles"}
    assert table["percent_units"] == ["ratio", "share"]
    assert "evs_per_pile" in table["plain_ratio_kind"]
    assert table["detail"]["missing"]["zh"] == "缺少数据"
