"""Idempotent replays (also across a restart of the server process) and offline detection."""

from __future__ import annotations

import asyncio
import base64
import os

from csms.bootstrap import Running, running
from tests.conftest import make_settings
from tests.ocpp_client import open_client
from tests.processes import csms_process

BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}
START = {
    "connectorId": 2,
    "idTag": "CARD-R",
    "meterStart": 500,
    "timestamp": "2026-05-01T08:00:00Z",
}
METER = {
    "connectorId": 2,
    "meterValue": [
        {"timestamp": "2026-05-01T08:05:00Z", "sampledValue": [{"value": "900"}]},
        {"timestamp": "2026-05-01T08:10:00Z", "sampledValue": [{"value": "1300"}]},
    ],
}


async def test_v16_replays(csms: Running) -> None:
    cp = await open_client(csms.ocpp_port, "CP-R")
    first = (await cp.call("StartTransaction", START))["transactionId"]
    assert (await cp.call("StartTransaction", START))["transactionId"] == first
    other = (await cp.call("StartTransaction", {**START, "connectorId": 1}))["transactionId"]
    assert other != first
    for _ in range(2):
        await cp.call("MeterValues", {**METER, "transactionId": first})
    stop = {"transactionId": first, "meterStop": 1500, "timestamp": "2026-05-01T08:30:00Z"}
    assert await cp.call("StopTransaction", stop) == {}
    assert await cp.call("StopTransaction", {**stop, "meterStop": 9999}) == {}
    # Unknown transaction: accepted and kept as an orphan, once.
    lost = {"transactionId": 777777, "meterStop": 42, "timestamp": "2026-05-01T09:00:00Z"}
    assert await cp.call("StopTransaction", lost) == {}
    assert await cp.call("StopTransaction", lost) == {}
    # MeterValues naming a transaction that does not exist are kept, unlinked.
    await cp.call("MeterValues", {**METER, "connectorId": 3, "transactionId": 888888})
    await cp.close()

    pool = csms.pool
    assert (
        await pool.fetchval("SELECT meter_stop_wh FROM transactions WHERE id = $1", first) == 1500
    )
    assert (
        await pool.fetchval("SELECT count(*) FROM meter_samples WHERE transaction_id = $1", first)
        == 2
    )
    # the unknown id once; the second, different stop of `first` is kept beside it, linked
    orphans = await pool.fetch("SELECT * FROM transactions WHERE orphan ORDER BY id")
    assert [(o["station_tx_id"], o["linked_to"], o["meter_stop_wh"]) for o in orphans] == [
        (str(first), first, 9999),
        ("777777", None, 42),
    ]
    anomalies = await pool.fetchval("SELECT seq_anomalies FROM transactions WHERE id = $1", first)
    assert anomalies == ["conflicting_stop"]
    unlinked = await pool.fetchval(
        "SELECT count(*) FROM meter_samples WHERE evse_id = 3 AND transaction_id IS NULL"
    )
    assert unlinked == 2


async def test_lost_stop_does_not_block_the_connector(csms: Running) -> None:
    cp = await open_client(csms.ocpp_port, "CP-LOST")
    first = (await cp.call("StartTransaction", START))["transactionId"]
    later = {**START, "timestamp": "2026-05-01T10:00:00Z", "meterStart": 2000}
    second = (await cp.call("StartTransaction", later))["transactionId"]
    # the first session's stop never came: it is closed as superseded, not left open forever
    row = await csms.pool.fetchrow(
        "SELECT status, stop_reason FROM transactions WHERE id = $1", first
    )
    assert tuple(row) == ("closed", "Superseded")
    # ... and if its stop turns up late after all, it still lands
    stop = {"transactionId": first, "meterStop": 1800, "timestamp": "2026-05-01T09:00:00Z"}
    await cp.call("StopTransaction", stop)
    row = await csms.pool.fetchrow(
        "SELECT stop_reason, meter_stop_wh FROM transactions WHERE id = $1", first
    )
    assert tuple(row) == ("Local", 1800)
    assert (
        await csms.pool.fetchval("SELECT status FROM transactions WHERE id = $1", second) == "open"
    )
    await cp.close()


async def test_replays_across_a_restart_of_the_server_process(database_url: str) -> None:
    event = {
        "eventType": "Started",
        "timestamp": "2026-05-01T08:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "R-201"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [{"timestamp": "2026-05-01T08:00:00Z", "sampledValue": [{"value": 100}]}],
    }
    async with csms_process(database_url, "restart-test") as server:
        port = server.ocpp_port
        cp = await open_client(port, "CP-RESTART")
        await cp.call("BootNotification", BOOT16)
        tx = (await cp.call("StartTransaction", START))["transactionId"]
        await cp.call("MeterValues", {**METER, "transactionId": tx})
        cs = await open_client(port, "CS-RESTART", ["ocpp2.0.1"])
        await cs.call("TransactionEvent", event)
        await cp.close()
        await cs.close()
    async with csms_process(database_url, "restart-test") as server:
        port = server.ocpp_port
        # The stations' offline queues deliver everything again after the CSMS restarted.
        cp = await open_client(port, "CP-RESTART")
        assert (await cp.call("StartTransaction", START))["transactionId"] == tx
        await cp.call("MeterValues", {**METER, "transactionId": tx})
        stop = {"transactionId": tx, "meterStop": 1500, "timestamp": "2026-05-01T08:30:00Z"}
        await cp.call("StopTransaction", stop)
        cs = await open_client(port, "CS-RESTART", ["ocpp2.0.1"])
        await cs.call("TransactionEvent", event)
        await cp.close()
        await cs.close()
    async with running(make_settings(database_url)) as csms:
        pool = csms.pool
        assert await pool.fetchval("SELECT count(*) FROM transactions") == 2
        assert await pool.fetchval("SELECT count(*) FROM transaction_events") == 1
        assert await pool.fetchval("SELECT count(*) FROM meter_samples") == 3
        assert await pool.fetchval("SELECT status FROM transactions WHERE id = $1", tx) == "closed"
        # both processes released their claim on shutdown
        assert await pool.fetchval("SELECT count(*) FROM stations WHERE connected") == 0


async def test_silent_station_is_marked_offline(database_url: str) -> None:
    async with running(make_settings(database_url, heartbeat_interval=1, offline_grace=1)) as csms:
        chatty = await open_client(csms.ocpp_port, "CP-CHATTY")
        silent = await open_client(csms.ocpp_port, "CP-SILENT")
        assert (await silent.call("BootNotification", BOOT16))["interval"] == 1
        for _ in range(8):
            await chatty.call("Heartbeat", {})
            await asyncio.sleep(0.5)
        assert silent.ws.close_code == 1008
        rows = {
            r["id"]: r
            for r in await csms.pool.fetch(
                "SELECT id, connected, offline_reason, last_heartbeat_at FROM stations"
            )
        }
        assert not rows["CP-SILENT"]["connected"]
        assert rows["CP-SILENT"]["offline_reason"] == "silent past heartbeat interval"
        assert rows["CP-CHATTY"]["connected"] and rows["CP-CHATTY"]["last_heartbeat_at"]
        await chatty.close()


async def test_dead_socket_is_detected_by_ping(database_url: str) -> None:
    """A peer that completes the handshake and then never answers a ping is dropped."""
    async with running(make_settings(database_url, ping_interval=0.5)) as csms:
        reader, writer = await asyncio.open_connection("127.0.0.1", csms.ocpp_port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                "GET /ocpp/CP-DEAD HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
            ).encode()
        )
        assert (await reader.readline()).startswith(b"HTTP/1.1 101")
        async with asyncio.timeout(10):
            while True:  # read (and ignore) pings until the CSMS gives up on us
                await asyncio.sleep(0.2)
                connected = await csms.pool.fetchval(
                    "SELECT connected FROM stations WHERE id = 'CP-DEAD'"
                )
                if connected is False:
                    break
        reason = await csms.pool.fetchval(
            "SELECT close_reason FROM station_connections WHERE station_id = 'CP-DEAD'"
        )
        assert reason is not None
        writer.close()


async def test_samples_sent_unlinked_are_linked_by_the_stop(csms: Running) -> None:
    cp = await open_client(csms.ocpp_port, "CP-LINK")
    tx = (await cp.call("StartTransaction", START))["transactionId"]
    reading = {"timestamp": "2026-05-01T08:05:00Z", "sampledValue": [{"value": "900"}]}
    # the station forgot the transactionId on its periodic sample ...
    await cp.call("MeterValues", {"connectorId": 2, "meterValue": [reading, reading]})
    assert await csms.pool.fetchval("SELECT count(*) FROM meter_samples") == 1
    # ... and sends the same reading again in the stop's transactionData
    stop = {
        "transactionId": tx,
        "meterStop": 1500,
        "timestamp": "2026-05-01T08:30:00Z",
        "transactionData": [reading],
    }
    await cp.call("StopTransaction", stop)
    rows = await csms.pool.fetch("SELECT transaction_id FROM meter_samples")
    assert [r["transaction_id"] for r in rows] == [tx]
    await cp.close()
