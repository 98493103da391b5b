"""The 2.0.1 simulator answers the report, monitoring, display, customer-data, transaction
status, charging-profile and network-profile requests, with schema-valid parts that follow
(Part 2 B08, B09, E14, K09, N02-N06, N09/N10, O01-O05)."""

from __future__ import annotations

from typing import Any

from tests.unit.test_simulator_commands import ScriptedCsms, connected

Payload = dict[str, Any]
POWER = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}


async def parts(csms: ScriptedCsms, action: str, request_id: int) -> list[Payload]:
    """Every part of one report, up to the one with tbc = false."""
    got = [await csms.expect(action, lambda p: p["requestId"] == request_id)]
    while got[-1].get("tbc"):
        got.append(await csms.expect(action, lambda p: p["requestId"] == request_id))
    return got


async def test_get_report_selects_components_and_variables() -> None:
    async with connected("2.0.1") as (csms, _station):
        answer = await csms.result("GetReport", {"requestId": 3, "componentVariable": [POWER]})
        assert answer == {"status": "Accepted"}
        (part,) = await parts(csms, "NotifyReport", 3)
        assert part["seqNo"] == 0 and [d["variable"]["name"] for d in part["reportData"]] == [
            "Power"
        ]
        evse = await csms.result(
            "GetReport",
            {"requestId": 4, "componentVariable": [{"component": {"name": "EVSE"}}]},
        )
        assert evse == {"status": "Accepted"}
        data = [d for p in await parts(csms, "NotifyReport", 4) for d in p["reportData"]]
        assert {d["component"]["name"] for d in data} == {"EVSE"}
        assert {d["component"]["evse"]["id"] for d in data} == {1, 2}
        nothing = await csms.result(
            "GetReport", {"requestId": 5, "componentVariable": [{"component": {"name": "Nope"}}]}
        )
        assert nothing == {"status": "EmptyResultSet"}


async def test_monitors_set_reported_and_cleared() -> None:
    async with connected("2.0.1") as (csms, _station):
        asked = {
            "setMonitoringData": [
                {"value": 7000, "type": "UpperThreshold", "severity": 4, **POWER},
                {
                    "value": 1,
                    "type": "Delta",
                    "severity": 8,
                    "component": {"name": "Nope"},
                    "variable": {"name": "X"},
                },
                {"value": 7000, "type": "UpperThreshold", "severity": 2, **POWER},
            ]
        }
        results = (await csms.result("SetVariableMonitoring", asked))["setMonitoringResult"]
        assert [r["status"] for r in results] == ["Accepted", "UnknownComponent", "Duplicate"]
        monitor_id = results[0]["id"]
        assert await csms.result(
            "GetMonitoringReport", {"requestId": 8, "monitoringCriteria": ["DeltaMonitoring"]}
        ) == {"status": "EmptyResultSet"}
        assert await csms.result("GetMonitoringReport", {"requestId": 9}) == {"status": "Accepted"}
        (report,) = await parts(csms, "NotifyMonitoringReport", 9)
        assert report["monitor"][0]["variableMonitoring"] == [
            {
                "id": monitor_id,
                "transaction": False,
                "value": 7000.0,
                "type": "UpperThreshold",
                "severity": 4,
            }
        ]
        assert await csms.result("SetMonitoringLevel", {"severity": 3}) == {"status": "Accepted"}
        cleared = await csms.result("ClearVariableMonitoring", {"id": [monitor_id, 99]})
        assert cleared["clearMonitoringResult"] == [
            {"id": monitor_id, "status": "Accepted"},
            {"id": 99, "status": "NotFound"},
        ]
        assert await csms.result("SetMonitoringBase", {"monitoringBase": "HardWiredOnly"}) == {
            "status": "Accepted"
        }


async def test_display_messages() -> None:
    async with connected("2.0.1") as (csms, _station):
        for n in (1, 2):
            message = {
                "id": n,
                "priority": "NormalCycle",
                "message": {"format": "UTF8", "content": f"m{n}"},
            }
            assert await csms.result("SetDisplayMessage", {"message": message}) == {
                "status": "Accepted"
            }
        html = {"id": 3, "priority": "InFront", "message": {"format": "HTML", "content": "<b>"}}
        assert await csms.result("SetDisplayMessage", {"message": html}) == {
            "status": "NotSupportedMessageFormat"
        }
        assert await csms.result("GetDisplayMessages", {"requestId": 2}) == {"status": "Accepted"}
        shown = await parts(csms, "NotifyDisplayMessages", 2)
        assert [m["id"] for p in shown for m in p["messageInfo"]] == [1, 2]
        assert "seqNo" not in shown[0]
        assert await csms.result("ClearDisplayMessage", {"id": 1}) == {"status": "Accepted"}
        assert await csms.result("ClearDisplayMessage", {"id": 1}) == {"status": "Unknown"}
        assert await csms.result("GetDisplayMessages", {"requestId": 3, "id": [1]}) == {
            "status": "Unknown"
        }


async def test_customer_information_transaction_status_profiles_network() -> None:
    async with connected("2.0.1") as (csms, _station):
        asked = {
            "requestId": 4,
            "report": True,
            "clear": True,
            "idToken": {"idToken": "CARD-1", "type": "ISO14443"},
        }
        assert await csms.result("CustomerInformation", asked) == {"status": "Accepted"}
        (info,) = await parts(csms, "NotifyCustomerInformation", 4)
        assert "CARD-1" in info["data"] and info["seqNo"] == 0

        assert await csms.result("GetTransactionStatus", {"transactionId": "nope"}) == {
            "ongoingIndicator": False,
            "messagesInQueue": False,
        }

        assert await csms.result(
            "GetChargingProfiles", {"requestId": 6, "chargingProfile": {}}
        ) == {"status": "NoProfiles"}
        profile = {
            "id": 5,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 5,
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3000.0}],
                }
            ],
        }
        assert await csms.result(
            "SetChargingProfile", {"evseId": 1, "chargingProfile": profile}
        ) == {"status": "Accepted"}
        assert await csms.result(
            "GetChargingProfiles",
            {"requestId": 7, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}},
        ) == {"status": "Accepted"}
        (report,) = await parts(csms, "ReportChargingProfiles", 7)
        assert report["evseId"] == 1 and report["chargingProfile"][0]["id"] == 5

        network = {
            "configurationSlot": 2,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "wss://csms.example/ocpp",
                "messageTimeout": 30,
                "securityProfile": 2,
                "ocppInterface": "Wired0",
            },
        }
        assert await csms.result("SetNetworkProfile", network) == {"status": "Accepted"}
