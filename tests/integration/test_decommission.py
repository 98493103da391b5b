"""Decommissioned stations and deleted id tokens, over the real API and real OCPP sockets.

A decommissioned station loses its socket, is refused at the handshake with the reason, leaves
the default lists and the live map, and keeps its history readable; re-commissioning lets it
back. A deleted token answers Invalid while its sessions keep naming it, and its id can be
created again. Both are audited.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from csms.bootstrap import Running, running
from csms.clock import isoformat, utcnow
from csms.config import UnknownTokenPolicy
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.conftest import ADMIN_TOKEN, Api, api_for, make_settings
from tests.ocpp_client import OcppClient, open_client
from tests.station_responder import DuplexStation, duplex_station

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD = "CARD-DEC-1"
REGISTER = "Energy.Active.Import.Register"
SINCE_2020 = "2020-01-01T00:00:00+08:00"


# --- helpers --------------------------------------------------------------------------------


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def problem(r: httpx.Response, status: int) -> str:
    """Assert the JSON problem body with this status; its detail as text."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error", "detail"}, body
    return str(body["detail"])


def yesterday(hour: int) -> datetime:
    day = utcnow().astimezone(SHANGHAI).date() - timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


async def booted(csms: Running, station_id: str) -> OcppClient:
    cp = await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
    answer = await cp.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    assert answer["status"] == "Accepted", answer
    return cp


async def start(cp: OcppClient, token: str, at: datetime, meter: int = 1000) -> dict[str, Any]:
    return await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": token, "meterStart": meter, "timestamp": isoformat(at)},
    )


async def charge(cp: OcppClient, token: str, at: datetime, wh: int) -> int:
    """A finished 1.6 session of an hour from `at` with one register sample; its id."""
    tx: int = (await start(cp, token, at))["transactionId"]
    sample = {"value": str(1000 + wh // 2), "measurand": REGISTER}
    await cp.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [
                {"timestamp": isoformat(at + timedelta(minutes=30)), "sampledValue": [sample]}
            ],
        },
    )
    await cp.call(
        "StopTransaction",
        {
            "transactionId": tx,
            "meterStop": 1000 + wh,
            "timestamp": isoformat(at + timedelta(hours=1)),
            "idTag": token,
        },
    )
    return tx


async def closed_by_csms(cp: OcppClient) -> tuple[int | None, str | None]:
    """Wait (bounded) for the CSMS to close the socket; its close code and reason."""
    await asyncio.wait_for(cp.ws.wait_closed(), 10)
    return cp.ws.close_code, cp.ws.close_reason


async def refused_at_handshake(csms: Running, station_id: str) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused:
        await open_client(csms.ocpp_port, station_id, ["ocpp1.6"])
    response = refused.value.response
    return response.status_code, response.body.decode() if response.body else ""


async def listed(api: Api, **params: Any) -> list[str]:
    return [s["id"] for s in ok(await api.get("/api/v1/stations", params=params))]


async def audit(api: Api, kind: str, subject: str) -> list[tuple[str, str]]:
    """(action, actor) of the subject's audited actions, oldest first."""
    rows = ok(await api.get("/api/v1/audit", params={"subject_kind": kind, "subject_id": subject}))
    return [(r["action"], r["actor"]) for r in reversed(rows)]


async def offline_reason(api: Api, station_id: str) -> str | None:
    """The station's recorded offline reason once its disconnect is written (bounded wait)."""
    async with asyncio.timeout(10):
        while True:
            station = ok(await api.get(f"/api/v1/stations/{station_id}"))
            if not station["connected"]:
                reason: str | None = station["offline_reason"]
                return reason
            await asyncio.sleep(0.05)


# --- stations -------------------------------------------------------------------------------


async def test_decommission_closes_refuses_keeps_history_and_recommission_lets_back(
    csms: Running, api: Api
) -> None:
    ok(await api.post("/api/v1/stations", json={"id": "DEC-1", "county": "朔城区"}), 201)
    ok(await api.post("/api/v1/stations", json={"id": "DEC-KEEP"}), 201)
    ok(await api.post("/api/v1/tokens", json={"id_token": CARD}), 201)
    tariff = {
        "tariff_id": "city",
        "name": "flat",
        "effective_from": SINCE_2020,
        "prices": {"flat": {"energy": "0.6000", "service": "0.6000"}},
        "plans": [{"periods": [{"start": "00:00", "end": "24:00", "band": "flat"}]}],
    }
    ok(await api.post("/api/v1/tariffs", json=tariff), 201)
    assignment = {"tariff_id": "city", "scope": "network", "effective_from": SINCE_2020}
    ok(await api.post("/api/v1/tariff-assignments", json=assignment), 201)
    cp = await booted(csms, "DEC-1")
    tx = await charge(cp, CARD, yesterday(10), 10_000)
    (cdr,) = ok(await api.get(f"/api/v1/transactions/{tx}/bill"))["cdrs"]

    for role in ("viewer", "operator"):  # decommissioning needs the admin role
        problem(await api.delete("/api/v1/stations/DEC-1", role=role), 403)
    assert cp.ws.close_code is None
    answer = ok(await api.delete("/api/v1/stations/DEC-1", params={"reason": "site demolished"}))
    assert answer["decommissioned_at"] is not None
    assert answer["decommissioned_by"] == "bootstrap-admin"
    assert answer["decommission_reason"] == "site demolished"
    assert answer["open_transactions"] == []

    # its socket is closed at once, and every reconnect is refused with the reason
    assert await closed_by_csms(cp) == (1008, "station decommissioned")
    assert await offline_reason(api, "DEC-1") == "station decommissioned"
    status, body = await refused_at_handshake(csms, "DEC-1")
    assert status == 403 and "station DEC-1 is decommissioned" in body, (status, body)

    # lists and the live map leave it out; the filter and the detail show it
    assert await listed(api) == ["DEC-KEEP"]
    assert await listed(api, county="朔城区") == []
    assert await listed(api, include_decommissioned="true") == ["DEC-1", "DEC-KEEP"]
    detail = ok(await api.get("/api/v1/stations/DEC-1"))
    assert detail["decommissioned_at"] == answer["decommissioned_at"]
    map_ids = [s["id"] for s in ok(await api.get("/api/v1/monitoring/map"))["stations"]]
    assert map_ids == ["DEC-KEEP"]
    assert ok(await api.get("/api/v1/monitoring/live"))["stations"]["total"] == 1

    # its history stays readable: the session, its samples, its CDR, its connections
    (session,) = ok(await api.get("/api/v1/transactions", params={"station_id": "DEC-1"}))
    assert session["id"] == tx and session["energy_wh"] == 10_000
    samples = ok(await api.get(f"/api/v1/transactions/{tx}"))["samples"]
    assert [s["value"] for s in samples] == ["6000"]
    assert ok(await api.get(f"/api/v1/transactions/{tx}/bill"))["cdrs"] == [cdr]
    assert ok(await api.get(f"/api/v1/cdrs/{cdr['id']}"))["transaction_id"] == tx

    # again: 409; registering the id again: 409 that says how to bring it back
    assert "already decommissioned" in problem(await api.delete("/api/v1/stations/DEC-1"), 409)
    refusal = problem(await api.post("/api/v1/stations", json={"id": "DEC-1"}), 409)
    assert "/api/v1/stations/DEC-1/recommission" in refusal

    # re-commissioned (admin only): it connects and charges again
    problem(await api.post("/api/v1/stations/DEC-1/recommission"), 403)  # operator
    back = ok(await api.post("/api/v1/stations/DEC-1/recommission", role="admin"))
    assert back["decommissioned_at"] is None and back["decommission_reason"] is None
    assert "in service" in problem(
        await api.post("/api/v1/stations/DEC-1/recommission", role="admin"), 409
    )
    cp = await booted(csms, "DEC-1")
    await charge(cp, CARD, yesterday(12), 2_000)
    await cp.close()
    assert await listed(api) == ["DEC-1", "DEC-KEEP"]
    assert await audit(api, "station", "DEC-1") == [
        ("station.decommission", "bootstrap-admin"),
        ("station.recommission", "bootstrap-admin"),
    ]


async def test_open_transaction_needs_force_and_stays_open_until_its_stop(
    csms: Running, api: Api
) -> None:
    ok(await api.post("/api/v1/tokens", json={"id_token": CARD}), 201)
    cp = await booted(csms, "DEC-OPEN")
    started = await start(cp, CARD, utcnow() - timedelta(minutes=10))
    tx = started["transactionId"]

    detail = problem(await api.delete("/api/v1/stations/DEC-OPEN"), 409)
    assert f"open transactions [{tx}]" in detail and "force=true" in detail
    assert cp.ws.close_code is None  # refused: nothing happened
    assert ok(await api.get("/api/v1/stations/DEC-OPEN"))["decommissioned_at"] is None

    answer = ok(await api.delete("/api/v1/stations/DEC-OPEN", params={"force": "true"}))
    assert answer["open_transactions"] == [tx]
    assert await closed_by_csms(cp) == (1008, "station decommissioned")
    assert ok(await api.get(f"/api/v1/transactions/{tx}"))["status"] == "open"

    # back in service, the station delivers its queued stop: the ledger closes the session
    ok(await api.post("/api/v1/stations/DEC-OPEN/recommission", role="admin"))
    cp = await booted(csms, "DEC-OPEN")
    await cp.call(
        "StopTransaction",
        {"transactionId": tx, "meterStop": 1500, "timestamp": isoformat(utcnow()), "idTag": CARD},
    )
    await cp.close()
    closed = ok(await api.get(f"/api/v1/transactions/{tx}"))
    assert closed["status"] == "closed" and closed["energy_wh"] == 500
    (decommissioned, _) = ok(await api.get("/api/v1/audit", params={"subject_id": "DEC-OPEN"}))[
        ::-1
    ]
    assert decommissioned["detail"]["force"] is True
    assert decommissioned["detail"]["open_transactions"] == [tx]


async def test_unknown_ids_are_404_and_viewers_cannot_delete(api: Api) -> None:
    assert "NOPE" in problem(await api.delete("/api/v1/stations/NOPE"), 404)
    problem(await api.post("/api/v1/stations/NOPE/recommission", role="admin"), 404)
    assert "NOPE" in problem(await api.delete("/api/v1/tokens/NOPE", role="operator"), 404)
    ok(await api.post("/api/v1/tokens", json={"id_token": "T-VIEW"}), 201)
    problem(await api.delete("/api/v1/tokens/T-VIEW", role="viewer"), 403)
    assert ok(await api.get("/api/v1/tokens/T-VIEW"))["deleted_at"] is None
    # only the creation is audited: the refused deletions left no entry
    assert [r["action"] for r in ok(await api.get("/api/v1/audit"))] == ["token.create"]


async def test_cli_decommission_reaches_the_node_holding_the_socket(database_url: str) -> None:
    """`csms stations decommission` writes the database only; the node holding the socket
    finds out at its next admin-state round (node_timeout / 3 seconds) and closes it."""
    async with running(make_settings(database_url, node_timeout=1.5)) as csms:
        cp = await booted(csms, "DEC-CLI")
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "csms", "stations", "decommission", "DEC-CLI"),
            *("--reason", "moved", "--database-url", database_url),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, out.decode()
        assert "station DEC-CLI decommissioned" in out.decode()
        assert await closed_by_csms(cp) == (1008, "station decommissioned")
        station = await csms.pool.fetchrow(
            "SELECT decommissioned_by, decommission_reason FROM stations WHERE id = 'DEC-CLI'"
        )
        assert dict(station) == {"decommissioned_by": "cli", "decommission_reason": "moved"}


async def test_decommissioned_through_another_node_loses_its_socket(database_url: str) -> None:
    """The API of node B decommissions a station whose socket is on node A: A closes it."""
    async with (
        running(make_settings(database_url, node_id="node-a", node_timeout=3)) as node_a,
        running(make_settings(database_url, node_id="node-b", node_timeout=3)) as node_b,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{node_b.http_port}") as http,
    ):
        cp = await booted(node_a, "DEC-AB")
        answer = await http.delete(
            "/api/v1/stations/DEC-AB", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert answer.status_code == 200, answer.text
        assert await closed_by_csms(cp) == (1008, "station decommissioned")
        status, _ = await refused_at_handshake(node_b, "DEC-AB")
        assert status == 403


# --- tokens ---------------------------------------------------------------------------------


async def test_deleted_token_answers_invalid_keeps_sessions_and_can_be_created_again(
    csms: Running, api: Api
) -> None:
    ok(await api.post("/api/v1/tokens", json={"id_token": CARD, "group_id": "FLEET"}), 201)
    cp = await booted(csms, "TOK-1")
    assert (await cp.call("Authorize", {"idTag": CARD}))["idTagInfo"]["status"] == "Accepted"
    tx = await charge(cp, CARD, yesterday(9), 3_000)

    deleted = ok(await api.delete(f"/api/v1/tokens/{CARD}", role="operator"))
    assert deleted["id_token"] == CARD and deleted["deleted_at"] is not None
    assert (await cp.call("Authorize", {"idTag": CARD}))["idTagInfo"] == {"status": "Invalid"}
    refused = await start(cp, CARD, utcnow())
    assert refused["idTagInfo"]["status"] == "Invalid"
    stop = {"transactionId": refused["transactionId"], "meterStop": 1000}
    await cp.call("StopTransaction", {**stop, "timestamp": isoformat(utcnow())})  # as told

    # kept for its sessions: readable, listed only on request, unusable until created again
    assert ok(await api.get(f"/api/v1/tokens/{CARD}"))["deleted_at"] == deleted["deleted_at"]
    assert ok(await api.get("/api/v1/tokens")) == []
    everything = ok(await api.get("/api/v1/tokens", params={"include_deleted": "true"}))
    assert [t["id_token"] for t in everything] == [CARD]
    sessions = ok(await api.get("/api/v1/transactions", params={"id_token": CARD}))
    assert tx in [s["id"] for s in sessions]
    problem(await api.patch(f"/api/v1/tokens/{CARD}", json={"blocked": True}), 404)
    problem(await api.post(f"/api/v1/tokens/{CARD}/block"), 404)
    assert "already deleted" in problem(
        await api.delete(f"/api/v1/tokens/{CARD}", role="operator"), 409
    )

    again = ok(await api.post("/api/v1/tokens", json={"id_token": CARD}), 201)
    assert again["deleted_at"] is None and again["group_id"] is None  # the new settings
    problem(await api.post("/api/v1/tokens", json={"id_token": CARD}), 409)
    assert (await cp.call("Authorize", {"idTag": CARD}))["idTagInfo"]["status"] == "Accepted"
    await cp.close()
    actions = await audit(api, "token", CARD)
    assert [a for a, _ in actions] == ["token.create", "token.delete", "token.recreate"]
    assert all(actor.startswith("key:") for _, actor in actions)  # the operator's key
    (deletion,) = [
        r
        for r in ok(await api.get("/api/v1/audit", params={"subject_kind": "token"}))
        if r["action"] == "token.delete"
    ]
    assert deletion["detail"]["group_id"] == "FLEET"  # what the row held before re-creation


async def test_deleted_token_is_invalid_on_a_network_accepting_unknown_tokens(
    database_url: str,
) -> None:
    """--unknown-tokens accept lets a never-seen card charge, not a deleted one: its deletion
    promised Invalid."""
    settings = make_settings(database_url, unknown_tokens=UnknownTokenPolicy.ACCEPT)
    async with running(settings) as csms, api_for(csms) as api:
        ok(await api.post("/api/v1/tokens", json={"id_token": "GONE-1"}), 201)
        ok(await api.delete("/api/v1/tokens/GONE-1", role="operator"))
        cp = await booted(csms, "TOK-ACCEPT")
        authorize = await cp.call("Authorize", {"idTag": "GONE-1"})
        assert authorize["idTagInfo"] == {"status": "Invalid"}
        refused = await start(cp, "GONE-1", utcnow())
        assert refused["idTagInfo"]["status"] == "Invalid"
        stop = {"transactionId": refused["transactionId"], "meterStop": 1000}
        await cp.call("StopTransaction", {**stop, "timestamp": isoformat(utcnow())})  # as told
        never_seen = await cp.call("Authorize", {"idTag": "NEVER-SEEN-1"})
        assert never_seen["idTagInfo"]["status"] == "Accepted"
        await cp.close()


async def test_deleting_a_member_token_sends_shared_piles_a_list_without_it(
    csms: Running, api: Api
) -> None:
    for token in ("STAFF-A", "STAFF-B"):
        ok(await api.post("/api/v1/tokens", json={"id_token": token}), 201)
    ok(await api.post("/api/v1/stations", json={"id": "SHARED-1"}), 201)
    members = [{"kind": "token", "value": "STAFF-A"}, {"kind": "token", "value": "STAFF-B"}]
    unit = {"unit_id": "gov-d", "name": "县政府", "kind": "government", "members": members}
    ok(await api.post("/api/v1/units", json=unit), 201)
    access = {"access_mode": "shared", "unit_id": "gov-d"}
    ok(await api.put("/api/v1/stations/SHARED-1/access", json=access))
    async with duplex_station(csms.ocpp_port, "SHARED-1", "1.6", DuplexStation) as cp:
        (first,) = await cp.wait_for("SendLocalList")
        assert [e["idTag"] for e in first["localAuthorizationList"]] == ["STAFF-A", "STAFF-B"]
        ok(await api.delete("/api/v1/tokens/STAFF-A", role="operator"))
        second = (await cp.wait_for("SendLocalList", count=2))[1]
        assert second["updateType"] == "Full"
        assert [e["idTag"] for e in second["localAuthorizationList"]] == ["STAFF-B"]


async def test_an_update_racing_a_delete_does_not_bring_the_token_back(csms: Running) -> None:
    # PATCH reads the token, a DELETE lands, then PATCH writes: the write must find nothing.
    store = TokenStore(csms.pool)
    await store.put(IdToken("RACE-1", "ISO14443", None, None, False))
    read = await store.get("RACE-1")
    assert read is not None
    assert await store.delete("RACE-1", by="test", at=utcnow()) is not None
    assert await store.update(IdToken("RACE-1", "ISO14443", None, None, True)) is None
    assert await store.get("RACE-1") is None  # still deleted
    found = await store.find("RACE-1")
    assert found is not None and found.deleted_at is not None
