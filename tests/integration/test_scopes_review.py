"""Scope leaks found by an independent review of the scope-aware routes, each fixed: a county
account read the schedules (and member cards) of a unit's stations outside its counties, a
scoped operator priced a session by any tariff of the catalogue through a re-bill, the live
feed kept the scope (and the session) it opened with, a county operator could hand a station
and its billed history to another unit, and plan figures matched scope counties loosely while
stations match exactly."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from csms.api.routes import events
from csms.bootstrap import Running
from tests.conftest import Api
from tests.integration import test_scopes_more
from tests.integration.test_api_fuzz import FLAT_TARIFF
from tests.integration.test_scopes import PASSWORD, PING, SHUO
from tests.integration.test_scopes_more import next_station_event, ok, scoped_key
from tests.ocpp_client import open_client

world = test_scopes_more.world  # the fixture: two units, four stations and their sessions

SCHEDULE = {
    "effective_from": "2024-01-01",
    "windows": [{"days": ["sat", "sun"], "start": "08:00", "end": "20:00"}],
}


async def test_a_county_account_sees_only_its_stations_schedules_and_no_member_cards(
    api: Api,
) -> None:
    # U-SC is registered in 朔城区 and owns SC-2 there and PL-9 in 平鲁区
    body = {
        "unit_id": "U-SC",
        "name": "U-SC",
        "kind": "enterprise",
        "county": SHUO,
        "members": [{"kind": "token", "value": "STAFF-CARD"}],
    }
    ok(await api.post("/api/v1/units", json=body))
    for station_id, county in (("SC-2", SHUO), ("PL-9", PING)):
        station = {"id": station_id, "county": county, "owner_unit": "U-SC"}
        ok(await api.post("/api/v1/stations", json=station))
    ok(await api.post("/api/v1/units/U-SC/schedules", json={**SCHEDULE, "station_id": "PL-9"}))
    ok(await api.post("/api/v1/units/U-SC/schedules", json={**SCHEDULE, "station_id": "SC-2"}))
    whole_unit = {**SCHEDULE, "effective_from": "2030-01-01"}
    ok(await api.post("/api/v1/units/U-SC/schedules", json=whole_unit))
    send = await scoped_key(api, {"counties": [SHUO]}, role="viewer")
    assert (await send("GET", "/api/v1/stations/PL-9")).status_code == 404
    detail = ok(await send("GET", "/api/v1/units/U-SC"))
    assert [s["id"] for s in detail["stations"]] == ["SC-2"]
    assert sorted(str(s["station_id"]) for s in detail["schedules"]) == ["None", "SC-2"]
    listed = ok(await send("GET", "/api/v1/units/U-SC/schedules"))
    assert sorted(str(s["station_id"]) for s in listed) == ["None", "SC-2"]
    assert detail["members"] == []  # id tokens are whole-network data
    # the unit's own account and the whole network see all of it
    unit = await scoped_key(api, {"owner_unit": "U-SC"}, role="viewer")
    own = ok(await unit("GET", "/api/v1/units/U-SC"))
    assert len(own["schedules"]) == 3 and own["members"] == body["members"]
    assert len(ok(await api.get("/api/v1/units/U-SC/schedules"))) == 3


async def test_a_scoped_operator_cannot_re_bill_by_a_chosen_tariff(
    api: Api, world: dict[str, dict[str, int]]
) -> None:
    secret: dict[str, Any] = {**FLAT_TARIFF, "tariff_id": "SECRET-TF", "name": "secret"}
    ok(await api.post("/api/v1/tariffs", json=secret))
    send = await scoped_key(api, {"counties": [SHUO]})
    own = world["billed"]["SC-1"]  # its own station's billed session
    # refused for a known and an unknown tariff alike: the catalogue is not disclosed
    for tariff_id in ("SECRET-TF", "NOPE-TF"):
        body = {"note": "n", "tariff_id": tariff_id}
        r = await send("POST", f"/api/v1/transactions/{own}/rebill", json=body)
        assert r.status_code == 403 and "whole-network" in r.text, r.text
    # without a tariff it re-bills by the tariff in force at the start, as before
    again = await send("POST", f"/api/v1/transactions/{own}/rebill", json={"note": "n"})
    assert again.status_code == 201, again.text


async def test_the_live_feed_follows_a_changed_scope_and_ends_with_the_session(
    api: Api, csms: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "SCOPE_REFRESH_SECONDS", 0.2)
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.2)
    ok(await api.post("/api/v1/stations", json={"id": "SC-2", "county": SHUO}))
    ok(await api.post("/api/v1/stations", json={"id": "PL-1", "county": PING}))
    user = {"login": "county-op", "role": "viewer", "password": PASSWORD}
    made = ok(
        await api.post("/api/v1/users", role="admin", json={**user, "scope": {"counties": [SHUO]}})
    )
    base = f"http://127.0.0.1:{csms.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as tab:
        signed = ok(
            await tab.post("/api/v1/session", json={"login": "county-op", "password": PASSWORD})
        )
        params = {"types": "station.connected"}
        async with tab.stream("GET", "/api/v1/events", params=params) as feed:
            assert feed.status_code == 200
            lines = feed.aiter_lines()
            ok(
                await api.patch(
                    f"/api/v1/users/{made['id']}",
                    role="admin",
                    json={"scope": {"counties": [PING]}},
                )
            )
            await asyncio.sleep(0.8)  # a few refreshes of the open feed
            for station_id in ("SC-2", "PL-1"):
                cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
                await asyncio.sleep(0.3)
                await cp.close()
            first = await asyncio.wait_for(next_station_event(lines), 10)
            assert first["station_id"] == "PL-1", first
            # signed out (here by the same browser): the open feed ends by itself
            headers = {"X-CSRF-Token": signed["csrf_token"]}
            assert (await tab.delete("/api/v1/session", headers=headers)).status_code in (
                200,
                204,
            )

            async def drained() -> None:
                async for _ in lines:
                    pass

            await asyncio.wait_for(drained(), 10)


async def test_a_county_operator_cannot_give_a_station_to_another_unit(api: Api) -> None:
    for unit_id in ("U-SC", "U-X"):
        body = {"unit_id": unit_id, "name": unit_id, "kind": "other", "county": SHUO}
        ok(await api.post("/api/v1/units", json=body))
    ok(await api.post("/api/v1/stations", json={"id": "SC-2", "county": SHUO}))
    ok(
        await api.put(
            "/api/v1/stations/SC-2/access", json={"access_mode": "shared", "unit_id": "U-SC"}
        )
    )
    county_op = await scoped_key(api, {"counties": [SHUO]})
    moved = await county_op(
        "PUT", "/api/v1/stations/SC-2/access", json={"access_mode": "private", "unit_id": "U-X"}
    )
    assert moved.status_code == 403 and "whole-network" in moved.text, moved.text
    # its own station's access mode, the owner unchanged, is still its call
    kept = await county_op(
        "PUT", "/api/v1/stations/SC-2/access", json={"access_mode": "private", "unit_id": "U-SC"}
    )
    assert ok(kept)["access_mode"] == "private" and ok(kept)["unit_id"] == "U-SC"


async def test_plan_figures_match_scope_counties_as_exactly_as_stations(api: Api) -> None:
    ok(await api.post("/api/v1/stations", json={"id": "SC-1", "county": SHUO}))
    loose = await scoped_key(api, {"counties": ["shuocheng"]}, role="viewer")
    assert ok(await loose("GET", "/api/v1/stations")) == []
    assert ok(await loose("GET", "/api/v1/monitoring/progress"))["figures"] == []
    exact = await scoped_key(api, {"counties": [SHUO]}, role="viewer")
    figures = ok(await exact("GET", "/api/v1/monitoring/progress"))["figures"]
    assert figures and {f["subject"] for f in figures} == {SHUO}
