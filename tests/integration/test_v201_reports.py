"""2.0.1 reports in parts, monitoring, display messages, customer data, EV charging needs and
firmware publication, over real sockets: each request completes with the station's last part,
and what the station reported is readable through the API (OCPP 2.0.1 Part 2 B07/B08, K09,
K15/K17, L03, N02/N04/N06, N09, O01/O04/O05)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from csms.bootstrap import Running
from tests.conftest import Api
from tests.ocpp_client import OcppClient
from tests.station_responder import ACCEPTED, REPLIES_201, DuplexStation, duplex_station

GENERATED = "2026-05-01T00:00:00Z"
SET_MONITORING_RESULT = {
    "setMonitoringResult": [
        {
            "id": 7,
            "status": "Accepted",
            "type": "UpperThreshold",
            "severity": 4,
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Power"},
        },
        {
            "status": "UnknownVariable",
            "type": "Delta",
            "severity": 8,
            "component": {"name": "EVSE"},
            "variable": {"name": "Nonsense"},
        },
    ]
}
REPLIES: dict[str, dict[str, Any]] = {
    **REPLIES_201,
    "GetBaseReport": ACCEPTED,
    "GetReport": {"status": "EmptyResultSet"},
    "GetMonitoringReport": ACCEPTED,
    "SetVariableMonitoring": SET_MONITORING_RESULT,
    "SetMonitoringBase": ACCEPTED,
    "SetMonitoringLevel": ACCEPTED,
    "ClearVariableMonitoring": {"clearMonitoringResult": [{"status": "Accepted", "id": 7}]},
    "SetDisplayMessage": ACCEPTED,
    "GetDisplayMessages": ACCEPTED,
    "ClearDisplayMessage": ACCEPTED,
    "CustomerInformation": ACCEPTED,
    "GetTransactionStatus": {"ongoingIndicator": False, "messagesInQueue": True},
    "GetChargingProfiles": ACCEPTED,
    "SetNetworkProfile": ACCEPTED,
}


def _station(client: OcppClient, version: str) -> DuplexStation:
    return DuplexStation(client, version, REPLIES)


def _variable(component: str, variable: str, value: str) -> dict[str, Any]:
    return {
        "component": {"name": component},
        "variable": {"name": variable},
        "variableAttribute": [{"value": value, "mutability": "ReadWrite"}],
    }


async def _command(api: Api, station: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await api.post(f"/api/v1/stations/{station}/commands/{name}", json=body)
    assert reply.status_code == 200, (name, reply.text)
    answer: dict[str, Any] = reply.json()
    return answer


async def test_device_model_report_in_parts_completes_with_the_last_part(
    csms: Running, api: Api
) -> None:
    """B07: GetBaseReport is answered, then NotifyReport parts with seqNo from 0 and tbc on
    all but the last; the request is complete with the part that has tbc = false."""
    async with duplex_station(csms.ocpp_port, "REP-1", "2.0.1", _station) as cs:
        answer = await _command(api, "REP-1", "get-base-report", {})
        assert answer["action"] == "GetBaseReport"
        request_id = answer["request"]["requestId"]
        assert answer["request"]["reportBase"] == "FullInventory" and request_id > 0
        base = f"/api/v1/stations/REP-1/reports/device_model/{request_id}"
        waiting = (await api.get(base)).json()
        assert waiting["state"] == "receiving" and waiting["answer"] == "Accepted"
        assert waiting["command_id"] == answer["command_id"] and waiting["parts"] == 0

        first = {
            "requestId": request_id,
            "generatedAt": GENERATED,
            "seqNo": 0,
            "tbc": True,
            "reportData": [_variable("OCPPCommCtrlr", "HeartbeatInterval", "60")],
        }
        assert await cs.call("NotifyReport", first) == {}
        assert await cs.call("NotifyReport", first) == {}  # a replay is kept once
        partial = (await api.get(base)).json()
        assert partial["state"] == "receiving" and partial["parts"] == 1
        last = {
            "requestId": request_id,
            "generatedAt": GENERATED,
            "seqNo": 1,
            "reportData": [_variable("AuthCtrlr", "Enabled", "true")],
        }  # tbc omitted: false by default
        assert await cs.call("NotifyReport", last) == {}

        done = (await api.get(base)).json()
        assert done["state"] == "complete" and done["parts"] == 2
        assert done["missing_seq_nos"] == [] and done["completed_at"] is not None
        assert [p["seq_no"] for p in done["part_list"]] == [0, 1]
        assert [item["variable"]["name"] for item in done["content"]] == [
            "HeartbeatInterval",
            "Enabled",
        ]
        listed = (await api.get("/api/v1/stations/REP-1/reports")).json()
        assert [(r["kind"], r["request_id"], r["state"]) for r in listed] == [
            ("device_model", request_id, "complete")
        ]

        model = (await api.get("/api/v1/stations/REP-1/device-model")).json()
        assert [(v["component"], v["variable"], v["value"]) for v in model] == [
            ("AuthCtrlr", "Enabled", "true"),
            ("OCPPCommCtrlr", "HeartbeatInterval", "60"),
        ]
        only = await api.get(
            "/api/v1/stations/REP-1/device-model", params={"component": "AuthCtrlr"}
        )
        assert [v["variable"] for v in only.json()] == ["Enabled"]

        # B08: a GetReport the station has nothing for is refused: no parts will come
        empty = await _command(
            api,
            "REP-1",
            "get-report",
            {"component_variables": [{"component": "EVSE", "evse_id": 1}], "criteria": ["Problem"]},
        )
        assert empty["request"]["componentVariable"] == [
            {"component": {"name": "EVSE", "evse": {"id": 1}}}
        ]
        refused = (
            await api.get(
                f"/api/v1/stations/REP-1/reports/device_model/{empty['request']['requestId']}"
            )
        ).json()
        assert refused["state"] == "refused" and refused["answer"] == "EmptyResultSet"

    missing = await api.get("/api/v1/stations/REP-1/reports/device_model/999")
    assert missing.status_code == 404
    assert (await api.get("/api/v1/stations/NOPE/device-model")).status_code == 404
    assert (await api.get("/api/v1/stations/REP-1/reports/weather/1")).status_code == 422


async def test_a_skipped_part_is_reported_missing(csms: Running, api: Api) -> None:
    """Parts are kept however the station numbers them; a gap is shown, not hidden."""
    async with duplex_station(csms.ocpp_port, "REP-GAP", "2.0.1", _station) as cs:
        base = {"requestId": 5, "generatedAt": GENERATED}
        await cs.call("NotifyReport", {**base, "seqNo": 0, "tbc": True})
        await cs.call("NotifyReport", {**base, "seqNo": 2, "tbc": False})
        # a requestId no database integer holds is refused, not a crash
        refused: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        cs._pending["huge"] = refused
        huge = {**base, "requestId": 2**40, "seqNo": 0}
        await cs.client.ws.send(json.dumps([2, "huge", "NotifyReport", huge]))
        frame = await asyncio.wait_for(refused, 10)
        assert frame[0] == 4 and frame[2] == "PropertyConstraintViolation", frame
    report = (await api.get("/api/v1/stations/REP-GAP/reports/device_model/5")).json()
    # an unrequested report still completes; who asked is unknown
    assert report["state"] == "complete" and report["command_id"] is None
    assert report["missing_seq_nos"] == [1]


async def test_monitoring_commands_and_report(csms: Running, api: Api) -> None:
    """N04: accepted monitors are known with the station's id; N02: a monitoring report lists
    them; N06: a cleared monitor is gone. N03/N05: base and level are sent as asked."""
    async with duplex_station(csms.ocpp_port, "MON-1", "2.0.1", _station) as cs:
        body = {
            "monitors": [
                {
                    "component": "EVSE",
                    "evse_id": 1,
                    "variable": "Power",
                    "type": "UpperThreshold",
                    "value": 22000.5,
                    "severity": 4,
                },
                {
                    "component": "EVSE",
                    "variable": "Nonsense",
                    "type": "Delta",
                    "value": 1,
                    "severity": 8,
                },
            ]
        }
        answer = await _command(api, "MON-1", "set-variable-monitoring", body)
        assert answer["request"]["setMonitoringData"][0] == {
            "transaction": False,
            "value": 22000.5,
            "type": "UpperThreshold",
            "severity": 4,
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Power"},
        }
        known = (await api.get("/api/v1/stations/MON-1/monitors")).json()
        assert [(m["monitor_id"], m["variable"], m["value"], m["request_id"]) for m in known] == [
            (7, "Power", "22000.5", None)
        ]

        assert (await _command(api, "MON-1", "set-monitoring-base", {"base": "All"}))[
            "request"
        ] == {"monitoringBase": "All"}
        assert (await _command(api, "MON-1", "set-monitoring-level", {"severity": 5}))[
            "request"
        ] == {"severity": 5}

        asked = await _command(
            api, "MON-1", "get-monitoring-report", {"criteria": ["ThresholdMonitoring"]}
        )
        request_id = asked["request"]["requestId"]
        assert asked["request"]["monitoringCriteria"] == ["ThresholdMonitoring"]
        await cs.call(
            "NotifyMonitoringReport",
            {
                "requestId": request_id,
                "seqNo": 0,
                "generatedAt": GENERATED,
                "monitor": [
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                        "variableMonitoring": [
                            {
                                "id": 7,
                                "transaction": False,
                                "value": 23000,
                                "type": "UpperThreshold",
                                "severity": 4,
                            },
                            {
                                "id": 8,
                                "transaction": True,
                                "value": 100,
                                "type": "LowerThreshold",
                                "severity": 2,
                            },
                        ],
                    }
                ],
            },
        )
        report = (await api.get(f"/api/v1/stations/MON-1/reports/monitoring/{request_id}")).json()
        assert report["state"] == "complete" and len(report["content"]) == 1
        known = (await api.get("/api/v1/stations/MON-1/monitors")).json()
        assert [(m["monitor_id"], m["value"], m["in_transaction"]) for m in known] == [
            (7, "23000", False),
            (8, "100", True),
        ]
        assert {m["request_id"] for m in known} == {request_id}

        cleared = await _command(api, "MON-1", "clear-variable-monitoring", {"ids": [7]})
        assert cleared["request"] == {"id": [7]}
        known = (await api.get("/api/v1/stations/MON-1/monitors")).json()
        assert [m["monitor_id"] for m in known] == [8]


async def test_display_messages(csms: Running, api: Api) -> None:
    """O01: an accepted message is known; O04: NotifyDisplayMessages (no seqNo) lists the
    messages in parts until tbc is false; O05: a cleared message is gone."""
    async with duplex_station(csms.ocpp_port, "DSP-1", "2.0.1", _station) as cs:
        body = {
            "id": 3,
            "priority": "InFront",
            "content": "维护中 Under maintenance",
            "language": "zh",
            "state": "Idle",
            "starts_at": "2026-05-01T08:00:00+08:00",
            "ends_at": "2026-05-01T18:00:00+08:00",
        }
        answer = await _command(api, "DSP-1", "set-display-message", body)
        assert answer["request"] == {
            "message": {
                "id": 3,
                "priority": "InFront",
                "state": "Idle",
                "startDateTime": "2026-05-01T00:00:00.000Z",
                "endDateTime": "2026-05-01T10:00:00.000Z",
                "message": {
                    "format": "UTF8",
                    "language": "zh",
                    "content": "维护中 Under maintenance",
                },
            }
        }
        shown = (await api.get("/api/v1/stations/DSP-1/display-messages")).json()
        assert [(m["message_id"], m["message"]["content"]) for m in shown] == [
            (3, "维护中 Under maintenance")
        ]

        asked = await _command(api, "DSP-1", "get-display-messages", {"priority": "InFront"})
        request_id = asked["request"]["requestId"]
        message = {"priority": "NormalCycle", "message": {"format": "ASCII", "content": "Hi"}}
        first = {"requestId": request_id, "tbc": True, "messageInfo": [{"id": 4, **message}]}
        await cs.call("NotifyDisplayMessages", first)
        await cs.call("NotifyDisplayMessages", first)  # replayed: kept once
        await cs.call(
            "NotifyDisplayMessages",
            {"requestId": request_id, "messageInfo": [{"id": 5, **message}]},
        )
        report = (
            await api.get(f"/api/v1/stations/DSP-1/reports/display_messages/{request_id}")
        ).json()
        assert report["state"] == "complete" and report["parts"] == 2
        assert [p["seq_no"] for p in report["part_list"]] == [0, 1]
        assert [m["id"] for m in report["content"]] == [4, 5]

        await _command(api, "DSP-1", "clear-display-message", {"id": 3})
        shown = (await api.get("/api/v1/stations/DSP-1/display-messages")).json()
        assert [m["message_id"] for m in shown] == [4, 5]


async def test_customer_information_and_charging_profiles(csms: Running, api: Api) -> None:
    """N09: the customer data arrives in parts and is read joined; K09: the profiles reported
    for GetChargingProfiles complete the request."""
    async with duplex_station(csms.ocpp_port, "CUS-1", "2.0.1", _station) as cs:
        asked = await _command(
            api, "CUS-1", "customer-information", {"id_token": "CARD-9", "clear": True}
        )
        request = asked["request"]
        assert request["idToken"] == {"idToken": "CARD-9", "type": "ISO14443"}
        assert request["report"] is True and request["clear"] is True
        for seq, (text, tbc) in enumerate([("sessions: 3; ", True), ("last: 2026-04-30", False)]):
            part = {
                "requestId": request["requestId"],
                "seqNo": seq,
                "tbc": tbc,
                "generatedAt": GENERATED,
                "data": text,
            }
            assert await cs.call("NotifyCustomerInformation", part) == {}
        report = (
            await api.get(
                f"/api/v1/stations/CUS-1/reports/customer_information/{request['requestId']}"
            )
        ).json()
        assert report["state"] == "complete"
        assert report["content"] == "sessions: 3; last: 2026-04-30"

        profiles = await _command(
            api, "CUS-1", "get-charging-profiles", {"evse_id": 1, "purpose": "tx_default"}
        )
        assert profiles["request"]["chargingProfile"] == {
            "chargingProfilePurpose": "TxDefaultProfile"
        }
        profile = {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
                }
            ],
        }
        await cs.call(
            "ReportChargingProfiles",
            {
                "requestId": profiles["request"]["requestId"],
                "chargingLimitSource": "CSO",
                "evseId": 1,
                "chargingProfile": [profile],
            },
        )
        report = (
            await api.get(
                "/api/v1/stations/CUS-1/reports/charging_profiles/"
                f"{profiles['request']['requestId']}"
            )
        ).json()
        assert report["state"] == "complete"
        assert report["content"] == [
            {"evseId": 1, "chargingLimitSource": "CSO", "chargingProfile": [profile]}
        ]


async def test_ev_charging_needs_schedule_and_firmware_publication(csms: Running, api: Api) -> None:
    """K15/K17: the EV's needs and schedule are answered Accepted and kept per EVSE (EVSE 0 is
    not an EVSE an EV plugs into); L03: a local controller's publication status per request."""
    async with duplex_station(csms.ocpp_port, "EV-1", "2.0.1", _station) as cs:
        needs = {
            "evseId": 1,
            "maxScheduleTuples": 3,
            "chargingNeeds": {
                "requestedEnergyTransfer": "DC",
                "departureTime": "2026-05-01T10:00:00Z",
                "dcChargingParameters": {"evMaxCurrent": 200, "evMaxVoltage": 500},
            },
        }
        assert await cs.call("NotifyEVChargingNeeds", needs) == {"status": "Accepted"}
        schedule = {
            "timeBase": "2026-05-01T08:00:00Z",
            "evseId": 1,
            "chargingSchedule": {
                "id": 1,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 50000}],
            },
        }
        assert await cs.call("NotifyEVChargingSchedule", schedule) == {"status": "Accepted"}
        published = {"status": "Published", "location": ["https://lc.local/fw.bin"], "requestId": 6}
        assert await cs.call("PublishFirmwareStatusNotification", published) == {}
        # a later status keeps the locations the controller published
        await cs.call("PublishFirmwareStatusNotification", {"status": "Idle", "requestId": 6})

        # EVSE 0 is the station itself: refused as a constraint violation, nothing kept
        answered: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        cs._pending["ev-zero"] = answered
        await cs.client.ws.send(
            '[2, "ev-zero", "NotifyEVChargingNeeds", '
            '{"evseId": 0, "chargingNeeds": {"requestedEnergyTransfer": "DC"}}]'
        )
        frame = await asyncio.wait_for(answered, 10)
        assert frame[0] == 4 and frame[2] == "PropertyConstraintViolation", frame

    ev = (await api.get("/api/v1/stations/EV-1/ev-charging")).json()
    assert len(ev) == 1
    assert ev[0]["evse_id"] == 1 and ev[0]["requested_transfer"] == "DC"
    assert ev[0]["departs_at"].startswith("2026-05-01T10:00:00")
    assert ev[0]["schedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 50000}]
    publications = (await api.get("/api/v1/stations/EV-1/firmware-publications")).json()
    assert [(p["request_id"], p["status"], p["locations"]) for p in publications] == [
        (6, "Idle", ["https://lc.local/fw.bin"])
    ]
    kept = await csms.pool.fetchval("SELECT count(*) FROM ev_charging_needs WHERE evse_id = 0")
    assert kept == 0


# command, body, the 2.0.1 action, a fragment of its payload
COMMANDS: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    (
        "get-base-report",
        {"report_base": "SummaryInventory"},
        "GetBaseReport",
        {"reportBase": "SummaryInventory"},
    ),
    ("get-local-list-version", {}, "GetLocalListVersion", {}),
    ("get-transaction-status", {}, "GetTransactionStatus", {}),
    (
        "set-network-profile",
        {"slot": 1, "csms_url": "wss://csms.example/ocpp", "security_profile": 2},
        "SetNetworkProfile",
        {
            "configurationSlot": 1,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "wss://csms.example/ocpp",
                "messageTimeout": 30,
                "securityProfile": 2,
                "ocppInterface": "Wired0",
            },
        },
    ),
]


async def test_version_neutral_commands_on_2_0_1(csms: Running, api: Api) -> None:
    async with duplex_station(csms.ocpp_port, "CMD-201", "2.0.1", _station) as cs:
        for name, body, action, fragment in COMMANDS:
            answer = await _command(api, "CMD-201", name, body)
            assert answer["action"] == action
            for key, value in fragment.items():
                assert answer["request"][key] == value, name
            assert cs.received[-1] == (action, answer["request"])
            assert answer["response"] == REPLIES[action]
        # E14: a transaction the CSMS knows is asked about by the station's own id
        tx = await csms.pool.fetchval(
            "INSERT INTO transactions (station_id, ocpp_version, station_tx_id, started_at)"
            " VALUES ('CMD-201', '2.0.1', 'tx-77', now()) RETURNING id"
        )
        answer = await _command(api, "CMD-201", "get-transaction-status", {"transaction_id": tx})
        assert answer["request"] == {"transactionId": "tx-77"}


TWO_ONLY = [
    ("get-base-report", {}),
    ("get-report", {}),
    ("get-monitoring-report", {}),
    (
        "set-variable-monitoring",
        {
            "monitors": [
                {
                    "component": "EVSE",
                    "variable": "Power",
                    "type": "Delta",
                    "value": 1,
                    "severity": 5,
                }
            ]
        },
    ),
    ("set-monitoring-base", {"base": "All"}),
    ("set-monitoring-level", {"severity": 3}),
    ("clear-variable-monitoring", {"ids": [1]}),
    ("set-display-message", {"id": 1, "content": "hi"}),
    ("get-display-messages", {}),
    ("clear-display-message", {"id": 1}),
    ("customer-information", {"customer_identifier": "c-1"}),
    ("get-transaction-status", {}),
    ("get-charging-profiles", {}),
    ("set-network-profile", {"slot": 1, "csms_url": "ws://x/ocpp", "security_profile": 0}),
]


async def test_1_6_has_local_list_version_and_refuses_the_rest(csms: Running, api: Api) -> None:
    """1.6 §5.8 GetLocalListVersion exists in both; the 2.0.1-only concepts are refused with
    422 and nothing reaches the station."""
    async with duplex_station(csms.ocpp_port, "CMD-16", "1.6", DuplexStation) as cs:
        answer = await _command(api, "CMD-16", "get-local-list-version", {})
        assert answer["action"] == "GetLocalListVersion" and answer["response"] == {
            "listVersion": 3
        }
        for name, body in TWO_ONLY:
            reply = await api.post(f"/api/v1/stations/CMD-16/commands/{name}", json=body)
            assert reply.status_code == 422, (name, reply.text)
            assert "not available in OCPP 1.6" in reply.json()["detail"], name
        assert [action for action, _ in cs.received] == ["GetLocalListVersion"]


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("customer-information", {}),  # no customer named
    ("customer-information", {"customer_identifier": "a", "id_token": "B"}),
    ("customer-information", {"customer_identifier": "a", "report": False}),
    ("set-monitoring-level", {"severity": 10}),
    ("set-variable-monitoring", {"monitors": []}),
    (
        "set-variable-monitoring",
        {
            "monitors": [
                {"component": "C", "variable": "V", "type": "Periodic", "value": 0, "severity": 1}
            ]
        },
    ),
    ("clear-variable-monitoring", {"ids": [-1]}),
    ("set-display-message", {"id": 1, "content": "x" * 513}),
    (
        "set-display-message",
        {
            "id": 1,
            "content": "x",
            "starts_at": "2026-05-02T00:00:00Z",
            "ends_at": "2026-05-01T00:00:00Z",
        },
    ),
    ("set-network-profile", {"slot": 1, "csms_url": "ws://x", "security_profile": 2}),
    ("set-network-profile", {"slot": 1, "csms_url": "http://x", "security_profile": 0}),
    ("get-report", {"component_variables": [{"component": "C", "connector_id": 1}]}),
]


async def test_bad_bodies_are_refused_before_sending(csms: Running, api: Api) -> None:
    async with duplex_station(csms.ocpp_port, "BAD-201", "2.0.1", _station) as cs:
        for name, body in BAD_BODIES:
            reply = await api.post(f"/api/v1/stations/BAD-201/commands/{name}", json=body)
            assert reply.status_code == 422, (name, body, reply.text)
        assert [a for a, _ in cs.received] == []


async def test_a_pending_station_may_send_the_report_the_csms_asked_for(
    csms: Running, api: Api
) -> None:
    """B02.FR.09: while Pending a station sends only what the CSMS requested; the parts of a
    report the CSMS asked for are among them, an unrequested one is refused."""
    created = await api.post("/api/v1/stations", json={"id": "PEND-1", "admin_state": "pending"})
    assert created.status_code == 201, created.text
    async with duplex_station(csms.ocpp_port, "PEND-1", "2.0.1", _station) as cs:
        unasked = {"requestId": 1, "seqNo": 0, "generatedAt": GENERATED, "data": "x"}
        failed: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        cs._pending["unasked"] = failed
        await cs.client.ws.send(json.dumps([2, "unasked", "NotifyCustomerInformation", unasked]))
        frame = await asyncio.wait_for(failed, 10)
        assert frame[0] == 4 and frame[2] == "SecurityError", frame

        asked = await _command(api, "PEND-1", "get-display-messages", {})
        request_id = asked["request"]["requestId"]
        message = {
            "id": 1,
            "priority": "NormalCycle",
            "message": {"format": "UTF8", "content": "x"},
        }
        answer = await cs.call(
            "NotifyDisplayMessages", {"requestId": request_id, "messageInfo": [message]}
        )
        assert answer == {}
    report = await api.get(f"/api/v1/stations/PEND-1/reports/display_messages/{request_id}")
    assert report.json()["state"] == "complete"
