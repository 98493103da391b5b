"""Pushes to a monitoring platform: settings, statuses, orders, refusals, tokens, restarts."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.domain.token import IdToken
from csms.monitoring.registry_csv import COLUMNS
from csms.store.platforms import SEALED
from csms.store.tokens import TokenStore
from csms.store.utilization import UtilizationStore
from simulators.platform.server import PlatformSimulator
from tests.conftest import Api
from tests.integration.test_billing_flow import (
    REGISTER,
    edge_time,
    run_v16_session,
    setup_network,
)
from tests.ocpp_client import open_client
from tests.platform_support import (
    OPERATOR_ID,
    add_platform,
    drained,
    platform_body,
    sim_config,
)

# the fixtures sim, pushing and papi
pytest_plugins = ("tests.platform_support",)
# `make test-clock` runs it at a fixed moment too; clear_of_midnight: see tests/conftest.py
pytestmark = [pytest.mark.time_sensitive, pytest.mark.usefixtures("clear_of_midnight")]


async def test_platform_settings_never_show_secrets(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    created = await add_platform(papi, sim, inbound_secret="generate")
    issued = created.pop("inbound_secret")
    assert isinstance(issued, str) and len(issued) >= 24  # shown once, at creation
    shown = (await papi.get("/api/v1/platforms/province", role="operator")).json()
    text = str(shown) + str((await papi.get("/api/v1/platforms", role="operator")).json())
    for secret in ("a1b2c3d4e5f6g7h8", "0011223344556677", "sig-secret", "operator-secret"):
        assert secret not in text
    assert "inbound_secret" not in shown and shown["queries_enabled"] is True
    assert shown["methods"]["connector_status"] == "notification_stationStatus"
    stored = await papi.client.get("/api/v1/platforms/province")
    assert stored.status_code == 401
    row = await papi.get("/api/v1/platforms/health")
    assert row.status_code == 200 and row.json()[0]["id"] == "province"

    # secrets in the database are sealed, never the clear text
    row = await pushing.pool.fetchrow("SELECT * FROM platforms WHERE id = 'province'")
    assert row is not None and row["inbound_secret_hash"] != issued
    assert all(b"a1b2c3d4e5f6g7h8" not in row[c] for c in SEALED)

    bad = await papi.patch("/api/v1/platforms/province", role="admin", json={"data_iv": "short"})
    assert bad.status_code == 422
    dup = await papi.post("/api/v1/platforms", role="admin", json=platform_body(sim.url, id="city"))
    assert dup.status_code == 409  # the same platform OperatorID twice
    weak = await papi.post(
        "/api/v1/platforms", role="operator", json=platform_body(sim.url, id="x")
    )
    assert weak.status_code == 403
    renamed = await papi.patch(
        "/api/v1/platforms/province", role="admin", json={"spelling": "Service", "name": "P"}
    )
    assert renamed.status_code == 200 and renamed.json()["spelling"] == "Service"
    assert (await papi.delete("/api/v1/platforms/province")).status_code == 204
    assert (await papi.get("/api/v1/platforms/province", role="operator")).status_code == 404


async def test_a_v16_session_reaches_the_platform_in_order(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    edge = edge_time()
    await setup_network(papi, "CP-P1", edge)
    await TokenStore(pushing.pool).put(IdToken("CARD-1"))  # a refused start is never billed
    cp = await open_client(pushing.ocpp_port, "CP-P1")
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    now = utcnow().isoformat()
    for status in ("Available", "Preparing", "Charging", "Finishing", "Available"):
        if status == "Charging":
            tx = await run_v16_session(cp, edge)
        await cp.call(
            "StatusNotification",
            {"connectorId": 1, "status": status, "errorCode": "NoError", "timestamp": now},
        )
    await drained(pushing)
    # Preparing and Finishing are both "occupied" (2): a code that does not change is not sent
    assert sim.statuses_by_connector() == {"CP-P1-1": [1, 2, 3, 2, 1]}
    order = sim.orders[f"{OPERATOR_ID}{tx:018d}"]
    cdr = (await papi.get(f"/api/v1/transactions/{tx}/bill")).json()
    assert Decimal(str(order["TotalMoney"])) == Decimal(cdr["total"])
    assert order["SumPeriod"] == len(order["ChargeDetails"]) == 2
    assert sim.disputed == 0 and sim.duplicate_orders == 0

    await cp.close()
    # the station went away: platforms hear "offline" (0)
    await sim.wait_for(lambda s: s.statuses_by_connector()["CP-P1-1"][-1] == 0, timeout=20)
    await drained(pushing)
    sent = await pushing.pool.fetch(
        "SELECT kind, state FROM platform_outbox WHERE platform_id = 'province' ORDER BY id"
    )
    assert {r["state"] for r in sent} == {"sent"}
    assert [r["kind"] for r in sent].count("charge_order") == 1


REGISTRY_ROW = (
    "CP-I1,应县,金城镇,,应县客运站,transport_hub,{address},39.55,113.19,20,60DC,"
    "2025-03-02,public,,op,60"
)


async def _register(api: Api, address: str) -> None:
    body = "\n".join((",".join(COLUMNS), REGISTRY_ROW.format(address=address)))
    r = await api.client.post(
        "/api/v1/registry/import",
        content=body.encode(),
        headers={**api.headers("operator"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text


async def test_site_information_is_pushed_once_per_change_and_refusals_can_be_retried(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    await _register(papi, "")  # no address: T/CEC requires one
    platforms = pushing.platforms
    assert await platforms.sync_station_info() == 1
    assert await platforms.sync_station_info() == 0  # nothing changed, nothing queued
    await drained(pushing)
    failed = await papi.get("/api/v1/platforms/province/outbox?state=failed", role="operator")
    [record] = failed.json()
    assert record["kind"] == "station_info" and "no address" in record["last_msg"]
    assert "notification_stationInfo" not in sim.counts()

    # sent again: a new record at the end of the site's queue, refused again (no address yet)
    again = await papi.post(f"/api/v1/platforms/province/outbox/{record['id']}/retry")
    assert again.status_code == 200 and again.json()["state"] == "pending"
    assert again.json()["id"] > record["id"]
    await drained(pushing)
    failed = await papi.get("/api/v1/platforms/province/outbox?state=failed", role="operator")
    assert [r["id"] for r in failed.json()] == [again.json()["id"], record["id"]]
    assert failed.json()[1]["requeued_as"] == again.json()["id"]
    twice = await papi.post(f"/api/v1/platforms/province/outbox/{record['id']}/retry")
    assert twice.status_code == 409  # a record is sent again once

    await _register(papi, "应县金城镇建设路8号")  # fixed in the registry: a new version
    assert await platforms.sync_station_info() == 1
    await drained(pushing)
    [info] = [r.data["StationInfo"] for r in sim.received if r.method == "notification_stationInfo"]
    assert info["Address"] == "应县金城镇建设路8号" and info["AreaCode"] == "140622"
    assert info["Construction"] == 6 and info["EquipmentInfos"][0]["EquipmentID"] == "CP-I1"
    # the old, refused version is superseded now; a sent record is not sent again either
    stale = await papi.post(f"/api/v1/platforms/province/outbox/{again.json()['id']}/retry")
    assert stale.status_code == 409 and "superseded" in stale.text
    sent = (await papi.get("/api/v1/platforms/province/outbox?state=sent", role="operator")).json()
    conflict = await papi.post(f"/api/v1/platforms/province/outbox/{sent[0]['id']}/retry")
    assert conflict.status_code == 409


async def test_tokens_expire_and_are_fetched_again(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim, spelling="Service")
    cp = await open_client(pushing.ocpp_port, "CP-T1")
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    for status in ("Available", "Preparing"):
        await cp.call(
            "StatusNotification", {"connectorId": 1, "status": status, "errorCode": "NoError"}
        )
        await drained(pushing)
        sim.expire_tokens()  # the next push meets 4002, fetches a token and is sent
    await cp.call(
        "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError"}
    )
    await drained(pushing)
    assert sim.statuses_by_connector() == {"CP-T1-1": [1, 2, 1]}
    assert sim.tokens_issued >= 3 and sim.rejections.get(4002, 0) >= 2
    health = (await papi.get("/api/v1/platforms/health")).json()[0]
    assert health["pending"] == 0 and health["last_success_at"] is not None
    await cp.close()


async def test_a_201_charging_state_reports_charging(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    cp = await open_client(pushing.ocpp_port, "CP-V2", ["ocpp2.0.1"])
    boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    await cp.call("BootNotification", boot)
    now = utcnow().isoformat()
    status = {"timestamp": now, "evseId": 1, "connectorId": 1}
    await cp.call("StatusNotification", {**status, "connectorStatus": "Occupied"})
    event = {
        "eventType": "Started",
        "timestamp": now,
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "T-1", "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
    }
    await cp.call("TransactionEvent", event)
    suspended = {
        **event,
        "eventType": "Updated",
        "seqNo": 1,
        "triggerReason": "ChargingStateChanged",
        "transactionInfo": {"transactionId": "T-1", "chargingState": "SuspendedEV"},
    }
    await cp.call("TransactionEvent", suspended)
    charging = {**suspended, "seqNo": 2, "transactionInfo": {**event["transactionInfo"]}}
    await cp.call("TransactionEvent", charging)
    ended = {
        **event,
        "eventType": "Ended",
        "seqNo": 3,
        "triggerReason": "StopAuthorized",
        "transactionInfo": {"transactionId": "T-1", "stoppedReason": "Local"},
    }
    await cp.call("TransactionEvent", ended)  # stopped, the cable still in: occupied
    await cp.call("StatusNotification", {**status, "connectorStatus": "Available"})
    await drained(pushing)
    assert sim.statuses_by_connector() == {"CP-V2-1": [2, 3, 2, 3, 2, 1]}
    await cp.close()


async def test_daily_statistics_carry_the_energy_of_the_day(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    edge = edge_time()
    await setup_network(papi, "CP-S1", edge)
    await TokenStore(pushing.pool).put(IdToken("CARD-1"))  # a refused start is never counted
    cp = await open_client(pushing.ocpp_port, "CP-S1")
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    await run_v16_session(cp, edge)
    await cp.close()
    now = utcnow()
    await UtilizationStore(pushing.pool).rollup(now - timedelta(hours=3), now, now=now)
    zone = ZoneInfo("Asia/Shanghai")
    first = (edge - timedelta(hours=1)).astimezone(zone).date()
    last = now.astimezone(zone).date()
    queued = await papi.post(
        "/api/v1/platforms/province/stats",
        role="admin",
        json={"first": first.isoformat(), "last": last.isoformat()},
    )
    assert queued.status_code == 200 and queued.json()["station_stats"] == 1
    again = await papi.post(
        "/api/v1/platforms/province/stats",
        role="admin",
        json={"first": first.isoformat(), "last": last.isoformat()},
    )
    assert again.json()["station_stats"] == 0  # one period is queued once per platform
    await drained(pushing)
    [stats] = [
        r.data["StationStats"]
        for r in sim.received
        if r.method == "notification_operation_stats_info"
    ]
    delivered = REGISTER[-1] - REGISTER[0]
    expected = (Decimal(delivered) / 1000).quantize(Decimal("0.01"))
    assert Decimal(str(stats["StationElectricity"])) == expected
    [pile] = stats["EquipmentStatsInfos"]
    assert pile["EquipmentID"] == "CP-S1"
    assert Decimal(str(pile["ConnectorStatsInfos"][0]["ConnectorElectricity"])) == expected


async def test_statistics_asked_for_one_platform_are_queued_for_it_alone(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    await add_platform(
        papi, sim, id="city", platform_operator_id="CITYPLATFORM", kinds=["station_stats"]
    )
    await add_platform(
        papi, sim, id="road", platform_operator_id="ROADPLATFORM", kinds=["connector_status"]
    )
    await setup_network(papi, "CP-S2", edge_time())
    day = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    period = {"first": day, "last": day}

    async def stats_records(platform_id: str) -> int:
        return int(
            await pushing.pool.fetchval(
                """SELECT count(*) FROM platform_outbox
                   WHERE platform_id = $1 AND kind = 'station_stats'""",
                platform_id,
            )
        )

    city = await papi.post("/api/v1/platforms/city/stats", role="admin", json=period)
    assert city.status_code == 200 and city.json() == {"station_stats": 1}
    assert await stats_records("city") == 1
    assert await stats_records("province") == 0  # not asked for: untouched
    province = await papi.post("/api/v1/platforms/province/stats", role="admin", json=period)
    assert province.json() == {"station_stats": 1}
    again = await papi.post("/api/v1/platforms/city/stats", role="admin", json=period)
    assert again.json() == {"station_stats": 0}  # once per platform
    assert (await stats_records("city"), await stats_records("province")) == (1, 1)
    road = await papi.post("/api/v1/platforms/road/stats", role="admin", json=period)
    assert road.status_code == 422 and "does not take station_stats" in road.text
    assert await stats_records("road") == 0


async def test_a_superseded_status_is_not_sent_again(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    await pushing.pool.execute("INSERT INTO stations (id) VALUES ('CP-Q1')")
    ids = [
        await pushing.pool.fetchval(
            """INSERT INTO platform_outbox (platform_id, stream, kind, data, state)
               VALUES ('province', 'CP-Q1', 'connector_status', $1, $2) RETURNING id""",
            json.dumps({"station_id": "CP-Q1", "evse_id": 1, "connector_id": 1, "code": code}),
            state,
        )
        for code, state in ((1, "failed"), (2, "sent"))
    ]
    refused = await papi.post(f"/api/v1/platforms/province/outbox/{ids[0]}/retry")
    assert refused.status_code == 409 and f"newer record {ids[1]}" in refused.text


async def test_a_new_platform_learns_every_connector_and_no_one_hears_it_twice(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    cp = await open_client(pushing.ocpp_port, "CP-Y1")
    await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    await cp.call(
        "StatusNotification", {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}
    )
    await add_platform(papi, sim)  # after the status: the resync tells it
    await drained(pushing)
    assert sim.statuses_by_connector() == {"CP-Y1-1": [3]}
    async with PlatformSimulator(sim_config(platform_operator_id="MA0PLAT02")) as second:
        await add_platform(papi, second, id="city", platform_operator_id="MA0PLAT02")
        await drained(pushing, "city")
        assert second.statuses_by_connector() == {"CP-Y1-1": [3]}
        assert sim.statuses_by_connector() == {"CP-Y1-1": [3]}  # not told again
        await cp.call(
            "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError"}
        )
        await drained(pushing, "city")
        await drained(pushing)
        assert second.statuses_by_connector() == {"CP-Y1-1": [3, 1]}
        assert sim.statuses_by_connector() == {"CP-Y1-1": [3, 1]}
    await cp.close()


LIMITS = "rated_voltage_max_v,rated_voltage_min_v,rated_current_a"
TRUNK_ROAD_ROWS = (
    # a trunk-road parking area with the pile's nameplate limits registered
    "CP-G1,应县,金城镇,,G208应县停车区,trunk_road_parking,G208线应县段,39.56,113.18,12,"
    "120DC;120DC,2025-05-01,public,,op,120,1000,150,250",
    # an expressway service area whose pile has none registered
    "CP-H1,应县,金城镇,,应县服务区,highway_service_area,大运高速应县服务区,39.6,113.2,30,"
    "7AC,2025-05-01,public,,op,7,,,",
)


async def test_trunk_road_parking_and_registered_limits_reach_the_platform(
    pushing: Running, papi: Api, sim: PlatformSimulator
) -> None:
    await add_platform(papi, sim)
    body = "\n".join((",".join(COLUMNS) + "," + LIMITS, *TRUNK_ROAD_ROWS))
    r = await papi.client.post(
        "/api/v1/registry/import",
        content=body.encode(),
        headers={**papi.headers("operator"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    record = (await papi.get("/api/v1/stations/CP-G1/registry")).json()
    assert (record["rated_voltage_max_v"], record["rated_current_a"]) == (1000, 250)
    assert await pushing.platforms.sync_station_info() == 2
    await drained(pushing)
    infos = {
        r.data["StationInfo"]["StationName"]: r.data["StationInfo"]
        for r in sim.received
        if r.method == "notification_stationInfo"
    }
    trunk, service = infos["G208应县停车区"], infos["应县服务区"]
    # T/CEC 102.2 Construction: 10 roadside parking, 11 intercity highway service area
    assert (trunk["Construction"], service["Construction"]) == (10, 11)
    limits = [
        (c["VoltageUpperLimits"], c["VoltageLowerLimits"], c["Current"])
        for c in trunk["EquipmentInfos"][0]["ConnectorInfos"]
    ]
    assert limits == [(1000, 150, 250), (1000, 150, 250)] and "Remark" not in trunk
    [ac] = service["EquipmentInfos"][0]["ConnectorInfos"]
    # not registered: the standard supply's figures, and the Remark says they are derived
    assert (ac["VoltageUpperLimits"], ac["Current"]) == (220, 32)
    assert service["Remark"] == "电压电流限值未登记,按额定功率推算:CP-H1"
    # a bad limit is a 422 naming the cell, not a 500
    bad = "\n".join((",".join(COLUMNS) + "," + LIMITS, TRUNK_ROAD_ROWS[0][:-12] + "100,150,250"))
    r = await papi.client.post(
        "/api/v1/registry/import",
        content=bad.encode(),
        headers={**papi.headers("operator"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422 and "rated_voltage_min_v" in r.text
