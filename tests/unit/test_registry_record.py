"""One station's registry record: completing a partial CSV row, JSON facts held to the CSV's
rules, PATCH merging, the audit's changes, and the CLI's summary line."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from csms.cli_registry import summary
from csms.monitoring.registry_csv import REQUIRED, Connector, RegistryRow
from csms.monitoring.registry_record import (
    RecordInvalid,
    as_json,
    changes,
    complete,
    from_json,
    merged,
)

COUNTIES = {"朔城区": "朔城区", "shuocheng district": "朔城区", "应县": "应县"}


def county_of(name: str) -> str | None:
    return COUNTIES.get(name.casefold())


DC60 = Connector(Decimal(60), "DC")
AC7 = Connector(Decimal(7), "AC")
STORED = RegistryRow(
    station_id="SZ-1",
    county="朔城区",
    township="北旺庄街道",
    village="东村",
    site_name="开发区公交场站",
    site_category="bus_depot",
    address="开发区 1 号",
    latitude=39.331,
    longitude=112.432,
    parking_spaces=40,
    connectors=(DC60, DC60),
    commissioned_on=date(2024, 9, 1),
    access_mode="shared",
    owner_unit="szs-gov",
    operator_id="sz-bus",
    rated_power_kw=Decimal(100),
)
# a file with the required columns only: township, rated power ... were left out
PARTIAL = RegistryRow(
    station_id="SZ-1",
    county="应县",
    township=None,
    village=None,
    site_name=None,
    site_category=None,
    address=None,
    latitude=39.5,
    longitude=113.1,
    parking_spaces=None,
    connectors=(AC7, DC60),
    commissioned_on=None,
    access_mode="shared",
    owner_unit=None,
    operator_id=None,
    rated_power_kw=None,
    line=2,
    given=REQUIRED,
)


@pytest.mark.parametrize(
    ("row", "stored", "expected"),
    [
        # every column given: the row as it is
        (STORED, None, STORED),
        # a new station: what was left out is none, its rated power its best connector (60)
        (PARTIAL, None, {"township": None, "owner_unit": None, "rated_power_kw": Decimal(60)}),
        # an existing one keeps what is stored for every column left out, and takes the rest
        (
            PARTIAL,
            STORED,
            {
                "county": "应县",
                "township": "北旺庄街道",
                "site_name": "开发区公交场站",
                "owner_unit": "szs-gov",
                "rated_power_kw": Decimal(100),
                "connectors": (AC7, DC60),
                "commissioned_on": date(2024, 9, 1),
            },
        ),
        # a station that registered by connecting has no rated power stored: the default
        (
            PARTIAL,
            dataclasses.replace(STORED, rated_power_kw=None),
            {"rated_power_kw": Decimal(60), "township": "北旺庄街道"},
        ),
    ],
)
def test_complete(
    row: RegistryRow, stored: RegistryRow | None, expected: RegistryRow | dict[str, Any]
) -> None:
    done = complete(row, stored)
    if isinstance(expected, RegistryRow):
        assert done == expected
    else:
        for name, value in expected.items():
            assert getattr(done, name) == value, name


FACTS: dict[str, Any] = {
    "county": "Shuocheng District",
    "township": "北旺庄街道",
    "village": None,
    "site_name": "开发区公交场站",
    "site_category": "bus_depot",
    "address": "开发区 1 号",
    "latitude": 39.331,
    "longitude": 112.432,
    "parking_spaces": 40,
    "connectors": [
        {"power_kw": Decimal("60.00"), "current": "DC"},
        {"power_kw": Decimal("7.5"), "current": "AC"},
    ],
    "commissioned_on": date(2024, 9, 1),
    "access_mode": "public",
    "owner_unit": None,
    "operator_id": "sz-bus",
    "rated_power_kw": None,
}


def test_from_json() -> None:
    row = from_json("SZ-9", FACTS, county_of)
    assert row == RegistryRow(
        station_id="SZ-9",
        county="朔城区",  # the plan's name
        township="北旺庄街道",
        village=None,
        site_name="开发区公交场站",
        site_category="bus_depot",
        address="开发区 1 号",
        latitude=39.331,
        longitude=112.432,
        parking_spaces=40,
        connectors=(DC60, Connector(Decimal("7.5"), "AC")),
        commissioned_on=date(2024, 9, 1),
        access_mode="public",
        owner_unit=None,
        operator_id="sz-bus",
        rated_power_kw=Decimal(60),  # none given: the most powerful connector
        line=0,
    )
    # what the API shows reads back as the same record
    shown = {k: v for k, v in as_json(row).items() if k != "station_id"}
    assert from_json("SZ-9", shown, county_of) == row


@pytest.mark.parametrize(
    ("station_id", "change", "expected"),
    [
        ("SZ-9", {"county": "Datong"}, [("county", "unknown county 'Datong'")]),
        ("SZ-9", {"county": None}, [("county", "required")]),
        ("SZ-9", {"latitude": 51.5, "longitude": -0.12}, [("latitude", "outside China")]),
        ("SZ-9", {"latitude": 112.43, "longitude": 39.33}, [("latitude", "swapped")]),
        ("SZ-9", {"connectors": []}, [("connectors", "required")]),
        ("SZ-9", {"connectors": [{"power_kw": 0, "current": "DC"}]}, [("connectors", "'0DC'")]),
        ("SZ-9", {"access_mode": "private"}, [("owner_unit", "needs its owner unit")]),
        ("SZ-9", {"site_name": None}, [("site_category", "site_name"),
                                      ("parking_spaces", "site_name")]),
        ("SZ-9", {"address": "a\tb"}, [("address", "control characters")]),
        ("SZ-9", {"parking_spaces": True}, [("parking_spaces", "expected text, a number")]),
        ("A:B", {}, [("station_id", "':'")]),
        ("SZ-9", {"county": "Mars", "latitude": None}, [("county", "unknown county"),
                                                       ("latitude", "required")]),
    ],
)  # fmt: skip
def test_from_json_refusals(
    station_id: str, change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(RecordInvalid) as refused:
        from_json(station_id, {**FACTS, **change}, county_of)
    fields = refused.value.detail["fields"]
    assert [f["field"] for f in fields] == [field for field, _ in expected]
    for found, (_, message) in zip(fields, expected, strict=True):
        assert message in found["message"], found
    count = len(expected)
    assert refused.value.detail["message"] == (
        f"{count} problem{'' if count == 1 else 's'} in the record; nothing was stored"
    )


def test_merged() -> None:
    facts = merged(STORED, {"township": "新镇", "village": None})
    assert facts["township"] == "新镇" and facts["village"] is None
    assert facts["county"] == "朔城区" and "station_id" not in facts
    assert facts["connectors"] == [{"power_kw": Decimal(60), "current": "DC"}] * 2
    with pytest.raises(RecordInvalid) as refused:
        merged(STORED, {"colour": "red"})
    assert refused.value.detail["fields"] == [{"field": "colour", "message": "not a registry fact"}]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (STORED, STORED, {}),
        (
            STORED,
            dataclasses.replace(STORED, township=None, connectors=(DC60,), latitude=39.3),
            {
                "township": {"from": "北旺庄街道", "to": None},
                "latitude": {"from": "39.331", "to": "39.3"},
                "connectors": {"from": "60DC;60DC", "to": "60DC"},
            },
        ),
        # a new station: each fact it has, from nothing
        (
            None,
            dataclasses.replace(PARTIAL, connectors=(AC7,), access_mode="public"),
            {
                "county": {"from": None, "to": "应县"},
                "latitude": {"from": None, "to": "39.5"},
                "longitude": {"from": None, "to": "113.1"},
                "connectors": {"from": None, "to": "7AC"},
                "access_mode": {"from": None, "to": "public"},
            },
        ),
    ],
)
def test_changes(
    before: RegistryRow | None, after: RegistryRow, expected: dict[str, dict[str, str | None]]
) -> None:
    assert changes(before, after) == expected


@pytest.mark.parametrize(
    ("noun", "counts", "dry_run", "line"),
    [
        (
            "station",
            {"imported": 3, "created": 2, "updated": 1},
            False,
            "registry.csv: 3 stations imported (2 created, 1 updated)",
        ),
        (
            "station",
            {"imported": 1, "created": 0, "updated": 1},
            True,
            "registry.csv: 1 station checked, nothing stored (an import would create 0, update 1)",
        ),
        (
            "place",
            {"imported": 2, "created": 1, "updated": 1, "removed": 4},
            False,
            "registry.csv: 2 places imported (1 created, 1 updated, 4 removed)",
        ),
    ],
)
def test_cli_summary(noun: str, counts: dict[str, int], dry_run: bool, line: str) -> None:
    assert summary("registry.csv", noun, counts, dry_run=dry_run) == line
