"""The monthly report renders any document: escaped, script-free HTML and a figures CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from csms.monitoring.report import to_csv, to_html

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too


def document(**extra: Any) -> dict[str, Any]:
    figure = {
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
        "status": "behind",
        "due": "2025-12-31",
        "change": "12",
    }
    missing = {**figure, "key": "city.evs_per_pile", "actual": None, "gap": None,
               "status": "behind", "change": None, "subject": "<b>city</b>"}  # fmt: skip
    return {
        "title": "月报 2025-06",
        "plan_name": "行动计划",
        "month": "2025-06",
        "as_of": "2025-06-30",
        "generated_at": "2025-07-01T00:00:00.000Z",
        "figures": [figure, missing],
        "changes": [{"title_zh": "新增", "before": "108", "after": "120", "change": "12"}],
        **extra,
    }


def test_html_is_self_contained_and_escaped() -> None:
    html = to_html(document())
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert "<b>city</b>" not in html and "&lt;b&gt;city&lt;/b&gt;" in html
    assert "<svg" in html  # the county chart: 2025 figures of the 2025 report
    assert "滞后 / behind" in html


def test_csv_has_one_row_per_figure_and_blank_for_missing() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(document()))))
    assert rows[0][:3] == ["key", "scope", "subject"]
    assert rows[1][0] == "county.Shuocheng.new_piles.2025" and rows[1][6] == "120"
    assert rows[2][6] == ""  # actual unknown: blank, never 0


def test_sections_render_with_data() -> None:
    html = to_html(
        document(
            utilization_by_county=[
                {"scope": "应县", "sessions": 3, "energy_kwh": "12.000",
                 "time_utilization": "0.1250", "energy_utilization": "0.0100",
                 "online_rate": "0.9900", "fault_rate": "0.0000"}
            ],
            sharing=[{"unit_name": "机关", "public_sessions": 2, "public_kwh": "4.500",
                      "public_revenue": "4.50", "member_sessions": 1,
                      "public_hours_open": "468.00"}],
            lockouts={"opened": 1, "lifted": 0, "open_at_end": 1,
                      "items": [{"station_id": "X", "hazard": "漏电", "locked_at": "2025-06-02"}]},
        )
    )  # fmt: skip
    assert "应县" in html and "机关" in html and "漏电" in html and "468.00" in html


def test_after_the_plans_last_year_the_chart_shows_that_year() -> None:
    html = to_html({**document(), "as_of": "2026-11-30"})
    assert "<svg" in html and "朔城区 2025" in html
