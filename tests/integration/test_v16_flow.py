"""A full OCPP 1.6J session over a real socket against the real database."""

from __future__ import annotations

from csms.bootstrap import Running
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.ocpp_client import open_client

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC7", "firmwareVersion": "1.2.3"}


def meter(ts: str, wh: int, power_w: int = 7000) -> dict[str, object]:
    return {
        "timestamp": ts,
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": str(power_w), "measurand": "Power.Active.Import", "unit": "W"},
            {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
        ],
    }


async def test_boot_status_authorize_transaction_stop(csms: Running) -> None:
    await TokenStore(csms.pool).put(IdToken("CARD-1", group_id="FLEET"))
    cp = await open_client(csms.ocpp_port, "CP-16", ["ocpp1.6"])
    assert cp.subprotocol == "ocpp1.6"

    boot = await cp.call("BootNotification", BOOT)
    assert boot["status"] == "Accepted" and boot["interval"] == 60
    assert "currentTime" in await cp.call("Heartbeat", {})
    for connector in (0, 1):
        await cp.call(
            "StatusNotification",
            {"connectorId": connector, "errorCode": "NoError", "status": "Available"},
        )
    auth = await cp.call("Authorize", {"idTag": "CARD-1"})
    assert auth["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET"}
    assert (await cp.call("Authorize", {"idTag": "NOBODY"}))["idTagInfo"]["status"] == "Invalid"

    start = await cp.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "CARD-1",
            "meterStart": 1000,
            "timestamp": "2026-05-01T02:00:00Z",
        },
    )
    tx = start["transactionId"]
    assert isinstance(tx, int) and start["idTagInfo"]["status"] == "Accepted"
    # The same card on another connector while this session runs is ConcurrentTx.
    assert (await cp.call("Authorize", {"idTag": "CARD-1"}))["idTagInfo"][
        "status"
    ] == "ConcurrentTx"

    await cp.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [meter("2026-05-01T02:15:00Z", 2750)],
        },
    )
    stop = await cp.call(
        "StopTransaction",
        {
            "transactionId": tx,
            "meterStop": 4500,
            "timestamp": "2026-05-01T02:30:00Z",
            "idTag": "CARD-1",
            "reason": "Local",
            "transactionData": [meter("2026-05-01T02:30:00Z", 4500, 0)],
        },
    )
    assert stop["idTagInfo"]["status"] == "Accepted"
    await cp.close()

    row = await csms.pool.fetchrow("SELECT * FROM transactions WHERE id = $1", tx)
    assert row["status"] == "closed" and row["meter_start_wh"] == 1000
    assert row["meter_stop_wh"] == 4500 and row["stop_reason"] == "Local"
    assert (row["evse_id"], row["connector_id"]) == (1, 1)
    samples = await csms.pool.fetch(
        "SELECT measurand, phase, value, unit FROM meter_samples WHERE transaction_id = $1 "
        "ORDER BY sampled_at, measurand",
        tx,
    )
    assert len(samples) == 6
    assert {(s["measurand"], s["phase"]) for s in samples} >= {
        ("Energy.Active.Import.Register", ""),
        ("Voltage", "L1-N"),
    }
    station = await csms.pool.fetchrow("SELECT * FROM stations WHERE id = 'CP-16'")
    assert station["vendor"] == "Acme" and station["firmware_version"] == "1.2.3"
    assert station["ocpp_version"] == "1.6" and station["last_boot_status"] == "Accepted"
    connectors = await csms.pool.fetch(
        "SELECT evse_id, connector_id, status FROM connectors WHERE station_id = 'CP-16' "
        "ORDER BY evse_id"
    )
    assert [tuple(c) for c in connectors] == [(0, 0, "Available"), (1, 1, "Available")]


async def test_token_states(csms: Running) -> None:
    tokens = TokenStore(csms.pool)
    await tokens.put(IdToken("BLOCKED", blocked=True))
    from datetime import UTC, datetime

    await tokens.put(IdToken("OLD", expires_at=datetime(2020, 1, 1, tzinfo=UTC)))
    cp = await open_client(csms.ocpp_port, "CP-TOK")
    await cp.call("BootNotification", BOOT)
    assert (await cp.call("Authorize", {"idTag": "BLOCKED"}))["idTagInfo"]["status"] == "Blocked"
    expired = (await cp.call("Authorize", {"idTag": "OLD"}))["idTagInfo"]
    assert expired["status"] == "Expired" and expired["expiryDate"].startswith("2020-01-01")
    await cp.close()


async def test_informative_messages_are_stored(csms: Running) -> None:
    cp = await open_client(csms.ocpp_port, "CP-INFO")
    await cp.call("BootNotification", BOOT)
    answer = await cp.call("DataTransfer", {"vendorId": "com.acme", "messageId": "x", "data": "1"})
    assert answer == {"status": "UnknownVendorId"}
    await cp.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
    await cp.call("FirmwareStatusNotification", {"status": "Installed"})
    await cp.call(
        "SecurityEventNotification",
        {"type": "StartupOfTheDevice", "timestamp": "2026-05-01T00:00:00Z"},
    )
    await cp.call("LogStatusNotification", {"status": "Uploading", "requestId": 7})
    await cp.call(
        "SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 3}
    )
    await cp.close()

    actions = [
        r["action"]
        for r in await csms.pool.fetch(
            "SELECT action FROM station_events WHERE station_id = 'CP-INFO' ORDER BY id"
        )
    ]
    assert actions == [
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "SecurityEventNotification",
        "LogStatusNotification",
        "SignedFirmwareStatusNotification",
    ]
    station = await csms.pool.fetchrow("SELECT * FROM stations WHERE id = 'CP-INFO'")
    assert station["firmware_status"] == "SignatureVerified"
    assert station["diagnostics_status"] == "Uploaded" and station["log_status"] == "Uploading"


async def test_station_id_from_any_prefix(csms: Running) -> None:
    for prefix in ("/", "/ocpp/", "/a/b/c/"):
        cp = await open_client(csms.ocpp_port, "CP-PATH", prefix=prefix)
        await cp.call("Heartbeat", {})
        await cp.close()
    count = await csms.pool.fetchval(
        "SELECT count(*) FROM station_connections WHERE station_id = 'CP-PATH'"
    )
    assert count == 3
