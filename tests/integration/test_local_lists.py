"""Local Authorization Lists over real sockets: the CSMS refuses what 2.0.1 D01 forbids, tracks
each station's list version and entries, and sends differential updates with removals (1.6 §5.15,
2.0.1 D01/D02), to a scripted station and to the simulator."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from csms.bootstrap import Running
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from simulators.meter import KINDS
from simulators.station.config import StationConfig
from simulators.station.station import Station
from tests.conftest import Api
from tests.station_responder import responding_station

VERSIONS = pytest.mark.parametrize("version", ["1.6", "2.0.1"])
NOW = datetime(2026, 5, 1, tzinfo=UTC)


async def _send(api: Api, station: str, body: dict[str, Any]) -> tuple[int, Any]:
    reply = await api.post(f"/api/v1/stations/{station}/commands/send-local-list", json=body)
    return reply.status_code, reply.json()


async def _known(api: Api, station: str) -> dict[str, Any]:
    reply = await api.get(f"/api/v1/stations/{station}/local-list")
    assert reply.status_code == 200, reply.text
    known: dict[str, Any] = reply.json()
    return known


def _tokens(known: dict[str, Any]) -> list[str] | None:
    entries = known["entries"]
    return None if entries is None else [e["id_token"] for e in entries]


def _raw_list(version: str, number: int, tokens: list[str]) -> tuple[str, dict[str, Any]]:
    if version == "1.6":
        items = [{"idTag": t, "idTagInfo": {"status": "Accepted"}} for t in tokens]
        return "SendLocalList", {
            "listVersion": number,
            "updateType": "Full",
            "localAuthorizationList": items,
        }
    entries = [
        {"idToken": {"idToken": t, "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}
        for t in tokens
    ]
    return "SendLocalList", {
        "versionNumber": number,
        "updateType": "Full",
        "localAuthorizationList": entries,
    }


@VERSIONS
async def test_a_list_needs_a_positive_version_and_unique_tokens(
    csms: Running, api: Api, version: str
) -> None:
    """2.0.1 D01.FR.18 (versionNumber > 0) and D01.FR.06 (no duplicate idTokens), by the
    command and by the raw passthrough; a full list has no removals. Nothing reaches the
    station."""
    tokens = TokenStore(csms.pool)
    for value in ("LL-A", "LL-B"):
        await tokens.put(IdToken(value))
    station = f"LLV-{version}"
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        for body in (
            {"version": 0, "id_tokens": ["LL-A"]},
            {"version": -1},
            {"version": 2, "id_tokens": ["LL-A", "LL-B", "LL-A"]},
            {"version": 2, "update_type": "differential", "id_tokens": ["LL-A"],
             "remove_id_tokens": ["LL-A"]},
            {"version": 2, "id_tokens": ["LL-A"], "remove_id_tokens": ["LL-B"]},
        ):  # fmt: skip
            status, answer = await _send(api, station, body)
            assert status == 422, (body, answer)
        for number, listed in ((0, ["LL-A"]), (-3, []), (4, ["LL-A", "LL-A"])):
            action, payload = _raw_list(version, number, listed)
            reply = await api.post(f"/api/v1/stations/{station}/ocpp/{action}", json=payload)
            assert reply.status_code == 422, (number, reply.text)
        assert station_side.received == []
        assert (await _known(api, station))["version"] is None


@VERSIONS
async def test_the_csms_tracks_what_the_station_reports(
    csms: Running, api: Api, version: str
) -> None:
    """An Accepted list is remembered with its entries; the station's own GetLocalListVersion
    answer wins over it (2.0.1 D02, 1.6 §5.10); a differential update not newer than the
    station's version is refused before the station says VersionMismatch (1.6 §5.15)."""
    await TokenStore(csms.pool).put(IdToken("LL-T"))
    station = f"LLT-{version}"
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        assert (await _send(api, station, {"version": 5, "id_tokens": ["LL-T"]}))[0] == 200
        known = await _known(api, station)
        assert (known["version"], _tokens(known)) == (5, ["LL-T"])
        assert known["source"] == "SendLocalList"
        # the scripted station says it holds version 3: not the list the CSMS sent
        reply = await api.post(f"/api/v1/stations/{station}/ocpp/GetLocalListVersion", json={})
        assert reply.status_code == 200
        known = await _known(api, station)
        assert (known["version"], known["entries"], known["source"]) == (
            3,
            None,
            "GetLocalListVersion",
        )
        sent = len(station_side.received)
        differential = {"update_type": "differential", "id_tokens": ["LL-T"]}
        status, answer = await _send(api, station, {"version": 3, **differential})
        assert status == 409 and "version 3" in answer["detail"]
        assert len(station_side.received) == sent
        assert (await _send(api, station, {"version": 4, **differential}))[0] == 200
        assert (await _known(api, station))["version"] == 4
        assert (await _send(api, station, {"version": 7, "id_tokens": ["LL-T"]}))[0] == 200
        # Failed: the station's list is as it was
        replies = station_side.replies
        station_side.replies = {**replies, "SendLocalList": {"status": "Failed"}}
        assert (await _send(api, station, {"version": 9, "id_tokens": []}))[0] == 200
        known = await _known(api, station)
        assert (known["version"], _tokens(known)) == (7, ["LL-T"])
        # VersionMismatch: the station does not hold what the CSMS thinks; entries unknown
        station_side.replies = {**replies, "SendLocalList": {"status": "VersionMismatch"}}
        assert (await _send(api, station, {"version": 8, **differential}))[0] == 200
        known = await _known(api, station)
        assert (known["version"], known["entries"]) == (7, None)
    missing = await api.get("/api/v1/stations/NOBODY/local-list")
    assert missing.status_code == 404


@VERSIONS
async def test_differential_updates_add_and_remove_on_the_simulator(
    csms: Running, api: Api, version: str
) -> None:
    """1.6 §5.15 / 2.0.1 D01.FR.16-17: a differential update adds the tokens it gives a status
    and removes those it does not; the simulator applies it and the CSMS's view agrees."""
    tokens = TokenStore(csms.pool)
    for value in ("LL-A", "LL-B", "LL-C"):
        await tokens.put(IdToken(value, token_type="Central"))
    station_id = f"LLS-{version}"
    config = StationConfig(
        station_id=station_id,
        url=f"ws://127.0.0.1:{csms.ocpp_port}/ocpp",
        version=version,
        kind=KINDS["ac7"],
        meter_interval=60,
        call_timeout=10.0,
    )
    station = Station(config, rng=random.Random(3))
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(station.run(stop=stop, drain_timeout=5))
        try:
            async with asyncio.timeout(30):
                await station.wait_online()
            full = {"version": 5, "id_tokens": ["LL-A", "LL-B"]}
            status, answer = await _send(api, station_id, full)
            assert status == 200 and answer["response"] == {"status": "Accepted"}, answer
            change = {
                "version": 6,
                "update_type": "differential",
                "id_tokens": ["LL-C"],
                "remove_id_tokens": ["LL-A"],
            }
            status, answer = await _send(api, station_id, change)
            assert status == 200 and answer["response"] == {"status": "Accepted"}, answer
            items = answer["request"]["localAuthorizationList"]
            if version == "1.6":
                assert items == [
                    {"idTag": "LL-C", "idTagInfo": {"status": "Accepted"}},
                    {"idTag": "LL-A"},  # no idTagInfo: removed
                ]
            else:
                assert items == [
                    {
                        "idToken": {"idToken": "LL-C", "type": "Central"},
                        "idTokenInfo": {"status": "Accepted"},
                    },
                    {"idToken": {"idToken": "LL-A", "type": "Central"}},  # removed
                ]
            local = station.local_list
            assert local.version == 6 and local.lookup("LL-A", NOW) is None
            assert local.lookup("LL-B", NOW) is not None and local.lookup("LL-C", NOW) is not None
            known = await _known(api, station_id)
            assert (known["version"], _tokens(known)) == (6, ["LL-B", "LL-C"])
            # the simulator answers GetLocalListVersion with what it holds: the CSMS agrees
            raw = await api.post(f"/api/v1/stations/{station_id}/ocpp/GetLocalListVersion", json={})
            reported = raw.json()["response"]
            assert reported == ({"listVersion": 6} if version == "1.6" else {"versionNumber": 6})
            known = await _known(api, station_id)
            assert (known["version"], _tokens(known)) == (6, ["LL-B", "LL-C"])
            # a full list may go back to any version
            assert (await _send(api, station_id, {"version": 2, "id_tokens": ["LL-B"]}))[0] == 200
            assert local.version == 2 and local.lookup("LL-C", NOW) is None
        finally:
            stop.set()
