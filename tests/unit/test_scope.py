"""Scopes: what a scope may be, which stations it covers, and the SQL condition the stores
share (tests/integration/test_scopes.py checks that PostgreSQL agrees with `covers`)."""

from __future__ import annotations

import pytest

from csms.domain.scope import Scope, scope_columns, scope_json
from csms.errors import InvalidInput
from csms.store.scope_sql import scope_args, station_in_scope

STATIONS = [
    {"id": "A", "county": "朔城区", "owner_unit": None},
    {"id": "B", "county": "平鲁区", "owner_unit": "U-1"},
    {"id": "C", "county": None, "owner_unit": "U-1"},
    {"id": "D", "county": None, "owner_unit": None},
]


def covered(scope: Scope) -> list[str]:
    return [s["id"] for s in STATIONS if scope.covers(s)]


def test_a_scope_is_counties_or_one_owner_unit() -> None:
    assert covered(Scope(("朔城区",))) == ["A"]
    assert covered(Scope(("朔城区", "平鲁区"))) == ["A", "B"]
    assert covered(Scope(owner_unit="U-1")) == ["B", "C"]
    assert covered(Scope(("怀仁市",))) == []
    for bad in (
        lambda: Scope(),
        lambda: Scope(("朔城区",), "U-1"),
        lambda: Scope(("",)),
        lambda: Scope(("x" * 65,)),
        lambda: Scope(owner_unit=""),
        lambda: Scope(tuple(f"c{i}" for i in range(101))),
    ):
        with pytest.raises(InvalidInput):
            bad()


def test_none_is_the_whole_network_and_equal_scopes_compare_equal() -> None:
    assert Scope.of(None, None) is None
    assert Scope.of([], None) is None
    assert Scope.of(["b", "a", "b"], None) == Scope.of(["a", "b"], None) == Scope(("a", "b"))
    assert scope_json(None) is None
    assert scope_json(Scope(("a",))) == {"counties": ["a"], "owner_unit": None}
    assert scope_json(Scope(owner_unit="U")) == {"counties": None, "owner_unit": "U"}
    assert scope_columns(None) == (None, None)
    assert scope_columns(Scope(("a", "b"))) == (["a", "b"], None)
    assert scope_columns(Scope(owner_unit="U")) == (None, "U")


def test_the_sql_condition_reads_its_two_parameters() -> None:
    sql = station_in_scope("s.id", 8, 9)
    assert "scope_station.id = s.id" in sql
    assert "$8::text[]" in sql and "$9::text" in sql
    assert "$1" not in sql and "$10" not in sql
    assert scope_args(None) == (None, None)
    assert scope_args(Scope(owner_unit="U-1")) == (None, "U-1")
