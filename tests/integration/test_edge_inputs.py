"""Schema-valid input at the edges, found by a review of the less-used station messages: the
two ends of the date-time range, a report part numbered near 2**31, requestId -1."""

from __future__ import annotations

import json
import logging

import asyncpg
import pytest

from csms.bootstrap import Running
from csms.store import database
from csms.store.firmware_publications import FirmwarePublicationStore
from tests.conftest import Api, PgCluster
from tests.ocpp_client import open_client

BOOT201 = {"reason": "PowerUp", "chargingStation": {"model": "R", "vendorName": "T"}}
BOOT16 = {"chargePointVendor": "T", "chargePointModel": "R"}
# The first and last instants Python holds: asyncpg sent them to PostgreSQL as -infinity and
# infinity, which the late-data indexes cannot subtract (InternalError, traceback).
EDGES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"]


@pytest.mark.parametrize("timestamp", EDGES)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_time_at_the_edge_of_the_range_is_a_property_violation(
    csms: Running, caplog: pytest.LogCaptureFixture, version: str, timestamp: str
) -> None:
    caplog.set_level(logging.ERROR)
    if version == "1.6":
        cp = await open_client(csms.ocpp_port, f"EDGE16-{timestamp[:4]}", ["ocpp1.6"])
        await cp.call("BootNotification", BOOT16)
        payload = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    else:
        cp = await open_client(csms.ocpp_port, f"EDGE201-{timestamp[:4]}", ["ocpp2.0.1"])
        await cp.call("BootNotification", BOOT201)
        payload = {"connectorStatus": "Available", "evseId": 1, "connectorId": 1}
    reply = await cp.send_raw(
        json.dumps([2, "s1", "StatusNotification", {**payload, "timestamp": timestamp}])
    )
    assert reply[:3] == [4, "s1", "PropertyConstraintViolation"], reply
    assert "edge of the representable time range" in reply[3]
    assert await cp.call("Heartbeat", {})  # the connection serves on
    await cp.close()
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_an_ev_departure_at_the_edge_is_refused_not_kept_as_infinity(
    csms: Running,
) -> None:
    cp = await open_client(csms.ocpp_port, "EDGEEV", ["ocpp2.0.1"])
    await cp.call("BootNotification", BOOT201)
    needs = {"requestedEnergyTransfer": "DC", "departureTime": EDGES[0]}
    reply = await cp.send_raw(
        json.dumps([2, "n1", "NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": needs}])
    )
    await cp.close()
    assert reply[:3] == [4, "n1", "PropertyConstraintViolation"], reply
    assert (
        await csms.pool.fetchval(
            "SELECT count(*) FROM ev_charging_needs WHERE station_id = 'EDGEEV'"
        )
        == 0
    )


async def test_a_report_part_numbered_near_two_billion_reads_back_bounded(
    csms: Running, api: Api
) -> None:
    """missing_seq_nos listed every number from 0 to the highest seqNo: 23 MB for one part
    numbered 3,000,000, two billion numbers built on the event loop for 2**31 - 1."""
    cp = await open_client(csms.ocpp_port, "SEQBIG", ["ocpp2.0.1"])
    await cp.call("BootNotification", BOOT201)
    part = {"data": "x", "seqNo": 2**31 - 1, "generatedAt": "2026-05-01T00:00:00Z", "requestId": 1}
    assert await cp.call("NotifyCustomerInformation", part) == {}
    await cp.close()
    reply = await api.get("/api/v1/stations/SEQBIG/reports/customer_information/1")
    assert reply.status_code == 200
    report = reply.json()
    assert report["missing_count"] == 2**31 - 1
    assert report["missing_seq_nos"] == list(range(100))
    assert len(reply.content) < 10_000


async def test_request_id_minus_one_is_not_a_status_without_request_id(
    csms: Running, api: Api
) -> None:
    cp = await open_client(csms.ocpp_port, "PUB1", ["ocpp2.0.1"])
    await cp.call("BootNotification", BOOT201)
    published = {"status": "Published", "location": ["https://a/fw"], "requestId": -1}
    await cp.call("PublishFirmwareStatusNotification", published)
    await cp.call("PublishFirmwareStatusNotification", {"status": "Idle"})
    await cp.close()
    rows = (await api.get("/api/v1/stations/PUB1/firmware-publications")).json()
    assert sorted((r["request_id"], r["status"]) for r in rows if r["request_id"] is not None) == [
        (-1, "Published")
    ]
    assert [(r["status"], r["locations"]) for r in rows if r["request_id"] is None] == [
        ("Idle", [])
    ]


async def test_migration_0021_keeps_earlier_statuses_without_request_id(
    pg_cluster: PgCluster,
) -> None:
    """Rows kept under -1 before 0021 were shown as "no requestId", and still are."""
    conn = await pg_cluster.migrated_to(20)
    url = pg_cluster.url_for(await conn.fetchval("SELECT current_database()"))
    try:
        await conn.execute("INSERT INTO stations (id) VALUES ('LC1')")
        await conn.execute(
            "INSERT INTO firmware_publications (station_id, request_id, status, updated_at)"
            " VALUES ('LC1', -1, 'Idle', now()), ('LC1', 7, 'Published', now())"
        )
        to_21 = [m for m in database.load_migrations() if m.version <= 21]
        assert await database.migrate(conn, to_21) == ["0021_firmware_publication_no_request"]
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        rows = await FirmwarePublicationStore(pool).all("LC1")
        assert sorted((r["request_id"] or 0, r["status"]) for r in rows) == [
            (0, "Idle"),
            (7, "Published"),
        ]
        assert [r["request_id"] for r in rows if r["status"] == "Idle"] == [None]
    finally:
        await pool.close()
