"""Scoped accounts and keys over real HTTP and PostgreSQL: a county-scoped (or owner-unit-
scoped) principal sees only its stations and their transactions, gets 404 for any other
station as if it did not exist (detail, registry, commands), and 403 on every route that is not
scope-aware. The SQL filter is checked against `Scope.covers`. Billing, monitoring, sharing and
the live feed for scoped principals: test_scopes_more.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from csms.bootstrap import Running
from csms.domain.scope import Scope
from csms.store.stations import StationStore
from tests.conftest import Api
from tests.integration.test_api_fuzz import billed_session

SHUO, PING = "朔城区", "平鲁区"
STATIONS = {
    "SC-1": {"county": SHUO},
    "SC-2": {"county": SHUO, "owner_unit": "U-SC"},
    "PL-1": {"county": PING, "owner_unit": "U-PL"},
    "NO-1": {},
}
PASSWORD = "a-long-enough-password"
WHOLE_NETWORK = "this needs a whole-network account"
Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def network(api: Api, csms: Running) -> dict[str, int]:
    """Four stations in two counties (one in none) and a transaction on each; their ids."""
    for station_id, metadata in STATIONS.items():
        r = await api.post("/api/v1/stations", json={"id": station_id, **metadata})
        assert r.status_code == 201, r.text
    assert (await api.post("/api/v1/tokens", json={"id_token": "SCOPE-T"})).status_code == 201
    return {
        station_id: await billed_session(csms, station_id, "SCOPE-T") for station_id in STATIONS
    }


def as_key(api: Api, key: str) -> Send:
    async def send(method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"}
        return await api.client.request(method, path, headers=headers, **kw)

    return send


async def scoped_key(api: Api, scope: dict[str, Any], role: str = "operator") -> Send:
    body = {"name": "scoped", "role": role, "scope": scope}
    r = await api.post("/api/v1/keys", role="admin", json=body)
    assert r.status_code == 201, r.text
    return as_key(api, r.json()["key"])


async def signed_in(api: Api, csms: Running, scope: dict[str, Any]) -> tuple[Send, Any]:
    """A scoped operator's browser session: (send, close)."""
    body = {"login": "county-op", "role": "operator", "password": PASSWORD, "scope": scope}
    assert (await api.post("/api/v1/users", role="admin", json=body)).status_code == 201
    tab = httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}", timeout=30)
    r = await tab.post("/api/v1/session", json={"login": "county-op", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == {"counties": [SHUO], "owner_unit": None}
    token = r.json()["csrf_token"]

    async def send(method: str, path: str, **kw: Any) -> httpx.Response:
        return await tab.request(method, path, headers={"X-CSRF-Token": token}, **kw)

    return send, tab.aclose


def ids(r: httpx.Response, key: str = "id") -> list[Any]:
    assert r.status_code == 200, r.text
    return sorted(row[key] for row in r.json())


def not_found(r: httpx.Response, station_id: str) -> None:
    assert r.status_code == 404, r.text
    assert r.json() == {"error": "not_found", "detail": f"station {station_id} does not exist"}


async def sees_only_its_county(send: Send, tx: dict[str, int]) -> None:
    """What a principal scoped to 朔城区 may and may not do."""
    assert ids(await send("GET", "/api/v1/stations")) == ["SC-1", "SC-2"]
    assert ids(await send("GET", "/api/v1/stations", params={"county": PING})) == []
    assert (await send("GET", "/api/v1/stations/SC-1")).json()["county"] == SHUO
    for station_id in ("PL-1", "NO-1", "NO-SUCH"):  # another county's is as absent as none
        not_found(await send("GET", f"/api/v1/stations/{station_id}"), station_id)
        not_found(await send("GET", f"/api/v1/stations/{station_id}/registry"), station_id)
        r = await send("POST", f"/api/v1/stations/{station_id}/commands/clear-cache", json={})
        not_found(r, station_id)
        r = await send("POST", f"/api/v1/stations/{station_id}/ocpp/ClearCache", json={})
        not_found(r, station_id)
        r = await send("POST", f"/api/v1/stations/{station_id}/commands/no-such", json={})
        not_found(r, station_id)
    assert (await send("GET", "/api/v1/stations/SC-1/registry")).status_code == 200
    # its own station gets the command: offline here, so 409 from the command service
    r = await send("POST", "/api/v1/stations/SC-1/commands/clear-cache", json={})
    assert r.status_code == 409 and r.json()["error"] == "station_offline", r.text
    # transactions of its stations only
    assert ids(await send("GET", "/api/v1/transactions")) == sorted([tx["SC-1"], tx["SC-2"]])
    r = await send("GET", "/api/v1/transactions", params={"station_id": "PL-1"})
    assert ids(r) == []
    assert (await send("GET", f"/api/v1/transactions/{tx['SC-2']}")).status_code == 200
    r = await send("GET", f"/api/v1/transactions/{tx['PL-1']}")
    assert r.status_code == 404 and r.json()["detail"] == f"transaction {tx['PL-1']} does not exist"
    # every route that is not scope-aware refuses it, reads and writes alike (the scope-aware
    # billing, monitoring and sharing routes: test_scopes_more.py)
    for method, path, body in (
        ("GET", "/api/v1/tokens", None),
        ("GET", "/api/v1/tokens/SCOPE-T", None),
        ("POST", "/api/v1/tokens", {"id_token": "SCOPED-NEW"}),
        ("GET", "/api/v1/audit", None),
        ("GET", "/api/v1/reports/monthly", None),
        ("POST", "/api/v1/monitoring/utilization/rollup", {"since": "2025-01-01"}),
        ("POST", "/api/v1/tariffs", {"tariff_id": "X", "name": "x"}),
        ("POST", "/api/v1/units", {"unit_id": "X", "name": "x", "kind": "agency"}),
        ("PUT", "/api/v1/calendar", {}),
        ("GET", "/api/v1/platforms", None),
        ("PATCH", "/api/v1/stations/SC-1", {"notes": "n"}),
        ("POST", "/api/v1/stations/SC-1/block", None),
        ("DELETE", "/api/v1/tokens/SCOPE-T", None),
    ):
        r = await send(method, path, json=body)
        assert r.status_code == 403 and r.json()["detail"] == WHOLE_NETWORK, (path, r.text)


async def test_a_county_scoped_user(api: Api, csms: Running, network: dict[str, int]) -> None:
    send, close = await signed_in(api, csms, {"counties": [SHUO]})
    try:
        await sees_only_its_county(send, network)
    finally:
        await close()


async def test_a_county_scoped_key(api: Api, network: dict[str, int]) -> None:
    send = await scoped_key(api, {"counties": [SHUO]})
    await sees_only_its_county(send, network)
    listed = (await api.get("/api/v1/keys", role="admin")).json()
    assert [k["scope"] for k in listed if k["name"] == "scoped"] == [
        {"counties": [SHUO], "owner_unit": None}
    ]


async def test_an_owner_unit_scoped_key(api: Api, network: dict[str, int]) -> None:
    send = await scoped_key(api, {"owner_unit": "U-PL"}, role="viewer")
    assert ids(await send("GET", "/api/v1/stations")) == ["PL-1"]
    assert ids(await send("GET", "/api/v1/transactions")) == [network["PL-1"]]
    not_found(await send("GET", "/api/v1/stations/SC-2"), "SC-2")
    # the role still counts: a viewer sends no command, in scope or not
    r = await send("POST", "/api/v1/stations/PL-1/commands/clear-cache", json={})
    assert r.status_code == 403 and "operator role" in r.json()["detail"]


async def test_whole_network_principals_are_unchanged(api: Api, network: dict[str, int]) -> None:
    assert ids(await api.get("/api/v1/stations")) == sorted(STATIONS)
    assert ids(await api.get("/api/v1/transactions")) == sorted(network.values())
    not_found(await api.get("/api/v1/stations/NO-SUCH"), "NO-SUCH")
    r = await api.post("/api/v1/stations/SC-1/commands/clear-cache", json={})
    assert r.status_code == 409, r.text
    r = await api.post("/api/v1/keys", role="admin", json={"name": "k", "role": "viewer"})
    assert r.json()["scope"] is None


async def test_the_sql_filter_agrees_with_covers(csms: Running, network: dict[str, int]) -> None:
    store = StationStore(csms.pool)
    rows = await store.search(limit=1000)
    for scope in (
        Scope((SHUO,)),
        Scope((PING,)),
        Scope((SHUO, PING)),
        Scope(("怀仁市",)),
        Scope(owner_unit="U-PL"),
        Scope(owner_unit="U-SC"),
        Scope(owner_unit="U-none"),
    ):
        expected = sorted(r["id"] for r in rows if scope.covers(r))
        assert sorted(r["id"] for r in await store.search(scope=scope, limit=1000)) == expected
        for row in rows:
            found = await store.get(row["id"], scope=scope)
            assert (found is not None) == scope.covers(row), (scope, row["id"])
            assert await store.in_scope(row["id"], scope) == scope.covers(row)
    assert sorted(r["id"] for r in await store.search(scope=None, limit=1000)) == sorted(STATIONS)
