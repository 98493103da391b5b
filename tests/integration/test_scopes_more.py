"""The scope-aware billing, monitoring and sharing routes over real HTTP and PostgreSQL.

A county-scoped account (a signed-in user or a key) reads and acts on the bills, CDRs,
reviews, settlement, commands, messages, lockouts, live state, utilization, plan progress and
live events of its own stations, and gets 404 for another county's as if they did not exist;
its figures (settlement totals, utilization, live counts, progress) are those of its stations
only. An owner-unit account manages its own unit and no other; a county account reads the
units of its counties and changes none. See csms/api/scope.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from csms.bootstrap import Running
from csms.clock import isoformat, utcnow
from csms.domain.scope import Scope
from csms.errors import NotFound
from csms.store.sharing import SharingStore
from tests.conftest import Api
from tests.integration.test_api_fuzz import FLAT_TARIFF
from tests.integration.test_scopes import PASSWORD, PING, SHUO, STATIONS, ids, not_found
from tests.ocpp_client import open_client

MINE, THEIRS = ("SC-1", "SC-2"), ("PL-1", "NO-1")
UNITS = {"U-SC": SHUO, "U-PL": PING}


def ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


@dataclass
class Caller:
    """A scoped account's requests: with its key, or in its signed-in browser session."""

    client: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)

    async def __call__(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=self.headers, **kw)

    def stream(self, path: str, **kw: Any) -> AbstractAsyncContextManager[httpx.Response]:
        return self.client.stream("GET", path, headers=self.headers, **kw)


async def scoped_key(api: Api, scope: dict[str, Any], role: str = "operator") -> Caller:
    body = {"name": "scoped", "role": role, "scope": scope}
    key = ok(await api.post("/api/v1/keys", role="admin", json=body))["key"]
    return Caller(api.client, {"Authorization": f"Bearer {key}"})


def forbidden(r: httpx.Response, words: str) -> None:
    assert r.status_code == 403, r.text
    assert words in r.json()["detail"], r.text


async def session(csms: Running, station_id: str, start: datetime) -> int:
    """A finished 1.6 session of 10 kWh from `start`, an hour long; its transaction id."""
    cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
    await cp.call("BootNotification", {"chargePointVendor": "F", "chargePointModel": "Z"})
    started = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "SCOPE-T", "meterStart": 1000, "timestamp": isoformat(start)},
    )
    tx: int = started["transactionId"]
    stop = {"transactionId": tx, "meterStop": 11_000, "idTag": "SCOPE-T"}
    await cp.call("StopTransaction", {**stop, "timestamp": isoformat(start + timedelta(hours=1))})
    await cp.call("FirmwareStatusNotification", {"status": "Idle"})  # a message of its own
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    await cp.call("StatusNotification", status)
    await cp.close()
    return tx


@pytest.fixture
async def world(api: Api, csms: Running) -> dict[str, dict[str, int]]:
    """Two units, the four stations of test_scopes, and on each station a session held for
    review (no tariff then) and a billed one (the network tariff): their transaction ids."""
    for unit_id, county in UNITS.items():
        body = {"unit_id": unit_id, "name": unit_id, "kind": "enterprise", "county": county}
        ok(await api.post("/api/v1/units", json=body))
    for station_id, metadata in STATIONS.items():
        ok(await api.post("/api/v1/stations", json={"id": station_id, **metadata}))
    ok(await api.post("/api/v1/tokens", json={"id_token": "SCOPE-T"}))
    now = utcnow()
    held = {s: await session(csms, s, now - timedelta(days=2)) for s in STATIONS}
    ok(await api.post("/api/v1/tariffs", json=FLAT_TARIFF))
    assignment = {"tariff_id": "FZ-TF", "scope": "network", "effective_from": "2020-01-01T00:00Z"}
    ok(await api.post("/api/v1/tariff-assignments", json=assignment))
    billed = {s: await session(csms, s, now - timedelta(days=1)) for s in STATIONS}
    reviews = ok(await api.get("/api/v1/billing/reviews"))
    assert sorted(r["transaction_id"] for r in reviews) == sorted(held.values()), reviews
    return {"held": held, "billed": billed}


@pytest.fixture(params=["key", "user"])
async def county(request: pytest.FixtureRequest, api: Api, csms: Running) -> AsyncIterator[Caller]:
    """An operator scoped to 朔城区: a key, or a signed-in user's browser session."""
    if request.param == "key":
        yield await scoped_key(api, {"counties": [SHUO]})
        return
    user = {"login": "county-op", "role": "operator", "password": PASSWORD}
    ok(await api.post("/api/v1/users", role="admin", json={**user, "scope": {"counties": [SHUO]}}))
    base = f"http://127.0.0.1:{csms.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as tab:
        credentials = {"login": "county-op", "password": PASSWORD}
        signed = ok(await tab.post("/api/v1/session", json=credentials))
        yield Caller(tab, {"X-CSRF-Token": signed["csrf_token"]})


async def days(api: Api, before: int, after: int) -> dict[str, str]:
    """since/until local days (the CSMS time zone) around the CSMS clock's today."""
    any_day = {"since": "2020-01-01", "until": "2020-01-01"}
    zone = ZoneInfo(ok(await api.get("/api/v1/settlement", params=any_day))["time_zone"])
    today = utcnow().astimezone(zone).date()
    since, until = today - timedelta(days=before), today + timedelta(days=after)
    return {"since": since.isoformat(), "until": until.isoformat()}


# --- billing -----------------------------------------------------------------------------------


async def test_bills_and_cdrs_of_its_stations_only(
    api: Api, world: dict[str, dict[str, int]], county: Caller
) -> None:
    billed = world["billed"]
    everyone = ok(await api.get("/api/v1/cdrs", params={"limit": 1000}))
    assert sorted(c["station_id"] for c in everyone) == sorted(STATIONS)
    cdr_of = {c["station_id"]: c["id"] for c in everyone}
    mine = ok(await county("GET", "/api/v1/cdrs", params={"limit": 1000}))
    assert sorted(c["station_id"] for c in mine) == list(MINE)
    r = await county("GET", "/api/v1/cdrs", params={"station_id": "PL-1"})
    assert ok(r) == []
    for station_id in MINE:
        assert (
            ok(await county("GET", f"/api/v1/cdrs/{cdr_of[station_id]}"))["id"]
            == (cdr_of[station_id])
        )
        bill = ok(await county("GET", f"/api/v1/transactions/{billed[station_id]}/bill"))
        assert [c["id"] for c in bill["cdrs"]] == [cdr_of[station_id]]
    for station_id in THEIRS:
        cdr, tx = cdr_of[station_id], billed[station_id]
        r = await county("GET", f"/api/v1/cdrs/{cdr}")
        assert r.status_code == 404 and r.json()["detail"] == f"CDR {cdr} does not exist"
        r = await county("GET", f"/api/v1/transactions/{tx}/bill")
        assert r.status_code == 404 and r.json()["detail"] == f"transaction {tx} does not exist"
        # corrections of another county's bills are refused as if the bill did not exist
        r = await county("POST", f"/api/v1/cdrs/{cdr}/credit", json={"note": "n"})
        assert r.status_code == 404 and r.json()["detail"] == f"CDR {cdr} does not exist"
        r = await county("POST", f"/api/v1/transactions/{tx}/rebill", json={"note": "n"})
        assert r.status_code == 404 and r.json()["detail"] == f"transaction {tx} does not exist"
    # ... and nothing was filed for them
    assert len(ok(await api.get("/api/v1/cdrs", params={"limit": 1000}))) == len(STATIONS)
    # its own bills it corrects
    credit = ok(await county("POST", f"/api/v1/cdrs/{cdr_of['SC-1']}/credit", json={"note": "n"}))
    assert credit["kind"] == "credit" and credit["corrects"] == cdr_of["SC-1"]
    rebilled = ok(
        await county("POST", f"/api/v1/transactions/{billed['SC-2']}/rebill", json={"note": "n"})
    )
    assert [c["kind"] for c in rebilled] == ["credit", "rebill"]
    assert all(c["created_by"].startswith(("key:", "user:")) for c in [credit, *rebilled])
    # the tariff its stations bill by it reads; the catalogue is whole-network
    assert ok(await county("GET", "/api/v1/stations/SC-1/tariff"))["tariff_id"] == "FZ-TF"
    not_found(await county("GET", "/api/v1/stations/PL-1/tariff"), "PL-1")
    forbidden(await county("GET", "/api/v1/tariffs"), "whole-network")


async def test_the_review_queue_of_its_stations_only(
    api: Api, world: dict[str, dict[str, int]], county: Caller
) -> None:
    held = world["held"]
    queue = ok(await county("GET", "/api/v1/billing/reviews"))
    assert sorted(r["station_id"] for r in queue) == list(MINE)
    assert sorted(r["transaction_id"] for r in queue) == sorted(held[s] for s in MINE)
    for station_id in THEIRS:
        tx = held[station_id]
        for verb in ("approve", "void"):
            r = await county("POST", f"/api/v1/billing/reviews/{tx}/{verb}", json={"note": "n"})
            assert r.status_code == 404, r.text
            assert r.json()["detail"] == f"transaction {tx} is not in the review queue"
    still = ok(await api.get("/api/v1/billing/reviews"))
    assert sorted(r["transaction_id"] for r in still) == sorted(held.values())
    approved = ok(
        await county("POST", f"/api/v1/billing/reviews/{held['SC-1']}/approve", json={"note": "a"})
    )
    assert approved["transaction_id"] == held["SC-1"] and approved["kind"] == "bill"
    voided = ok(
        await county("POST", f"/api/v1/billing/reviews/{held['SC-2']}/void", json={"note": "v"})
    )
    assert voided["status"] == "voided"
    assert ok(await county("GET", "/api/v1/billing/reviews")) == []
    left = ok(await api.get("/api/v1/billing/reviews"))
    assert sorted(r["station_id"] for r in left) == sorted(THEIRS)


async def test_settlement_sums_its_stations_only(
    api: Api, csms: Running, world: dict[str, dict[str, int]], county: Caller
) -> None:
    everyone = ok(await api.get("/api/v1/cdrs", params={"limit": 1000}))
    expected = sum(Decimal(c["total"]) for c in everyone if c["station_id"] in MINE)
    everything = sum(Decimal(c["total"]) for c in everyone)
    assert 0 < expected < everything
    params = {**await days(api, 5, 1), "group": "owner"}
    whole = ok(await api.get("/api/v1/settlement", params=params))
    assert Decimal(whole["totals"]["total"]) == everything
    mine = ok(await county("GET", "/api/v1/settlement", params=params))
    assert Decimal(mine["totals"]["total"]) == expected
    assert mine["totals"]["sessions"] == len(MINE)
    # its rows are its owner units' (SC-1 has none), and the statement reconciles
    assert sorted(str(row["key"]) for row in mine["rows"]) == ["None", "U-SC"], mine["rows"]
    reconciliation = mine["reconciliation"]
    assert reconciliation["balanced"] is True, reconciliation
    assert reconciliation["cdr_total"] == mine["totals"]["total"] == str(expected)
    assert reconciliation["cdr_records"] == len(MINE)
    assert reconciliation["sessions_in_review"] == len(MINE), reconciliation
    assert whole["reconciliation"]["sessions_in_review"] == len(STATIONS)
    csv = await county("GET", "/api/v1/settlement", params={**params, "format": "csv"})
    assert csv.status_code == 200 and "U-PL" not in csv.text and "U-SC" in csv.text


# --- monitoring --------------------------------------------------------------------------------


async def test_commands_messages_and_lockouts_of_its_stations_only(
    api: Api, world: dict[str, dict[str, int]], county: Caller
) -> None:
    for station_id in STATIONS:  # offline: logged all the same
        r = await api.post(f"/api/v1/stations/{station_id}/commands/clear-cache", json={})
        assert r.status_code == 409, r.text
    assert sorted(c["station_id"] for c in ok(await api.get("/api/v1/commands"))) == sorted(
        STATIONS
    )
    assert sorted(c["station_id"] for c in ok(await county("GET", "/api/v1/commands"))) == list(
        MINE
    )
    assert ok(await county("GET", "/api/v1/commands", params={"station_id": "PL-1"})) == []
    # messages
    messages = ok(await county("GET", "/api/v1/stations/SC-1/messages"))
    assert [m["action"] for m in messages] == ["FirmwareStatusNotification"] * 2
    for station_id in (*THEIRS, "NO-SUCH"):
        not_found(await county("GET", f"/api/v1/stations/{station_id}/messages"), station_id)
    # lockouts
    ok(await api.post("/api/v1/stations/PL-1/lockout", json={"hazard": "cable"}))
    mine = ok(await county("POST", "/api/v1/stations/SC-1/lockout", json={"hazard": "water"}))
    assert mine["station_id"] == "SC-1" and mine["open"]
    assert ids(await county("GET", "/api/v1/lockouts"), "station_id") == ["SC-1"]
    assert ids(await api.get("/api/v1/lockouts"), "station_id") == ["PL-1", "SC-1"]
    assert ids(await county("GET", "/api/v1/stations/SC-1/lockouts"), "station_id") == ["SC-1"]
    for station_id in THEIRS:
        not_found(await county("GET", f"/api/v1/stations/{station_id}/lockouts"), station_id)
        r = await county("POST", f"/api/v1/stations/{station_id}/lockout", json={"hazard": "h"})
        not_found(r, station_id)
        body = {"rectification": "r"}
        r = await county("POST", f"/api/v1/stations/{station_id}/lockout/lift", json=body)
        not_found(r, station_id)
    assert ok(await api.get("/api/v1/lockouts", params={"open": True}))[0]["station_id"] in (
        "PL-1",
        "SC-1",
    )
    live = ok(await county("GET", "/api/v1/monitoring/live"))
    assert live["stations"] == {"total": 2, "online": 0, "offline": 2, "locked": 1}, live
    whole = ok(await api.get("/api/v1/monitoring/live"))
    assert whole["stations"] == {"total": 4, "online": 0, "offline": 4, "locked": 2}, whole
    assert sum(live["connectors"].values()) == 2 and sum(whole["connectors"].values()) == 4
    on_map = ok(await county("GET", "/api/v1/monitoring/map"))["stations"]
    assert {s["id"]: s["state"] for s in on_map} == {"SC-1": "locked", "SC-2": "offline"}
    assert len(ok(await api.get("/api/v1/monitoring/map"))["stations"]) == len(STATIONS)
    lifted = ok(
        await county("POST", "/api/v1/stations/SC-1/lockout/lift", json={"rectification": "dry"})
    )
    assert lifted["open"] is False
    assert ok(await county("GET", "/api/v1/monitoring/live"))["stations"]["locked"] == 0


async def test_utilization_of_its_stations_only(
    api: Api, csms: Running, world: dict[str, dict[str, int]], county: Caller
) -> None:
    span = await days(api, 3, 0)
    ok(await api.post("/api/v1/monitoring/utilization/rollup", json=span))
    for by in ("station", "county", "category"):
        params = {**span, "by": by, "granularity": "total"}
        whole = ok(await api.get("/api/v1/monitoring/utilization", params=params))
        mine = ok(await county("GET", "/api/v1/monitoring/utilization", params=params))
        if by == "station":
            assert sorted(r["station_id"] for r in mine["rows"]) == list(MINE)
            expected = [r for r in whole["rows"] if r["station_id"] in MINE]
        elif by == "county":
            assert [r["county"] for r in mine["rows"]] == [SHUO]
            expected = [r for r in whole["rows"] if r["county"] == SHUO]
        else:
            expected = mine["rows"]  # the categories of its stations (none here)
        for name in ("sessions", "stations", "connectors"):
            assert mine["totals"][name] == sum(r[name] for r in expected), (by, name)
        assert Decimal(mine["totals"]["kwh"]) == sum(Decimal(r["kwh"]) for r in expected)
        assert mine["totals"]["stations"] == 2 and whole["totals"]["stations"] == 4
        assert mine["totals"]["sessions"] == 2 * len(MINE) < whole["totals"]["sessions"]


async def test_plan_progress_of_its_counties_only(
    api: Api, world: dict[str, dict[str, int]], county: Caller
) -> None:
    whole = ok(await api.get("/api/v1/monitoring/progress"))
    mine = ok(await county("GET", "/api/v1/monitoring/progress"))
    assert mine["figures"], "the plan has figures for 朔城区"
    assert {(f["scope"], f["subject"]) for f in mine["figures"]} == {("county", SHUO)}
    by_key = {f["key"]: f for f in whole["figures"]}
    expected = [f for f in whole["figures"] if f["scope"] == "county" and f["subject"] == SHUO]
    assert mine["figures"] == expected
    assert all(by_key[f["key"]] == f for f in mine["figures"])
    assert sum(mine["by_status"].values()) == len(mine["figures"]) < len(whole["figures"])
    assert mine["plan"] == whole["plan"]


async def test_an_owner_unit_account_has_no_plan_progress(
    api: Api, world: dict[str, dict[str, int]]
) -> None:
    send = await scoped_key(api, {"owner_unit": "U-PL"}, role="viewer")
    forbidden(await send("GET", "/api/v1/monitoring/progress"), "counted per county")
    live = ok(await send("GET", "/api/v1/monitoring/live"))
    assert live["stations"]["total"] == 1
    assert ids(await send("GET", "/api/v1/cdrs"), "station_id") == ["PL-1"]


async def next_station_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    """The next event's data from an SSE stream."""
    async for line in lines:
        if line.startswith("data: "):
            event: dict[str, Any] = json.loads(line.removeprefix("data: "))
            return event
    raise AssertionError("the feed ended")


async def test_the_live_feed_carries_its_stations_only(
    api: Api, csms: Running, world: dict[str, dict[str, int]], county: Caller
) -> None:
    kw: dict[str, Any] = {"params": {"types": "station.connected"}}
    whole = Caller(api.client, api.headers("viewer"))
    async with (
        whole.stream("/api/v1/events", **kw) as everyone,
        county.stream("/api/v1/events", **kw) as mine,
    ):
        assert everyone.status_code == 200 and mine.status_code == 200
        all_lines, my_lines = everyone.aiter_lines(), mine.aiter_lines()
        for station_id in ("PL-1", "NO-1", "SC-2"):
            cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
            seen = await asyncio.wait_for(next_station_event(all_lines), 10)
            assert seen["station_id"] == station_id
            await cp.close()
        # the scoped feed skipped PL-1 and NO-1: its first event is SC-2's
        first = await asyncio.wait_for(next_station_event(my_lines), 10)
        assert first["station_id"] == "SC-2", first


# --- sharing -----------------------------------------------------------------------------------


async def test_an_owner_unit_account_manages_its_own_unit_only(
    api: Api, world: dict[str, dict[str, int]]
) -> None:
    send = await scoped_key(api, {"owner_unit": "U-SC"})
    assert [u["unit_id"] for u in ok(await send("GET", "/api/v1/units"))] == ["U-SC"]
    detail = ok(await send("GET", "/api/v1/units/U-SC"))
    assert [s["id"] for s in detail["stations"]] == ["SC-2"]
    members = {"members": [{"kind": "token", "value": "SCOPE-T"}]}
    schedule = {
        "effective_from": "2024-01-01",
        "windows": [{"days": ["sat", "sun"], "start": "08:00", "end": "20:00"}],
    }
    absent = "unit 'U-PL' does not exist"
    for method, path, body in (
        ("GET", "/api/v1/units/U-PL", None),
        ("PATCH", "/api/v1/units/U-PL", {"name": "mine now"}),
        ("PUT", "/api/v1/units/U-PL/members", members),
        ("GET", "/api/v1/units/U-PL/schedules", None),
        ("POST", "/api/v1/units/U-PL/schedules", schedule),
        ("DELETE", "/api/v1/units/U-PL/schedules/1", None),
        ("GET", "/api/v1/units/U-PL/report?month=2025-01", None),
    ):
        r = await send(method, path, json=body)
        assert r.status_code == 404 and r.json()["detail"] == absent, (method, path, r.text)
    assert ok(await api.get("/api/v1/units/U-PL"))["name"] == "U-PL"
    assert ok(await send("PATCH", "/api/v1/units/U-SC", json={"name": "renamed"}))["name"] == (
        "renamed"
    )
    assert (
        ok(await send("PUT", "/api/v1/units/U-SC/members", json=members))["members"]
        == (members["members"])
    )
    added = ok(await send("POST", "/api/v1/units/U-SC/schedules", json=schedule))
    assert [s["id"] for s in ok(await send("GET", "/api/v1/units/U-SC/schedules"))] == [added["id"]]
    assert ok(await send("GET", "/api/v1/units/U-SC/report?month=2025-01"))["unit_id"] == "U-SC"
    # its station's access: set and read; another's is absent, and no other unit may be named
    body = {"access_mode": "shared", "unit_id": "U-SC"}
    assert ok(await send("PUT", "/api/v1/stations/SC-2/access", json=body))["access_mode"] == (
        "shared"
    )
    assert ok(await send("GET", "/api/v1/stations/SC-2/access"))["unit_id"] == "U-SC"
    not_found(await send("GET", "/api/v1/stations/PL-1/access"), "PL-1")
    not_found(await send("PUT", "/api/v1/stations/PL-1/access", json=body), "PL-1")
    r = await send("PUT", "/api/v1/stations/SC-2/access", json={**body, "unit_id": "U-PL"})
    assert r.status_code == 422 and "'U-PL' does not exist" in r.json()["detail"], r.text
    assert ok(await send("GET", "/api/v1/calendar"))  # the holiday calendar: every account
    forbidden(await send("PUT", "/api/v1/calendar", json={}), "whole-network")


async def test_a_county_account_reads_its_counties_units(
    api: Api, world: dict[str, dict[str, int]], county: Caller
) -> None:
    ok(await api.post("/api/v1/units", json={"unit_id": "U-X", "name": "x", "kind": "other"}))
    ok(await api.patch("/api/v1/stations/SC-1", json={"owner_unit": "U-X"}))
    # U-SC is registered in 朔城区; U-X owns a station there; U-PL neither
    assert [u["unit_id"] for u in ok(await county("GET", "/api/v1/units"))] == ["U-SC", "U-X"]
    detail = ok(await county("GET", "/api/v1/units/U-X"))
    assert [s["id"] for s in detail["stations"]] == ["SC-1"]
    r = await county("GET", "/api/v1/units/U-PL")
    assert r.status_code == 404 and r.json()["detail"] == "unit 'U-PL' does not exist"
    assert ok(await county("GET", "/api/v1/units/U-SC/schedules")) == []
    for method, path, body in (
        ("PATCH", "/api/v1/units/U-SC", {"name": "n"}),
        ("PUT", "/api/v1/units/U-SC/members", {"members": []}),
        ("POST", "/api/v1/units/U-SC/schedules", {"effective_from": "2024-01-01", "windows": []}),
    ):
        forbidden(await county(method, path, json=body), "does not change them")
    forbidden(await county("GET", "/api/v1/units/U-SC/report?month=2025-01"), "outside")
    # the access of its own stations it sets; giving one to another unit is whole-network
    body = {"access_mode": "private", "unit_id": "U-X"}
    assert ok(await county("PUT", "/api/v1/stations/SC-1/access", json=body))["unit_id"] == "U-X"
    body = {"access_mode": "private", "unit_id": "U-SC"}
    forbidden(await county("PUT", "/api/v1/stations/SC-1/access", json=body), "whole-network")
    not_found(await county("PUT", "/api/v1/stations/PL-1/access", json=body), "PL-1")
    decisions = ok(await county("GET", "/api/v1/access-decisions"))
    assert {d["station_id"] for d in decisions} <= set(MINE)


async def test_the_unit_sql_filter_agrees_with_its_rule(
    api: Api, csms: Running, world: dict[str, dict[str, int]]
) -> None:
    """A unit is in a county scope when it is registered in one of the counties or owns a
    station there; in an owner-unit scope when it is that unit; always with no scope."""
    ok(await api.post("/api/v1/units", json={"unit_id": "U-0", "name": "0", "kind": "other"}))
    store = SharingStore(csms.pool)
    units = await store.units()
    stations = ok(await api.get("/api/v1/stations", params={"limit": 1000}))
    for scope in (
        Scope((SHUO,)),
        Scope((PING,)),
        Scope((SHUO, PING)),
        Scope(("怀仁市",)),
        Scope(owner_unit="U-PL"),
        Scope(owner_unit="U-0"),
        Scope(owner_unit="U-none"),
    ):

        def rule(unit: dict[str, Any], scope: Scope = scope) -> bool:
            if scope.owner_unit is not None:
                return bool(unit["unit_id"] == scope.owner_unit)
            owned = [s for s in stations if s["owner_unit"] == unit["unit_id"]]
            return unit["county"] in scope.counties or any(
                s["county"] in scope.counties for s in owned
            )

        expected = [u["unit_id"] for u in units if rule(u)]
        assert [u["unit_id"] for u in await store.units(scope=scope)] == expected, scope
        for unit in units:
            try:
                await store.unit(unit["unit_id"], scope=scope)
                found = True
            except NotFound:
                found = False
            assert found == rule(unit), (scope, unit["unit_id"])
    assert [u["unit_id"] for u in await store.units(scope=None)] == ["U-0", "U-PL", "U-SC"]
