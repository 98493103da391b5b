"""Registry CSV import/export, places, EV registrations and plans over the real API and CLI."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from csms.monitoring.geo import wgs84_to_gcj02
from csms.monitoring.plan import default_plan_document
from csms.monitoring.registry_csv import COLUMNS
from tests.conftest import Api
from tests.integration.test_cli_and_schema import cli

HEADER = ",".join(COLUMNS)
BOM = "\ufeff"  # the export starts with one: Excel then reads UTF-8
# three stations in two counties; SC-2 has two DC connectors (the export's own spelling)
ROWS = [
    "SC-1,朔城区,北城街道,,开发区公交场站,bus_depot,开发区 1 号,39.331,112.432,40,7AC,"
    "2024-07-01,public,,sz-bus,7",
    "SC-2,朔城区,北城街道,,开发区公交场站,bus_depot,开发区 1 号,39.3312,112.4321,40,60DC;60DC,"
    "2024-09-01,public,,sz-bus,120",
    'YX-1,应县,金城镇,西关村,木塔景区,scenic_4a_plus,"木塔 ""东"" 门, 停车场",39.565,113.183,'
    "200,30DC;7AC,,public,应县文旅,yx-energy,30",
]


def registry_csv(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


async def upload(
    api: Api, path: str, content: bytes, role: str = "operator", **params: Any
) -> httpx.Response:
    headers = {**api.headers(role), "content-type": "text/csv"}
    return await api.client.post(path, content=content, headers=headers, params=params)


async def import_csv(api: Api, text: str, role: str = "operator", **params: Any) -> httpx.Response:
    return await upload(api, "/api/v1/registry/import", text.encode(), role, **params)


def refused_rows(r: httpx.Response) -> list[tuple[int, str]]:
    """The (line, column) of each problem of a 422 import refusal."""
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_input", body
    assert "nothing was stored" in body["detail"]["message"]
    rows = body["detail"]["rows"]
    assert all(set(row) == {"line", "column", "message"} for row in rows), rows
    return [(row["line"], row["column"]) for row in rows]


async def station_ids(api: Api) -> list[str]:
    return [s["id"] for s in (await api.get("/api/v1/stations")).json()]


# --- the registry ---------------------------------------------------------------------------


async def test_import_then_export_round_trips(api: Api) -> None:
    r = await import_csv(api, registry_csv(*ROWS))
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 3, "created": 3, "updated": 0, "dry_run": False}
    assert await station_ids(api) == ["SC-1", "SC-2", "YX-1"]

    export = await api.get("/api/v1/registry/export")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert "registry.csv" in export.headers["content-disposition"]
    assert export.content.startswith(b"\xef\xbb\xbf")  # a byte-order mark, for Excel
    lines = export.text.splitlines()
    assert lines[0] == BOM + HEADER
    assert sorted(lines[1:]) == sorted(ROWS)

    station = (await api.get("/api/v1/stations/SC-2")).json()
    assert (station["county"], station["site_name"], station["rated_power_kw"]) == (
        "朔城区",
        "开发区公交场站",
        "120.00",
    )
    # importing the same file again updates, and changes nothing
    r = await import_csv(api, export.text)
    assert r.json() == {"imported": 3, "created": 0, "updated": 3, "dry_run": False}
    assert (await api.get("/api/v1/registry/export")).text == export.text


async def test_update_replaces_connectors_and_normalises_counties(api: Api) -> None:
    assert (await import_csv(api, registry_csv(*ROWS))).status_code == 200
    changed = ROWS[1].rsplit(",", 1)[0] + ","  # rated power: the most powerful connector
    changed = changed.replace("60DC;60DC", "120DC").replace("朔城区", "Shuocheng District")
    r = await import_csv(api, registry_csv(changed))
    assert r.json() == {"imported": 1, "created": 0, "updated": 1, "dry_run": False}
    exported = {
        line.split(",")[0]: line
        for line in (await api.get("/api/v1/registry/export")).text.splitlines()
    }
    assert exported["SC-2"].startswith("SC-2,朔城区,")
    assert exported["SC-2"].endswith(",120DC,2024-09-01,public,,sz-bus,120")
    assert ",7AC," in exported["SC-1"]  # the other stations are untouched


async def test_dry_run_checks_and_stores_nothing(api: Api) -> None:
    r = await import_csv(api, registry_csv(*ROWS), dry_run="true")
    assert r.json() == {"imported": 3, "created": 3, "updated": 0, "dry_run": True}
    assert await station_ids(api) == []
    bad = await import_csv(api, registry_csv(ROWS[0].replace("朔城区", "Nowhere")), dry_run="true")
    assert refused_rows(bad) == [(2, "county")]


async def test_one_bad_row_stores_nothing(api: Api) -> None:
    text = registry_csv(
        ROWS[0],
        ROWS[1].replace("朔城区", "大同区", 1).replace("39.3312,112.4321", "51.5,-0.12"),
        ROWS[2].replace("30DC;7AC", "30XX"),
    )
    r = await import_csv(api, text)
    assert refused_rows(r) == [(3, "county"), (3, "latitude"), (4, "connectors")]
    messages = [row["message"] for row in r.json()["detail"]["rows"]]
    assert "unknown county '大同区'" in messages[0]
    assert "outside China" in messages[1]
    assert await station_ids(api) == []
    assert (await api.get("/api/v1/registry/export")).text.splitlines() == [BOM + HEADER]


async def test_owner_units_are_checked_against_the_database(api: Api) -> None:
    shared = ROWS[2].replace(",public,应县文旅,", ",shared,yx-gov,")
    r = await import_csv(api, registry_csv(ROWS[0], shared))
    assert refused_rows(r) == [(3, "owner_unit")]
    assert "unit 'yx-gov' does not exist" in r.json()["detail"]["rows"][0]["message"]
    assert await station_ids(api) == []

    unit = {"unit_id": "yx-gov", "name": "应县机关事务中心", "kind": "government"}
    assert (await api.post("/api/v1/units", json=unit)).status_code == 201
    assert (await import_csv(api, registry_csv(ROWS[0], shared))).status_code == 200
    access = (await api.get("/api/v1/stations/YX-1/access")).json()
    assert (access["access_mode"], access["unit_id"]) == ("shared", "yx-gov")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", [(1, "")]),
        (b"station_id,county\nSC-1,\xe6\x9c\x94\xe5\x9f\x8e\xe5\x8c\xba\n", None),
        (b"station_id\n\xff\n", [(2, "")]),  # neither UTF-8 nor GB18030
        (registry_csv(ROWS[0], ROWS[0]).encode(), [(3, "station_id")]),
    ],
)
async def test_malformed_files(api: Api, content: bytes, expected: list[Any] | None) -> None:
    r = await upload(api, "/api/v1/registry/import", content)
    rows = refused_rows(r)
    if expected is None:
        assert [column for _, column in rows] == [
            "latitude",
            "longitude",
            "connectors",
            "access_mode",
        ]
    else:
        assert rows == expected
    assert await station_ids(api) == []


async def test_a_gbk_file_imports_like_its_utf8_twin(api: Api) -> None:
    r = await upload(api, "/api/v1/registry/import", registry_csv(*ROWS).encode("gbk"))
    assert r.json() == {"imported": 3, "created": 3, "updated": 0, "dry_run": False}
    exported = (await api.get("/api/v1/registry/export")).text.removeprefix(BOM)
    assert sorted(exported.splitlines()[1:]) == sorted(ROWS)
    assert (await api.get("/api/v1/stations/YX-1/registry")).json()[
        "address"
    ] == '木塔 "东" 门, 停车场'


MINIMAL = "station_id,county,latitude,longitude,connectors,access_mode"


async def test_columns_left_out_keep_what_is_stored(api: Api) -> None:
    assert (await import_csv(api, registry_csv(*ROWS))).status_code == 200
    before = (await api.get("/api/v1/stations/YX-1/registry")).json()
    # a sheet with the required columns only: YX-1 moves and changes connectors, NEW-1 is new
    sheet = "\r\n".join(
        [MINIMAL, "YX-1,应县,39.566,113.184,60DC,public", "NEW-1,Ying County,39.5,113.1,7AC,public"]
    )
    r = await import_csv(api, sheet)
    assert r.json() == {"imported": 2, "created": 1, "updated": 1, "dry_run": False}
    after = (await api.get("/api/v1/stations/YX-1/registry")).json()
    moved = {"latitude": 39.566, "longitude": 113.184}
    connectors = [{"power_kw": "60.00", "current": "DC"}]
    # township, village, site (with its category and spaces), address, owner, operator and
    # the explicitly registered rated power (30 kW) stay as stored
    assert after == {**before, **moved, "connectors": connectors}
    new = (await api.get("/api/v1/stations/NEW-1/registry")).json()
    assert (new["county"], new["township"], new["site_name"]) == ("应县", None, None)
    assert new["rated_power_kw"] == "7.00"  # none given: its most powerful connector
    # a private station's owner: the stored one counts when the column is left out
    r = await import_csv(api, f"{MINIMAL}\r\nYX-1,应县,39.566,113.184,60DC,private\r\n")
    assert refused_rows(r) == [(2, "owner_unit")]
    assert "unit '应县文旅' does not exist" in r.json()["detail"]["rows"][0]["message"]
    r = await import_csv(api, f"{MINIMAL}\r\nNEW-1,应县,39.5,113.1,7AC,shared\r\n")
    assert refused_rows(r) == [(2, "owner_unit")]
    assert "a shared station needs its owner unit" in r.json()["detail"]["rows"][0]["message"]
    # the audit has what each import changed, per station
    audit = (await api.get("/api/v1/audit", params={"subject_id": "YX-1"})).json()
    assert [(a["action"], a["actor"].rsplit(":", 1)[-1]) for a in audit] == [
        ("registry.import", "test operator"),
        ("registry.import", "test operator"),
    ]
    assert audit[0]["detail"] == {
        "created": False,
        "changes": {
            "latitude": {"from": "39.565", "to": "39.566"},
            "longitude": {"from": "113.183", "to": "113.184"},
            "connectors": {"from": "30DC;7AC", "to": "60DC"},
        },
    }
    assert audit[1]["detail"]["created"] is True
    assert audit[1]["detail"]["changes"]["county"] == {"from": None, "to": "应县"}


async def test_station_location_in_wgs84_and_gcj02(api: Api) -> None:
    assert (await import_csv(api, registry_csv(*ROWS))).status_code == 200
    r = await api.get("/api/v1/stations/YX-1/location")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["wgs84"] == {"latitude": 39.565, "longitude": 113.183}
    glat, glon = wgs84_to_gcj02(39.565, 113.183)
    assert body["gcj02"] == {"latitude": glat, "longitude": glon}
    assert body["gcj02"] != body["wgs84"]
    assert (body["county"], body["township"], body["village"]) == ("应县", "金城镇", "西关村")
    assert (await api.post("/api/v1/stations", json={"id": "BARE"})).status_code == 201
    assert (await api.get("/api/v1/stations/BARE/location")).status_code == 404
    assert (await api.get("/api/v1/stations/NOPE/location")).status_code == 404


async def test_roles(api: Api) -> None:
    r = await import_csv(api, registry_csv(*ROWS), role="viewer")
    assert r.status_code == 403
    assert await station_ids(api) == []
    for path in ("/api/v1/places/import", "/api/v1/plans"):
        assert (await api.post(path, role="viewer", json=[])).status_code == 403
    assert (await api.put("/api/v1/ev-registrations", role="viewer", json=[])).status_code == 403
    for path in ("/api/v1/registry/export", "/api/v1/places", "/api/v1/plans/active"):
        assert (await api.get(path, role="viewer")).status_code == 200


# --- one station's facts -------------------------------------------------------------------

FACTS: dict[str, Any] = {
    "county": "Shuocheng District",
    "township": "北城街道",
    "village": None,
    "site_name": "开发区公交场站",
    "site_category": "bus_depot",
    "address": "开发区 1 号",
    "latitude": 39.331,
    "longitude": 112.432,
    "parking_spaces": 40,
    "connectors": [{"power_kw": 60, "current": "DC"}, {"power_kw": "7.5", "current": "AC"}],
    "commissioned_on": "2024-07-01",
    "access_mode": "public",
    "owner_unit": None,
    "operator_id": "sz-bus",
    "rated_power_kw": None,
}
# as the API shows it: decimals as exact text, to the 0.01 kW the database keeps
RECORD = {
    **FACTS,
    "station_id": "API-1",
    "county": "朔城区",
    "connectors": [
        {"power_kw": "60.00", "current": "DC"},
        {"power_kw": "7.50", "current": "AC"},
    ],
    "rated_power_kw": "60.00",
    # the pile's rated limits (T/CEC StationInfo): not registered here
    "rated_voltage_max_v": None,
    "rated_voltage_min_v": None,
    "rated_current_a": None,
}


async def test_one_stations_facts_through_the_api(api: Api) -> None:
    path = "/api/v1/stations/API-1/registry"
    assert (await api.get(path)).status_code == 404
    assert (await api.patch(path, json={"township": "x"})).status_code == 404
    r = await api.put(path, json=FACTS)
    assert r.status_code == 201, r.text
    assert r.json() == RECORD
    assert (await api.get(path)).json() == RECORD
    assert (await api.get("/api/v1/stations/API-1")).json()["county"] == "朔城区"
    # the CSV export has the same record
    export = (await api.get("/api/v1/registry/export")).text.splitlines()
    assert export[1] == (
        "API-1,朔城区,北城街道,,开发区公交场站,bus_depot,开发区 1 号,39.331,112.432,40,"
        "60DC;7.5AC,2024-07-01,public,,sz-bus,60"
    )
    # PUT sets every fact: one left out is cleared
    r = await api.put(path, json={**FACTS, "township": None, "rated_power_kw": 50})
    assert r.status_code == 200, r.text
    assert (r.json()["township"], r.json()["rated_power_kw"]) == (None, "50.00")
    # PATCH changes what it names; the rest stays
    r = await api.patch(path, json={"village": "西关村", "connectors": [{"power_kw": 120,
                                    "current": "DC"}]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json() == {
        **RECORD,
        "township": None,
        "village": "西关村",
        "connectors": [{"power_kw": "120.00", "current": "DC"}],
        "rated_power_kw": "50.00",
    }
    unit = {"unit_id": "sz-gov", "name": "朔城区机关事务中心", "kind": "government"}
    assert (await api.post("/api/v1/units", json=unit)).status_code == 201
    r = await api.patch(path, json={"access_mode": "shared", "owner_unit": "sz-gov"})
    assert r.status_code == 200, r.text
    access = (await api.get("/api/v1/stations/API-1/access")).json()
    assert (access["access_mode"], access["unit_id"]) == ("shared", "sz-gov")

    audit = (await api.get("/api/v1/audit", params={"subject_id": "API-1"})).json()
    assert [(a["action"], a["actor"].rsplit(":", 1)[-1]) for a in audit] == [
        ("registry.patch", "test operator"),
        ("registry.patch", "test operator"),
        ("registry.put", "test operator"),
        ("registry.put", "test operator"),
    ]
    assert audit[0]["detail"] == {
        "created": False,
        "changes": {
            "access_mode": {"from": "public", "to": "shared"},
            "owner_unit": {"from": None, "to": "sz-gov"},
        },
    }
    assert audit[2]["detail"]["changes"] == {
        "township": {"from": "北城街道", "to": None},
        "rated_power_kw": {"from": "60", "to": "50"},
    }
    # a PUT or PATCH that changes nothing is not an audited change
    assert (await api.patch(path, json={"village": "西关村"})).status_code == 200
    assert len((await api.get("/api/v1/audit", params={"subject_id": "API-1"})).json()) == 4


KW = "body.connectors.0.power_kw"
BAD_FACTS = [
    # the schema: types, ranges, enums (422 invalid_request, naming the field)
    ({"latitude": 91}, "invalid_request", "body.latitude"),
    ({"longitude": "east"}, "invalid_request", "body.longitude"),
    ({"connectors": []}, "invalid_request", "body.connectors"),
    ({"connectors": [{"power_kw": 0, "current": "DC"}]}, "invalid_request", KW),
    ({"connectors": [{"power_kw": 1001, "current": "DC"}]}, "invalid_request", KW),
    ({"connectors": [{"power_kw": 7.123, "current": "AC"}]}, "invalid_request", KW),
    ({"connectors": [{"power_kw": 7, "current": "HV"}]}, "invalid_request",
     "body.connectors.0.current"),
    ({"site_category": "parking"}, "invalid_request", "body.site_category"),
    ({"access_mode": "open"}, "invalid_request", "body.access_mode"),
    ({"commissioned_on": "2024-02-30"}, "invalid_request", "body.commissioned_on"),
    ({"commissioned_on": "0001-01-01"}, "invalid_request", "body.commissioned_on"),
    ({"parking_spaces": -1}, "invalid_request", "body.parking_spaces"),
    ({"rated_power_kw": 0}, "invalid_request", "body.rated_power_kw"),
    ({"township": "镇" * 101}, "invalid_request", "body.township"),
    ({"colour": "red"}, "invalid_request", "body.colour"),
    ({"county": None}, "invalid_request", "body.county"),
    # the plan's and the registry's rules (422 invalid_input, listing each field)
    ({"county": "大同区"}, "invalid_input", "county"),
    ({"latitude": 51.5, "longitude": -0.12}, "invalid_input", "latitude"),
    ({"access_mode": "private"}, "invalid_input", "owner_unit"),
    ({"access_mode": "shared", "owner_unit": "nobody"}, "invalid_input", "owner_unit"),
    ({"site_name": None}, "invalid_input", "site_category"),
    ({"address": "a\tb"}, "invalid_input", "address"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "error", "field"), BAD_FACTS)
async def test_bad_facts_are_refused_by_field(
    api: Api, change: dict[str, Any], error: str, field: str
) -> None:
    r = await api.put("/api/v1/stations/API-1/registry", json={**FACTS, **change})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == error, body
    problems = body["detail"] if error == "invalid_request" else body["detail"]["fields"]
    assert problems[0]["field"] == field, body
    assert all(p["message"] for p in problems)
    assert (await api.get("/api/v1/stations/API-1/registry")).status_code == 404


async def test_a_patch_must_leave_a_whole_record(api: Api) -> None:
    assert (await api.post("/api/v1/stations", json={"id": "BARE"})).status_code == 201
    # registered by id only: a record needs county, coordinates, connectors
    r = await api.patch("/api/v1/stations/BARE/registry", json={"township": "北城街道"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail["message"] == "4 problems in the record; nothing was stored"
    assert [f["field"] for f in detail["fields"]] == [
        "county",
        "latitude",
        "longitude",
        "connectors",
    ]
    assert (await api.get("/api/v1/stations/BARE/registry")).json()["township"] is None
    assert (await api.put("/api/v1/stations/A:B/registry", json=FACTS)).status_code == 422
    r = await api.put("/api/v1/stations/API-1/registry", json=FACTS)
    assert r.status_code == 201
    r = await api.patch("/api/v1/stations/API-1/registry", json={"latitude": None})
    assert r.status_code == 422 and r.json()["detail"]["fields"] == [
        {"field": "latitude", "message": "required"}
    ]
    assert (
        await api.put("/api/v1/stations/API-1/registry", json=FACTS, role="viewer")
    ).status_code == 403
    assert (
        await api.patch("/api/v1/stations/API-1/registry", json={}, role="viewer")
    ).status_code == 403
    assert (await api.get("/api/v1/stations/API-1/registry", role="viewer")).status_code == 200


# --- places ---------------------------------------------------------------------------------

PLACES = "\n".join(
    [
        "kind,name,county,township,latitude,longitude,small_car_spaces",
        "highway_service_area,朔州服务区,朔城区,,39.30,112.40,120",
        "township_seat,金城镇,Ying County,金城镇,39.56,113.18,",
        "village,西关村,应县,金城镇,39.57,113.17,",
    ]
)


async def test_places_import_and_list(api: Api) -> None:
    r = await upload(api, "/api/v1/places/import", PLACES.encode())
    assert r.json() == {"imported": 3, "created": 3, "updated": 0, "removed": 0, "dry_run": False}
    places = (await api.get("/api/v1/places")).json()
    assert [(p["kind"], p["name"], p["county"]) for p in places] == [
        ("highway_service_area", "朔州服务区", "朔城区"),
        ("township_seat", "金城镇", "应县"),
        ("village", "西关村", "应县"),
    ]
    assert places[0]["small_car_spaces"] == 120 and places[0]["latitude"] == 39.3
    ying = (await api.get("/api/v1/places", params={"county": "Ying County"})).json()
    assert [p["name"] for p in ying] == ["金城镇", "西关村"]
    villages = (await api.get("/api/v1/places", params={"kind": "village"})).json()
    assert [p["name"] for p in villages] == ["西关村"]
    assert (await api.get("/api/v1/places", params={"kind": "castle"})).status_code == 422

    # JSON rows, upserted by (kind, county, name); ?replace=true drops the rest
    items = [
        {"kind": "village", "name": "西关村", "county": "应县", "latitude": 39.5,
         "longitude": 113.1, "small_car_spaces": 4},
        {"kind": "rv_camp", "name": "右玉营地", "county": "朔城区", "latitude": 39.9,
         "longitude": 112.4},
    ]  # fmt: skip
    r = await api.post("/api/v1/places/import", json=items, params={"replace": "true"})
    assert r.json() == {"imported": 2, "created": 1, "updated": 1, "removed": 2, "dry_run": False}
    places = (await api.get("/api/v1/places")).json()
    assert [(p["kind"], p["small_car_spaces"]) for p in places] == [
        ("rv_camp", None),
        ("village", 4),
    ]


async def test_bad_places_store_nothing(api: Api) -> None:
    bad = PLACES + "\ncastle,X,朔城区,,39.3,112.4,\nvillage,Y,朔城区,,-33.9,18.4,\n"
    r = await upload(api, "/api/v1/places/import", bad.encode())
    assert refused_rows(r) == [(5, "kind"), (6, "latitude")]
    assert (await api.get("/api/v1/places")).json() == []
    r = await api.post("/api/v1/places/import", json=[{"kind": "village", "county": "Mars"}])
    assert refused_rows(r) == [(1, "name"), (1, "county"), (1, "latitude"), (1, "longitude")]
    r = await api.client.post(
        "/api/v1/places/import",
        content=b"[{",
        headers={**api.headers("operator"), "content-type": "application/json"},
    )
    assert refused_rows(r) == [(1, "")]
    r = await api.post("/api/v1/places/import", json={"kind": "village"})
    assert refused_rows(r) == [(1, "")]
    assert (await api.get("/api/v1/places")).json() == []


# --- EV registrations -----------------------------------------------------------------------


async def test_ev_registrations(api: Api) -> None:
    counts = [
        {"county": "朔城区", "as_of": "2024-12-31", "evs": 9000},
        {"county": "Ying County", "as_of": "2024-12-31", "evs": 1200},
    ]
    r = await api.put("/api/v1/ev-registrations", json=counts)
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"county": "应县", "as_of": "2024-12-31", "evs": 1200},
        {"county": "朔城区", "as_of": "2024-12-31", "evs": 9000},
    ]
    more = [{"county": "应县", "as_of": "2024-12-31", "evs": 1300}]
    assert (await api.put("/api/v1/ev-registrations", json=more)).status_code == 200
    listed = (await api.get("/api/v1/ev-registrations", params={"county": "ying county"})).json()
    assert listed == [{"county": "应县", "as_of": "2024-12-31", "evs": 1300}]

    bad = [
        {"county": "Atlantis", "as_of": "2025-06-30", "evs": 1},
        {"county": "朔城区", "as_of": "2025-06-30", "evs": 2},
        {"county": "Shuocheng", "as_of": "2025-06-30", "evs": 3},
    ]
    r = await api.put("/api/v1/ev-registrations", json=bad)
    assert refused_rows(r) == [(1, "county"), (3, "as_of")]
    r = await api.put(
        "/api/v1/ev-registrations", json=[{"county": "应县", "as_of": "x", "evs": -1}]
    )
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert len((await api.get("/api/v1/ev-registrations")).json()) == 2


# --- plans ----------------------------------------------------------------------------------


async def test_plans(api: Api) -> None:
    active = (await api.get("/api/v1/plans/active")).json()
    assert active["plan_id"] == "shuozhou-2024-2025" and active["active"] is True
    assert active["document"] == default_plan_document()
    assert active["loaded_by"] == "default"

    other = copy.deepcopy(default_plan_document())
    other["plan"] = "大同市充电基础设施行动计划"
    other["counties"] = [
        {"name": "平城区", "name_en": "Pingcheng District", "new_public_piles": {"2025": 100}}
    ]
    r = await api.post("/api/v1/plans", json={"plan_id": "datong-2025", "document": other})
    assert r.status_code == 201, r.text
    assert (r.json()["plan_id"], r.json()["active"]) == ("datong-2025", False)
    assert (await api.get("/api/v1/plans/active")).json()["plan_id"] == "shuozhou-2024-2025"

    body = {"plan_id": "datong-2025", "document": other, "activate": True}
    r = await api.post("/api/v1/plans", json=body, role="admin")
    assert r.status_code == 200 and r.json()["active"] is True
    assert r.json()["loaded_by"] == "bootstrap-admin"
    plans = (await api.get("/api/v1/plans")).json()
    assert [(p["plan_id"], p["active"], p["name"]) for p in plans] == [
        ("datong-2025", True, "大同市充电基础设施行动计划"),
        ("shuozhou-2024-2025", False, default_plan_document()["plan"]),
    ]
    # the registry now knows the new plan's counties only
    r = await import_csv(api, registry_csv(ROWS[0]))
    assert refused_rows(r) == [(2, "county")]
    r = await import_csv(api, registry_csv(ROWS[0].replace("朔城区", "Pingcheng District")))
    assert r.status_code == 200, r.text
    assert (await api.get("/api/v1/stations/SC-1")).json()["county"] == "平城区"


async def test_broken_plans_are_listed_and_not_loaded(api: Api) -> None:
    broken = copy.deepcopy(default_plan_document())
    del broken["counties"]
    broken["city_totals"]["2024"]["new_public_piles"] = -5
    r = await api.post("/api/v1/plans", json={"plan_id": "broken", "document": broken})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert r.json()["error"] == "invalid_input" and detail["message"] == "the plan was not loaded"
    assert any("counties" in p for p in detail["problems"])
    assert any("new_public_piles" in p for p in detail["problems"])
    for body in (
        {"plan_id": "bad id!", "document": default_plan_document()},
        {"plan_id": "x", "document": []},
        {"plan_id": "x"},
    ):
        assert (await api.post("/api/v1/plans", json=body)).status_code == 422
    assert [p["plan_id"] for p in (await api.get("/api/v1/plans")).json()] == ["shuozhou-2024-2025"]


# --- the command line -----------------------------------------------------------------------


async def cli_actions(database_url: str) -> list[tuple[str, str, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT actor, action, subject_id FROM operator_actions ORDER BY subject_id, id"
        )
    finally:
        await conn.close()
    return [(r["actor"], r["action"], r["subject_id"]) for r in rows]


async def test_registry_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(registry_csv(ROWS[0], ROWS[1].replace("朔城区", "Nowhere")), encoding="utf-8")
    code, out = await cli(database_url, "registry", "import", str(bad))
    assert code == 1, out
    assert "nothing was stored" in out and "line 3, county: unknown county 'Nowhere'" in out

    good = tmp_path / "good.csv"
    good.write_text(registry_csv(*ROWS), encoding="utf-8-sig")  # with a byte-order mark
    code, out = await cli(database_url, "registry", "import", str(good), "--dry-run")
    assert code == 0, out
    assert out == (
        f"{good}: 3 stations checked, nothing stored (an import would create 3, update 0)\n"
    )
    code, out = await cli(database_url, "registry", "export")
    assert code == 0 and out.splitlines() == [BOM + HEADER]
    # the same file as Excel on Chinese Windows saves it: GBK, no byte-order mark
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(registry_csv(*ROWS).encode("gbk"))
    code, out = await cli(database_url, "registry", "import", str(gbk))
    assert code == 0 and out == f"{gbk}: 3 stations imported (3 created, 0 updated)\n", out
    exported = tmp_path / "out.csv"
    assert (await cli(database_url, "registry", "export", str(exported)))[0] == 0
    assert exported.read_bytes().startswith(b"\xef\xbb\xbf")
    assert sorted(exported.read_text(encoding="utf-8-sig").splitlines()[1:]) == sorted(ROWS)
    actions = await cli_actions(database_url)
    assert actions == [("cli", "registry.import", s) for s in ("SC-1", "SC-2", "YX-1")]

    places = tmp_path / "places.csv"
    places.write_text(PLACES, encoding="utf-8")
    code, out = await cli(database_url, "places", "import", str(places))
    assert code == 0, out
    assert out == f"{places}: 3 places imported (3 created, 0 updated, 0 removed)\n"
    code, out = await cli(database_url, "places", "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "cannot read" in out
