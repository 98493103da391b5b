"""A full OCPP 2.0.1 session over a real socket against the real database."""

from __future__ import annotations

from typing import Any

from csms.bootstrap import Running
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.ocpp_client import OcppClient, open_client

BOOT = {
    "reason": "PowerUp",
    "chargingStation": {
        "model": "DC120",
        "vendorName": "Acme",
        "serialNumber": "SN-1",
        "firmwareVersion": "2.0",
        "modem": {"iccid": "8986001", "imsi": "46000"},
    },
}
TOKEN = {"idToken": "CARD-2", "type": "ISO14443"}


def meter(ts: str, wh: float, context: str = "Sample.Periodic") -> dict[str, Any]:
    return {
        "timestamp": ts,
        "sampledValue": [
            {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register"},
            {
                "value": 60.5,
                "context": context,
                "measurand": "Power.Active.Import",
                "unitOfMeasure": {"unit": "W", "multiplier": 3},
            },
        ],
    }


def event(kind: str, seq: int, ts: str, trigger: str, **extra: Any) -> dict[str, Any]:
    info = {"transactionId": "TX-A", **extra.pop("info", {})}
    return {
        "eventType": kind,
        "timestamp": ts,
        "triggerReason": trigger,
        "seqNo": seq,
        "transactionInfo": info,
        **extra,
    }


async def booted(csms: Running, station_id: str) -> OcppClient:
    cs = await open_client(csms.ocpp_port, station_id, ["ocpp2.0.1"])
    assert cs.subprotocol == "ocpp2.0.1"
    assert (await cs.call("BootNotification", BOOT))["status"] == "Accepted"
    return cs


async def test_full_session(csms: Running) -> None:
    await TokenStore(csms.pool).put(IdToken("CARD-2"))
    cs = await booted(csms, "CS-201")
    assert "currentTime" in await cs.call("Heartbeat", {})
    await cs.call(
        "StatusNotification",
        {
            "timestamp": "2026-05-01T01:59:00Z",
            "connectorStatus": "Occupied",
            "evseId": 1,
            "connectorId": 1,
        },
    )
    auth = await cs.call("Authorize", {"idToken": TOKEN})
    assert auth["idTokenInfo"]["status"] == "Accepted"

    started = await cs.call(
        "TransactionEvent",
        event(
            "Started",
            0,
            "2026-05-01T02:00:00Z",
            "Authorized",
            idToken=TOKEN,
            evse={"id": 1, "connectorId": 1},
            info={"chargingState": "Charging"},
            meterValue=[meter("2026-05-01T02:00:00Z", 10000, "Transaction.Begin")],
        ),
    )
    assert started["idTokenInfo"]["status"] == "Accepted"
    await cs.call(
        "TransactionEvent",
        event(
            "Updated",
            1,
            "2026-05-01T02:15:00Z",
            "MeterValuePeriodic",
            meterValue=[meter("2026-05-01T02:15:00Z", 25000)],
        ),
    )
    await cs.call(
        "MeterValues", {"evseId": 1, "meterValue": [meter("2026-05-01T02:16:00Z", 26000)]}
    )
    await cs.call(
        "TransactionEvent",
        event(
            "Ended",
            2,
            "2026-05-01T02:30:00Z",
            "EVCommunicationLost",
            info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"},
            meterValue=[meter("2026-05-01T02:30:00Z", 40000, "Transaction.End")],
        ),
    )
    await cs.close()

    tx = await csms.pool.fetchrow("SELECT * FROM transactions WHERE station_tx_id = 'TX-A'")
    assert tx["status"] == "closed" and not tx["orphan"]
    assert (tx["meter_start_wh"], tx["meter_stop_wh"]) == (10000, 40000)
    assert (tx["evse_id"], tx["connector_id"]) == (1, 1)
    assert tx["id_token"] == "CARD-2" and tx["stop_reason"] == "EVDisconnected"
    assert tx["last_seq_no"] == 2
    power = await csms.pool.fetchval(
        "SELECT value FROM meter_samples WHERE transaction_id = $1 AND measurand = "
        "'Power.Active.Import' ORDER BY sampled_at LIMIT 1",
        tx["id"],
    )
    assert power == 60500  # 60.5 with multiplier 3
    station = await csms.pool.fetchrow("SELECT * FROM stations WHERE id = 'CS-201'")
    assert station["serial_number"] == "SN-1" and station["iccid"] == "8986001"
    assert station["boot_reason"] == "PowerUp"
    status = await csms.pool.fetchval(
        "SELECT status FROM connectors WHERE station_id = 'CS-201' AND evse_id = 1"
    )
    assert status == "Occupied"


async def test_replayed_event_is_acknowledged_not_applied(csms: Running) -> None:
    cs = await booted(csms, "CS-REPLAY")
    start = event(
        "Started",
        0,
        "2026-05-01T02:00:00Z",
        "CablePluggedIn",
        evse={"id": 1, "connectorId": 1},
        meterValue=[meter("2026-05-01T02:00:00Z", 500)],
    )
    end = event(
        "Ended",
        1,
        "2026-05-01T03:00:00Z",
        "StopAuthorized",
        info={"stoppedReason": "Local"},
        meterValue=[meter("2026-05-01T03:00:00Z", 900)],
    )
    for payload in (start, end, start, end):
        assert await cs.call("TransactionEvent", payload) == {}
    # An offline-queued event replayed with offline=true is still recognised by its seqNo.
    assert await cs.call("TransactionEvent", {**end, "offline": True}) == {}
    await cs.close()
    assert await csms.pool.fetchval("SELECT count(*) FROM transactions") == 1
    assert await csms.pool.fetchval("SELECT count(*) FROM transaction_events") == 2
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_samples") == 4
    tx = await csms.pool.fetchrow("SELECT * FROM transactions")
    assert tx["status"] == "closed" and tx["meter_stop_wh"] == 900 and not tx["offline"]


async def test_ended_for_unknown_transaction_is_an_orphan(csms: Running) -> None:
    cs = await booted(csms, "CS-ORPHAN")
    payload = event(
        "Ended",
        7,
        "2026-05-01T03:00:00Z",
        "EVDeparted",
        info={"transactionId": "LOST-1", "stoppedReason": "EVDisconnected"},
        evse={"id": 2, "connectorId": 1},
        offline=True,
    )
    assert await cs.call("TransactionEvent", payload) == {}
    await cs.close()
    tx = await csms.pool.fetchrow("SELECT * FROM transactions WHERE station_tx_id = 'LOST-1'")
    assert tx["orphan"] and tx["status"] == "closed" and tx["offline"]
    assert tx["started_at"] is None and tx["evse_id"] == 2


async def test_reports_and_informative_messages(csms: Running) -> None:
    cs = await booted(csms, "CS-INFO")
    report = {
        "requestId": 1,
        "generatedAt": "2026-05-01T00:00:00Z",
        "seqNo": 0,
        "tbc": False,
        "reportData": [
            {
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
                "variableAttribute": [
                    {"type": "MaxSet", "value": "120000", "mutability": "ReadOnly"}
                ],
                "variableCharacteristics": {"dataType": "decimal", "supportsMonitoring": False},
            },
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [{"value": "60"}],
            },
        ],
    }
    await cs.call("NotifyReport", report)
    calls: list[tuple[str, dict[str, Any]]] = [
        (
            "NotifyEvent",
            {
                "generatedAt": "2026-05-01T00:00:00Z",
                "seqNo": 0,
                "eventData": [
                    {
                        "eventId": 1,
                        "timestamp": "2026-05-01T00:00:00Z",
                        "trigger": "Delta",
                        "actualValue": "Faulted",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "Connector"},
                        "variable": {"name": "AvailabilityState"},
                    }
                ],
            },
        ),
        (
            "SecurityEventNotification",
            {"type": "SettingSystemTime", "timestamp": "2026-05-01T00:00:00Z"},
        ),
        ("FirmwareStatusNotification", {"status": "Downloading", "requestId": 4}),
        ("LogStatusNotification", {"status": "Uploaded", "requestId": 5}),
        ("DataTransfer", {"vendorId": "com.acme"}),
        ("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1}),
        ("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "SO"}}),
        (
            "ReportChargingProfiles",
            {
                "requestId": 2,
                "chargingLimitSource": "CSO",
                "evseId": 1,
                "chargingProfile": [
                    {
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
                ],
            },
        ),
        ("ReservationStatusUpdate", {"reservationId": 9, "reservationUpdateStatus": "Expired"}),
    ]
    for action, payload in calls:
        answer = await cs.call(action, payload)
        assert answer == ({"status": "UnknownVendorId"} if action == "DataTransfer" else {})
    await cs.close()
    variables = await csms.pool.fetch(
        "SELECT component, evse_id, variable, attribute_type, value, data_type "
        "FROM station_variables WHERE station_id = 'CS-INFO' ORDER BY component"
    )
    assert [tuple(v) for v in variables] == [
        ("EVSE", 1, "Power", "MaxSet", "120000", "decimal"),
        ("OCPPCommCtrlr", -1, "HeartbeatInterval", "Actual", "60", None),
    ]
    logged = await csms.pool.fetchval(
        "SELECT count(*) FROM station_events WHERE station_id = 'CS-INFO'"
    )
    assert logged == 1 + len(calls)
    station = await csms.pool.fetchrow("SELECT * FROM stations WHERE id = 'CS-INFO'")
    assert station["firmware_status"] == "Downloading" and station["log_status"] == "Uploaded"


async def test_a_lost_ended_event_does_not_hold_the_evse(csms: Running) -> None:
    cs = await booted(csms, "CS-SUPER")
    first = event(
        "Started",
        0,
        "2026-05-01T02:00:00Z",
        "Authorized",
        idToken=TOKEN,
        evse={"id": 1, "connectorId": 1},
        info={"transactionId": "T-1"},
    )
    second = event(
        "Started",
        0,
        "2026-05-01T05:00:00Z",
        "Authorized",
        idToken=TOKEN,
        evse={"id": 1, "connectorId": 1},
        info={"transactionId": "T-2"},
    )
    await cs.call("TransactionEvent", first)
    await cs.call("TransactionEvent", second)
    rows = {r["station_tx_id"]: r for r in await csms.pool.fetch("SELECT * FROM transactions")}
    assert (rows["T-1"]["status"], rows["T-1"]["stop_reason"]) == ("closed", "Superseded")
    assert rows["T-2"]["status"] == "open"
    # the late Ended still lands on the first transaction
    late = event(
        "Ended",
        1,
        "2026-05-01T03:00:00Z",
        "EVDeparted",
        info={"transactionId": "T-1", "stoppedReason": "EVDisconnected"},
    )
    await cs.call("TransactionEvent", late)
    row = await csms.pool.fetchrow("SELECT * FROM transactions WHERE station_tx_id = 'T-1'")
    assert row["stop_reason"] == "EVDisconnected"
    await cs.close()


async def test_ended_event_reports_the_energy_on_the_feed(csms: Running) -> None:
    cs = await booted(csms, "CS-FEED")
    start = event(
        "Started",
        0,
        "2026-05-01T02:00:00Z",
        "Authorized",
        evse={"id": 1, "connectorId": 1},
        info={"transactionId": "F-1"},
        meterValue=[meter("2026-05-01T02:00:00Z", 1000)],
    )
    end = event(
        "Ended",
        1,
        "2026-05-01T03:00:00Z",
        "StopAuthorized",
        info={"transactionId": "F-1"},
        meterValue=[meter("2026-05-01T03:00:00Z", 8500)],
    )
    with csms.bus.subscribe(lambda e: e.type == "transaction.ended") as feed:
        await cs.call("TransactionEvent", start)
        await cs.call("TransactionEvent", end)
        ended = await feed.next(timeout=5)
    assert ended is not None and ended.data["energy_wh"] == 7500
    await cs.close()
