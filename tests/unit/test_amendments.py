"""What a regenerated monthly report changes in the filed one, and how an amendment shows."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from csms.monitoring.amendments import changes
from csms.monitoring.report import to_csv, to_html


def report(**changed: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "月报 2025-03",
        "plan_name": "行动计划",
        "month": "2025-03",
        "as_of": "2025-03-31",
        "generated_at": "2025-04-02T04:00:00.000Z",
        "figures": [{"key": "city.piles", "title_zh": "桩", "actual": "10", "status": "behind"}],
        "summary": {"public_piles": 4, "sessions": 0, "energy_kwh": "0.000"},
        "utilization_by_county": [
            {"scope": "朔城区", "sessions": 0, "energy_kwh": "0.000", "time_utilization": "0"}
        ],
        "sharing": [],
        "lockouts": {"opened": 0, "lifted": 0, "open_at_end": 0, "items": []},
        "status_counts": {"stations": 4, "online": 1, "locked": 0},
        "changes": [],
    }
    base.update(changed)
    return base


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (report(), []),
        # live state, generation time and month-over-month changes are not the month's figures
        (
            report(
                generated_at="2025-05-01T00:00:00.000Z",
                status_counts={"stations": 4, "online": 4, "locked": 1},
                changes=[{"key": "city.piles", "before": "9", "after": "10"}],
            ),
            [],
        ),
        (
            report(summary={"public_piles": 4, "sessions": 1, "energy_kwh": "8.000"}),
            [
                ("summary", None, "energy_kwh", "0.000", "8.000"),
                ("summary", None, "sessions", 0, 1),
            ],
        ),
        (
            report(
                utilization_by_county=[
                    {
                        "scope": "朔城区",
                        "sessions": 1,
                        "energy_kwh": "0.000",
                        "time_utilization": "0",
                    },
                    {"scope": "应县", "sessions": 2},
                ]
            ),
            [
                ("utilization_by_county", "应县", "sessions", None, 2),
                ("utilization_by_county", "朔城区", "sessions", 0, 1),
            ],
        ),
        (
            report(figures=[{"key": "city.piles", "actual": "11", "status": "met"}]),
            [
                ("figures", "city.piles", "actual", "10", "11"),
                ("figures", "city.piles", "status", "behind", "met"),
            ],
        ),
        (
            report(lockouts={"opened": 1, "lifted": 0, "open_at_end": 1, "items": [{}]}),
            [("lockouts", None, "opened", 0, 1), ("lockouts", None, "open_at_end", 0, 1)],
        ),
        # a field the filed version did not carry (all sessions, added to the format later)
        # stated nothing: no amendment of it ...
        (
            report(
                summary={
                    "public_piles": 4,
                    "sessions": 0,
                    "all_sessions": 3,
                    "energy_kwh": "0.000",
                },
                utilization_by_county=[
                    {
                        "scope": "朔城区",
                        "sessions": 0,
                        "all_sessions": 3,
                        "energy_kwh": "0.000",
                        "time_utilization": "0",
                    }
                ],
            ),
            [],
        ),
        # ... but a new row is new in every field
        (
            report(
                utilization_by_county=[
                    {
                        "scope": "朔城区",
                        "sessions": 0,
                        "energy_kwh": "0.000",
                        "time_utilization": "0",
                    },
                    {"scope": "应县", "sessions": 1, "all_sessions": 2},
                ]
            ),
            [
                ("utilization_by_county", "应县", "sessions", None, 1),
                ("utilization_by_county", "应县", "all_sessions", None, 2),
            ],
        ),
    ],
)
def test_changes_list_the_figures_that_differ(
    after: dict[str, Any], expected: list[tuple[Any, ...]]
) -> None:
    found = [
        (c["section"], c["scope"], c["field"], c["before"], c["after"])
        for c in changes(report(), after)
    ]
    assert found == expected


def test_a_field_both_versions_carry_is_compared() -> None:
    filed = report(summary={"public_piles": 4, "sessions": 0, "all_sessions": 1})
    later = report(summary={"public_piles": 4, "sessions": 0, "all_sessions": 2})
    assert [(c["field"], c["before"], c["after"]) for c in changes(filed, later)] == [
        ("all_sessions", 1, 2)
    ]


def test_an_amended_report_shows_its_amendments() -> None:
    amended = report(
        figures=[],
        utilization_by_county=[],
        amendments=[
            {
                "version": 2,
                "amended_at": "2025-06-01T08:00:00.000Z",
                "changes": [
                    {
                        "section": "summary",
                        "scope": None,
                        "field": "sessions",
                        "before": 0,
                        "after": 1,
                    }
                ],
            }
        ],
    )
    html = to_html(amended)
    # in the plan's time zone (the default one here: the document names none)
    assert "更正说明" in html and "2025-06-01 16:00" in html
    assert "<td>概况</td>" in html and "<td>有效充电次数</td>" in html
    assert "更正说明" not in to_html(report(figures=[], utilization_by_county=[]))
    rows = list(csv.reader(io.StringIO(to_csv(amended).removeprefix("\ufeff"))))
    assert rows[-2] == ["更正时间", "部分", "范围", "项目", "原值", "现值"]
    assert rows[-1] == ["2025-06-01 16:00", "概况", "—", "有效充电次数", "0", "1"]


def test_an_amended_figure_reads_in_its_unit() -> None:
    share = {"key": "village.covered", "title_zh": "行政村覆盖比例", "kind": "villages_covered",
             "unit": "share", "actual": "0.5000", "status": "behind"}  # fmt: skip
    amended = report(
        figures=[share],
        amendments=[{"version": 2, "amended_at": "2025-06-01T08:00:00.000Z", "changes": [
            {"section": "figures", "scope": "village.covered", "field": "actual",
             "before": "0.4000", "after": "0.5000"},
            {"section": "figures", "scope": "village.covered", "field": "status",
             "before": "behind", "after": "on_track"},
        ]}],
    )  # fmt: skip
    html = to_html(amended)
    assert "<td>行政村覆盖比例</td><td>实际</td><td class=n>40.00%</td><td class=n>50.00%</td>" in (
        html
    )
    assert "<td class=n>滞后</td><td class=n>进度正常</td>" in html
