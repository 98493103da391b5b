"""Operator commands round-trip to 1.6 and 2.0.1 stations over real sockets, with the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from csms.bootstrap import Running
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.conftest import Api
from tests.ocpp_client import open_client
from tests.station_responder import responding_station

PROFILE = {
    "id": 7,
    "stack_level": 1,
    "purpose": "tx_default",
    "kind": "Absolute",
    "schedule": {"rate_unit": "W", "periods": [{"start_s": 0, "limit": 11000.0}]},
}
LATER = "2030-01-01T00:00:00+08:00"

# command, body, 1.6 action, 2.0.1 action, a fragment each payload must contain
CASES: list[tuple[str, dict[str, Any], str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "remote-start",
        {"id_token": "CARD-C", "evse_id": 1},
        "RemoteStartTransaction",
        "RequestStartTransaction",
        {"idTag": "CARD-C", "connectorId": 1},
        {"idToken": {"idToken": "CARD-C", "type": "ISO14443"}, "evseId": 1},
    ),
    ("reset", {"kind": "hard"}, "Reset", "Reset", {"type": "Hard"}, {"type": "Immediate"}),
    ("reset", {}, "Reset", "Reset", {"type": "Soft"}, {"type": "OnIdle"}),
    (
        "change-availability",
        {"operative": False, "evse_id": 1},
        "ChangeAvailability",
        "ChangeAvailability",
        {"connectorId": 1, "type": "Inoperative"},
        {"operationalStatus": "Inoperative", "evse": {"id": 1}},
    ),
    (
        "unlock-connector",
        {"evse_id": 2},
        "UnlockConnector",
        "UnlockConnector",
        {"connectorId": 2},
        {"evseId": 2, "connectorId": 1},
    ),
    (
        "trigger-message",
        {"message": "StatusNotification", "evse_id": 1},
        "TriggerMessage",
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
        {"requestedMessage": "StatusNotification", "evse": {"id": 1}},
    ),
    (
        "get-configuration",
        {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]},
        "GetConfiguration",
        "GetVariables",
        {"key": ["OCPPCommCtrlr.HeartbeatInterval"]},
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
    ),
    (
        "set-configuration",
        {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "120"},
        "ChangeConfiguration",
        "SetVariables",
        {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "120"},
        {
            "setVariableData": [
                {
                    "attributeValue": "120",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
    ),
    ("clear-cache", {}, "ClearCache", "ClearCache", {}, {}),
    (
        "send-local-list",
        {"version": 4, "id_tokens": ["CARD-C", "CARD-X"]},
        "SendLocalList",
        "SendLocalList",
        {
            "listVersion": 4,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "CARD-C", "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}},
                {"idTag": "CARD-X", "idTagInfo": {"status": "Blocked"}},
            ],
        },
        {"versionNumber": 4, "updateType": "Full"},
    ),
    (
        "reserve-now",
        {"reservation_id": 5, "id_token": "CARD-C", "expires_at": LATER, "evse_id": 1},
        "ReserveNow",
        "ReserveNow",
        {
            "reservationId": 5,
            "connectorId": 1,
            "idTag": "CARD-C",
            "expiryDate": "2029-12-31T16:00:00.000Z",
        },
        {"id": 5, "evseId": 1, "expiryDateTime": "2029-12-31T16:00:00.000Z"},
    ),
    (
        "cancel-reservation",
        {"reservation_id": 5},
        "CancelReservation",
        "CancelReservation",
        {"reservationId": 5},
        {"reservationId": 5},
    ),
    (
        "set-charging-profile",
        {"evse_id": 1, "profile": PROFILE},
        "SetChargingProfile",
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 7,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
                },
            },
        },
        {
            "evseId": 1,
            "chargingProfile": {
                "id": 7,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 7,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
                    }
                ],
            },
        },
    ),
    (
        "clear-charging-profile",
        {"profile_id": 7},
        "ClearChargingProfile",
        "ClearChargingProfile",
        {"id": 7},
        {"chargingProfileId": 7},
    ),
    (
        "get-composite-schedule",
        {"evse_id": 1, "duration_s": 3600, "rate_unit": "W"},
        "GetCompositeSchedule",
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"},
        {"evseId": 1, "duration": 3600, "chargingRateUnit": "W"},
    ),
    (
        "update-firmware",
        {"location": "https://fw.example/v2.bin", "retrieve_at": LATER},
        "UpdateFirmware",
        "UpdateFirmware",
        {"location": "https://fw.example/v2.bin", "retrieveDate": "2029-12-31T16:00:00.000Z"},
        {
            "firmware": {
                "location": "https://fw.example/v2.bin",
                "retrieveDateTime": "2029-12-31T16:00:00.000Z",
            }
        },
    ),
    (
        "get-diagnostics",
        {"location": "ftp://logs.example/up"},
        "GetDiagnostics",
        "GetLog",
        {"location": "ftp://logs.example/up"},
        {"logType": "DiagnosticsLog", "log": {"remoteLocation": "ftp://logs.example/up"}},
    ),
    (
        "data-transfer",
        {"vendor_id": "com.acme", "message_id": "ping", "data": "x"},
        "DataTransfer",
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "ping", "data": "x"},
        {"vendorId": "com.acme", "messageId": "ping", "data": "x"},
    ),
]


def contains(payload: Any, fragment: Any) -> bool:
    """Whether `fragment` is a sub-structure of `payload` (dicts by key, lists element-wise)."""
    if isinstance(fragment, dict):
        return isinstance(payload, dict) and all(
            k in payload and contains(payload[k], v) for k, v in fragment.items()
        )
    if isinstance(fragment, list):
        return (
            isinstance(payload, list)
            and len(payload) == len(fragment)
            and all(contains(p, f) for p, f in zip(payload, fragment, strict=True))
        )
    return bool(payload == fragment)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_command_round_trips(csms: Running, api: Api, version: str) -> None:
    tokens = TokenStore(csms.pool)
    await tokens.put(IdToken("CARD-C", group_id="FLEET"))
    await tokens.put(IdToken("CARD-X", blocked=True))
    station = f"CMD-{version}"
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        for command, body, action16, action201, frag16, frag201 in CASES:
            if version == "2.0.1" and command == "get-configuration":
                body = {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]}
            reply = await api.post(f"/api/v1/stations/{station}/commands/{command}", json=body)
            assert reply.status_code == 200, (command, reply.text)
            answer = reply.json()
            action, fragment = (action16, frag16) if version == "1.6" else (action201, frag201)
            assert answer["action"] == action
            sent_action, sent_payload = station_side.received[-1]
            assert sent_action == action and sent_payload == answer["request"]
            assert contains(sent_payload, fragment), (command, sent_payload)
            assert answer["response"] == station_side.replies[action]
    log = (await api.get("/api/v1/commands", params={"station_id": station})).json()
    assert len(log) == len(CASES)
    assert {entry["status"] for entry in log} == {"answered"}
    assert {entry["requested_by"] for entry in log} == {log[0]["requested_by"]}
    assert "operator" in log[0]["requested_by"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_remote_stop_uses_the_stations_own_transaction_id(
    csms: Running, api: Api, version: str
) -> None:
    station = f"STOP-{version}"
    async with responding_station(csms.ocpp_port, station, version) as station_side:
        # the session itself comes from a second, ordinary connection of another station id
        # would not do: the transaction must belong to this station, so insert it directly
        if version == "1.6":
            tx_id = await csms.pool.fetchval(
                "INSERT INTO transactions (station_id, ocpp_version, evse_id, connector_id,"
                " id_token, started_at, meter_start_wh) VALUES ($1, '1.6', 1, 1, 'T', now(), 0)"
                " RETURNING id",
                station,
            )
        else:
            tx_id = await csms.pool.fetchval(
                "INSERT INTO transactions (station_id, ocpp_version, station_tx_id, started_at)"
                " VALUES ($1, '2.0.1', 'abc-123', now()) RETURNING id",
                station,
            )
        reply = await api.post(
            f"/api/v1/stations/{station}/commands/remote-stop", json={"transaction_id": tx_id}
        )
        assert reply.status_code == 200, reply.text
        action, payload = station_side.received[-1]
        if version == "1.6":
            assert (action, payload) == ("RemoteStopTransaction", {"transactionId": tx_id})
        else:
            assert (action, payload) == ("RequestStopTransaction", {"transactionId": "abc-123"})
        missing = await api.post(
            f"/api/v1/stations/{station}/commands/remote-stop", json={"transaction_id": 999999}
        )
        assert missing.status_code == 404


async def test_raw_passthrough(csms: Running, api: Api) -> None:
    async with responding_station(csms.ocpp_port, "RAW-1") as station_side:
        reply = await api.post("/api/v1/stations/RAW-1/ocpp/GetLocalListVersion", json={})
        assert reply.status_code == 200 and reply.json()["response"] == {"listVersion": 3}
        assert station_side.received[-1] == ("GetLocalListVersion", {})
        unknown = await api.post("/api/v1/stations/RAW-1/ocpp/SelfDestruct", json={})
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
        invalid = await api.post("/api/v1/stations/RAW-1/ocpp/Reset", json={"type": "Sideways"})
        assert invalid.status_code == 422 and "Reset" in invalid.json()["detail"]
        assert len(station_side.received) == 1  # nothing invalid reached the station


async def test_offline_timeout_and_callerror(csms: Running, api: Api) -> None:
    offline = await api.post("/api/v1/stations/NOBODY/commands/clear-cache", json={})
    assert offline.status_code == 404
    # a mistyped command name is told which ones exist, not a bare "Not Found"
    typo = await api.post("/api/v1/stations/NOBODY/commands/rest", json={})
    assert typo.status_code == 404 and "remote-start" in typo.text and "reset" in typo.text
    cp = await open_client(csms.ocpp_port, "GONE-1")
    await cp.call("Heartbeat", {})
    await cp.close()
    gone = await api.post("/api/v1/stations/GONE-1/commands/clear-cache", json={})
    assert gone.status_code == 409 and gone.json()["error"] == "station_offline"
    # a command with dates to an offline station: audited with its dates, answered 409 (was 500)
    reserve = {"reservation_id": 1, "id_token": "CARD-1", "expires_at": "2026-05-01T10:00:00Z"}
    dated = await api.post("/api/v1/stations/GONE-1/commands/reserve-now", json=reserve)
    assert dated.status_code == 409 and dated.json()["error"] == "station_offline"

    async with responding_station(csms.ocpp_port, "SLOW-1") as station_side:
        station_side.mode = "silent"
        slow = await api.post(
            "/api/v1/stations/SLOW-1/commands/clear-cache", params={"timeout": 0.5}, json={}
        )
        assert slow.status_code == 504 and slow.json()["error"] == "station_timeout"
        station_side.mode = "callerror"
        refused = await api.post("/api/v1/stations/SLOW-1/commands/clear-cache", json={})
        assert refused.status_code == 502
        assert refused.json()["detail"]["code"] == "NotSupported"
        station_side.mode = "answer"
        assert (await api.post("/api/v1/stations/SLOW-1/commands/clear-cache", json={})).is_success
    statuses = [e["status"] for e in (await api.get("/api/v1/commands")).json()]
    assert statuses == ["answered", "callerror", "timeout", "offline", "offline"]
    audited = (await api.get("/api/v1/commands")).json()[-2]
    assert audited["command"] == "reserve-now"
    assert audited["request"]["expires_at"].startswith("2026-05-01T10:00:00")


async def test_bad_command_input(csms: Running, api: Api) -> None:
    async with responding_station(csms.ocpp_port, "BAD-1", "2.0.1") as station_side:
        cases = [
            ("reset", {"kind": "sideways"}),
            ("unlock-connector", {}),
            ("remote-start", {"id_token": "x" * 37}),
            (
                "reserve-now",
                {"reservation_id": 1, "id_token": "A", "expires_at": "2030-01-01T00:00:00"},
            ),
            ("set-charging-profile", {"evse_id": 1, "profile": {**PROFILE, "purpose": "max"}}),
            ("get-configuration", {"keys": ["NoDotHere"]}),
            ("get-configuration", {}),
            ("clear-cache", {"unexpected": 1}),
        ]
        for command, body in cases:
            reply = await api.post(f"/api/v1/stations/BAD-1/commands/{command}", json=body)
            assert reply.status_code == 422, (command, reply.text)
            assert reply.json()["error"] in ("invalid_request", "invalid_input")
        assert station_side.received == []
        unknown = await api.post("/api/v1/stations/BAD-1/commands/teleport", json={})
        assert unknown.status_code == 404
        viewer = await api.post(
            "/api/v1/stations/BAD-1/commands/clear-cache", role="viewer", json={}
        )
        assert viewer.status_code == 403


async def test_station_messages_are_readable_through_the_api(csms: Running, api: Api) -> None:
    cp = await open_client(csms.ocpp_port, "MSG-1")
    await cp.call(
        "SecurityEventNotification",
        {"type": "InvalidCentralSystemCertificate", "timestamp": "2026-05-01T00:00:00Z"},
    )
    await cp.call("DataTransfer", {"vendorId": "com.acme", "data": "hello"})
    await cp.close()
    everything = (await api.get("/api/v1/stations/MSG-1/messages")).json()
    assert [m["action"] for m in everything] == ["DataTransfer", "SecurityEventNotification"]
    security = (
        await api.get(
            "/api/v1/stations/MSG-1/messages", params={"action": "SecurityEventNotification"}
        )
    ).json()
    assert security[0]["payload"]["type"] == "InvalidCentralSystemCertificate"
    assert (await api.get("/api/v1/stations/NOPE/messages")).status_code == 404
