"""The specs' guards, over real sockets: what the CSMS never sends, and what it refuses or accepts.

Each test names the clause it follows: 2.0.1 B02/B03 (Pending and Rejected stations), 1.6 §5.11
and 2.0.1 F01.FR.09 (a remote start's profile), the message directions of both versions,
1.6J / 2.0.1 Part 4 §3.1.1 (the station id in the URL) and 1.6J §4.2.1 (a null payload).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from csms.bootstrap import Running, running
from csms.domain.station import AdminState
from csms.domain.token import IdToken
from csms.store.stations import StationStore
from csms.store.tokens import TokenStore
from tests.conftest import Api, api_for, make_settings
from tests.ocpp_client import open_client
from tests.station_responder import responding_station

VERSIONS = pytest.mark.parametrize("version", ["1.6", "2.0.1"])
TX_PROFILE = {
    "id": 3,
    "stack_level": 0,
    "purpose": "tx",
    "kind": "Relative",
    "schedule": {"rate_unit": "A", "periods": [{"start_s": 0, "limit": 16.0}]},
}
NOW = "2026-05-01T00:00:00Z"
BOOT_201 = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
EVENT = {
    "eventType": "Started",
    "timestamp": NOW,
    "triggerReason": "CablePluggedIn",
    "seqNo": 0,
    "transactionInfo": {"transactionId": "G-1"},
    "evse": {"id": 1, "connectorId": 1},
}


async def _post(api: Api, station: str, command: str, body: dict[str, Any]) -> tuple[int, Any]:
    reply = await api.post(f"/api/v1/stations/{station}/commands/{command}", json=body)
    return reply.status_code, reply.json()


@VERSIONS
async def test_nothing_is_sent_to_a_rejected_station(csms: Running, api: Api, version: str) -> None:
    """2.0.1 B03.FR.03 (1.6 §4.2: "SHOULD NOT initiate any messages"): a blocked station's
    boot is Rejected and no command reaches it, not even a trigger; the attempt is audited."""
    station = f"REJ-{version}"
    await StationStore(csms.pool).create(station, admin_state=AdminState.BLOCKED)
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        for command, body in (
            ("reset", {}),
            ("trigger-message", {"message": "BootNotification"}),
            ("get-configuration", {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]}),
        ):
            status, answer = await _post(api, station, command, body)
            assert status == 409 and "B03.FR.03" in answer["detail"], (command, answer)
        kind = "Hard" if version == "1.6" else "Immediate"
        raw = await api.post(f"/api/v1/stations/{station}/ocpp/Reset", json={"type": kind})
        assert raw.status_code == 409
        assert station_side.received == []
    log = (await api.get("/api/v1/commands", params={"station_id": station})).json()
    assert len(log) == 4
    assert {(e["status"], e["error_code"]) for e in log} == {("failed", "refused")}


@VERSIONS
async def test_a_pending_station_may_be_read_configured_and_triggered(
    csms: Running, api: Api, version: str
) -> None:
    """2.0.1 B02.FR.01 / 1.6 §4.2: while Pending the CSMS may read and change the
    configuration and trigger the boot; remote start and stop are not allowed (1.6 §4.2;
    2.0.1 B02.FR.05 has the station reject them)."""
    station = f"PEND-{version}"
    await StationStore(csms.pool).create(station, admin_state=AdminState.PENDING)
    await TokenStore(csms.pool).put(IdToken("CARD-P"))
    key = "OCPPCommCtrlr.HeartbeatInterval" if version == "2.0.1" else "HeartbeatInterval"
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        for command, body in (
            ("get-configuration", {"keys": [key]}),
            ("set-configuration", {"key": key, "value": "120"}),
            ("trigger-message", {"message": "BootNotification"}),
        ):
            status, answer = await _post(api, station, command, body)
            assert status == 200, (command, answer)
        if version == "2.0.1":
            base = await api.post(
                f"/api/v1/stations/{station}/ocpp/GetVariables",
                json={"getVariableData": [{"component": {"name": "C"}, "variable": {"name": "V"}}]},
            )
            assert base.status_code == 200, base.text
        sent = len(station_side.received)
        status, answer = await _post(api, station, "remote-start", {"id_token": "CARD-P"})
        assert status == 409 and "pending" in answer["detail"]
        stop = "RemoteStopTransaction" if version == "1.6" else "RequestStopTransaction"
        body = {"transactionId": 1} if version == "1.6" else {"transactionId": "T-1"}
        raw = await api.post(f"/api/v1/stations/{station}/ocpp/{stop}", json=body)
        assert raw.status_code == 409
        assert len(station_side.received) == sent


@VERSIONS
async def test_a_remote_start_carries_only_a_tx_profile(
    csms: Running, api: Api, version: str
) -> None:
    """1.6 §5.11 and 2.0.1 F01.FR.09: the charging profile of a remote start is a TxProfile;
    TxDefaultProfile and ChargingStationMaxProfile are refused, by the command and raw."""
    station = f"TXP-{version}"
    await TokenStore(csms.pool).put(IdToken("CARD-T"))
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        for purpose in ("tx_default", "station_max"):
            body = {"id_token": "CARD-T", "charging_profile": {**TX_PROFILE, "purpose": purpose}}
            status, answer = await _post(api, station, "remote-start", body)
            assert status == 422 and "TxProfile" in answer["detail"], answer
        assert station_side.received == []
        body = {"id_token": "CARD-T", "evse_id": 1, "charging_profile": TX_PROFILE}
        status, answer = await _post(api, station, "remote-start", body)
        assert status == 200, answer
        assert answer["request"]["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"
        if version == "1.6":
            action = "RemoteStartTransaction"
            raw: dict[str, Any] = {
                "idTag": "CARD-T",
                "chargingProfile": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
                    },
                },
            }
        else:
            action = "RequestStartTransaction"
            raw = {
                "idToken": {"idToken": "CARD-T", "type": "ISO14443"},
                "remoteStartId": 9,
                "chargingProfile": {
                    "id": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "ChargingStationMaxProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": [
                        {
                            "id": 1,
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
                        }
                    ],
                },
            }
        refused = await api.post(f"/api/v1/stations/{station}/ocpp/{action}", json=raw)
        assert refused.status_code == 422 and "TxProfile" in refused.json()["detail"]
        assert len(station_side.received) == 1  # only the TxProfile start reached the station


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        ("1.6", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
        ("1.6", "Heartbeat", {}),
        ("1.6", "StopTransaction", {"transactionId": 1, "meterStop": 0, "timestamp": NOW}),
        ("2.0.1", "BootNotification", BOOT_201),
        ("2.0.1", "TransactionEvent", EVENT),
        ("2.0.1", "NotifyReport", {"requestId": 1, "generatedAt": NOW, "seqNo": 0}),
    ],
)  # fmt: skip
async def test_the_raw_passthrough_refuses_actions_only_a_station_sends(
    csms: Running, api: Api, version: str, action: str, payload: dict[str, Any]
) -> None:
    """Station-to-CSMS messages (1.6 §4, 2.0.1 Part 2) are never put on the wire to a station,
    even when their payload is schema-valid."""
    station = f"DIR-{version}"
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        reply = await api.post(f"/api/v1/stations/{station}/ocpp/{action}", json=payload)
        assert reply.status_code == 422, reply.text
        assert "sent by a charging station" in reply.json()["detail"]
        ok = await api.post(f"/api/v1/stations/{station}/ocpp/DataTransfer", json={"vendorId": "V"})
        assert ok.status_code == 200  # DataTransfer goes both ways
        assert [name for name, _ in station_side.received] == ["DataTransfer"]


async def test_transaction_event_from_pending_or_rejected_station_is_a_security_error(
    csms: Running, api: Api
) -> None:
    """2.0.1 B02.FR.09 and B03.FR.07: by default a Pending or Rejected station's TransactionEvent
    gets CALLERROR SecurityError and nothing is stored; one the CSMS triggered is answered."""
    stations = StationStore(csms.pool)
    await stations.create("TE-REJ", admin_state=AdminState.BLOCKED)
    cs = await open_client(csms.ocpp_port, "TE-REJ", ["ocpp2.0.1"])
    assert (await cs.call("BootNotification", BOOT_201))["status"] == "Rejected"
    assert (await cs.call_error("TransactionEvent", EVENT))[0] == "SecurityError"
    await cs.close()
    await stations.create("TE-PEND", admin_state=AdminState.PENDING)
    cs = await open_client(csms.ocpp_port, "TE-PEND", ["ocpp2.0.1"])
    assert (await cs.call("BootNotification", BOOT_201))["status"] == "Pending"
    assert (await cs.call_error("TransactionEvent", EVENT))[0] == "SecurityError"
    # B02.FR.09 lets through what the CSMS asked for: once triggered, it is answered
    trigger = asyncio.create_task(
        _post(api, "TE-PEND", "trigger-message", {"message": "TransactionEvent"})
    )
    call = await cs.recv()
    assert call[0] == 2 and call[2] == "TriggerMessage"
    await cs.ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
    assert (await trigger)[0] == 200
    assert "idTokenInfo" not in await cs.call("TransactionEvent", EVENT)
    await cs.close()
    rows = await csms.pool.fetch("SELECT station_id FROM transactions")
    assert [r["station_id"] for r in rows] == ["TE-PEND"]  # only the triggered one


async def test_keeping_billing_data_of_unaccepted_stations_is_an_option(
    database_url: str,
) -> None:
    """--unaccepted-transactions keep: a Rejected station's TransactionEvent is stored, while
    its other messages still get SecurityError."""
    settings = make_settings(database_url, keep_unaccepted_transactions=True)
    async with running(settings) as csms:
        await StationStore(csms.pool).create("TE-KEEP", admin_state=AdminState.BLOCKED)
        cs = await open_client(csms.ocpp_port, "TE-KEEP", ["ocpp2.0.1"])
        assert (await cs.call("BootNotification", BOOT_201))["status"] == "Rejected"
        assert await cs.call("TransactionEvent", EVENT) == {}
        assert (await cs.call_error("Heartbeat", {}))[0] == "SecurityError"
        await cs.close()
        stored = await csms.pool.fetchval(
            "SELECT station_tx_id FROM transactions WHERE station_id = 'TE-KEEP'"
        )
        assert stored == "G-1"
        async with api_for(csms) as api:  # commands to it are still refused (B03.FR.03)
            cs = await open_client(csms.ocpp_port, "TE-KEEP", ["ocpp2.0.1"])
            status, _ = await _post(api, "TE-KEEP", "reset", {})
            assert status == 409
            await cs.close()


async def test_station_ids_are_percent_decoded_at_the_handshake(csms: Running, api: Api) -> None:
    """1.6J and 2.0.1 Part 4 §3.1.1: `.../RDAM%20123` is the station `RDAM 123`."""
    cp = await open_client(csms.ocpp_port, "RDAM%20123")
    boot = await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    assert boot["status"] == "Accepted"
    await cp.close()
    assert await csms.pool.fetchval("SELECT id FROM stations") == "RDAM 123"
    station = await api.get("/api/v1/stations/RDAM%20123")
    assert station.status_code == 200 and station.json()["id"] == "RDAM 123"


async def test_a_null_payload_is_an_empty_payload(csms: Running) -> None:
    """1.6J §4.2.1: a CALL without payload may say null as well as {}; the action's schema still
    decides (a null BootNotification lacks its required fields), and other types are refused."""
    cp = await open_client(csms.ocpp_port, "NULL-1")
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    heartbeat = await cp.send_raw('[2,"n1","Heartbeat",null]')
    assert heartbeat[:2] == [3, "n1"] and "currentTime" in heartbeat[2]
    boot = await cp.send_raw('[2,"n2","BootNotification",null]')
    assert boot[:3] == [4, "n2", "OccurenceConstraintViolation"]
    for n, payload in enumerate(('"{}"', "[]", "0", "false")):
        reply = await cp.send_raw(f'[2,"w{n}","Heartbeat",{payload}]')
        assert reply[:3] == [4, f"w{n}", "FormationViolation"], reply
    await cp.close()
