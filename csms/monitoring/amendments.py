"""What a regenerated monthly report changes in the filed one (pure): the figures a reader
compares, section by section and scope by scope.

Live state (stations online when the report was generated), the generation time and the
month-over-month changes are not figures of the month: they never make an amendment. Nor does
a field the filed version did not carry at all (a report format that gained a figure, say
"all sessions" beside the counted ones): the filed report stated nothing to amend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# (section, the field naming a row of a list section or None for a single object, the
# fields compared or None for all of them)
SECTIONS: tuple[tuple[str, str | None, tuple[str, ...] | None], ...] = (
    ("summary", None, None),
    (
        "utilization_by_county",
        "scope",
        (
            "sessions",
            "all_sessions",
            "energy_kwh",
            "time_utilization",
            "energy_utilization",
            "online_rate",
            "fault_rate",
        ),
    ),
    (
        "sharing",
        "unit_name",
        ("public_sessions", "public_kwh", "public_revenue", "member_sessions", "public_hours_open"),
    ),
    ("figures", "key", ("actual", "status")),
    ("lockouts", None, ("opened", "lifted", "open_at_end")),
)


def _rows(section: Any, key: str | None) -> dict[str | None, Mapping[str, Any]]:
    if key is None:
        return {None: section} if isinstance(section, Mapping) else {}
    if not isinstance(section, list):
        return {}
    return {row.get(key): row for row in section if isinstance(row, Mapping)}


def _order(scope: str | None) -> tuple[bool, str]:
    return (scope is not None, str(scope or ""))


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every compared figure whose value differs: section, scope (the county, unit or figure
    key; None for the report-wide sections), field, before and after (None where a row is
    new or gone). Empty when the reports agree."""
    found: list[dict[str, Any]] = []
    for section, key, fields in SECTIONS:
        old, new = _rows(before.get(section), key), _rows(after.get(section), key)
        for scope in sorted(old.keys() | new.keys(), key=_order):
            a, b = old.get(scope, {}), new.get(scope, {})
            names = fields if fields is not None else sorted(a.keys() | b.keys())
            for name in names:
                if a and b and name not in a:
                    continue  # the filed row did not carry this field: nothing to amend
                if a.get(name) != b.get(name):
                    found.append(
                        {
                            "section": section,
                            "scope": scope,
                            "field": name,
                            "before": a.get(name),
                            "after": b.get(name),
                        }
                    )
    return found
