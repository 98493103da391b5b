"""The platform goes down and comes back, the CSMS restarts: nothing is lost, nothing doubled,
and every station's records arrive in the order they happened."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.config import UnknownTokenPolicy
from csms.store.stations import StationStore
from csms.tcec.messages import connector_code, start_charge_seq
from simulators.cli import amain
from simulators.platform.server import PlatformSimulator
from tests.conftest import api_for
from tests.integration.test_billing_flow import edge_time, two_band_tariff
from tests.ocpp_client import open_client
from tests.platform_support import OPERATOR_ID, add_platform, drained, pushing_csms, sim_config

FLEET = """
name = "platform-outage"
stations = 16
duration = 9
seed = 23
id_prefix = "PF"

[ramp]
rate = 40

[versions]
"1.6" = 0.5
"2.0.1" = 0.5

[chargers]
ac7 = { share = 0.5, evses = 2 }
dc60 = { share = 0.5, evses = 1 }

[sessions]
mode = "continuous"
length = [1.5, 3]
gap = [0.3, 1]
meter_interval = 1
leave = { Local = 0.5, EVDisconnected = 0.5 }

[churn]
interval = 3
offline = [0.5, 1.5]

[network]
backoff = { minimum = 0.2, range = 0.2, repeat = 2 }
"""


def station_of(connector: str) -> str:
    return connector.rsplit("-", 1)[0]


def arrived(sim: PlatformSimulator) -> dict[str, list[tuple[Any, ...]]]:
    """What the platform accepted, per station, in arrival order."""
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for record in sim.received:
        if record.method == "notification_stationStatus":
            info = record.data["ConnectorStatusInfo"]
            out[station_of(info["ConnectorID"])].append(
                ("status", info["ConnectorID"], info["Status"])
            )
        elif record.method == "notification_charge_order_info":
            out[station_of(record.data["ConnectorID"])].append(
                ("order", record.data["StartChargeSeq"])
            )
    return out


async def recorded(csms: Running) -> dict[str, list[tuple[Any, ...]]]:
    """What the CSMS queued for the platform, per station, in id (event) order."""
    rows = await csms.pool.fetch(
        """SELECT stream, kind, data, state FROM platform_outbox
           WHERE platform_id = 'province' AND kind IN ('connector_status', 'charge_order')
           ORDER BY id"""
    )
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        assert row["state"] == "sent", dict(row)
        data = json.loads(row["data"])
        if row["kind"] == "connector_status":
            code = connector_code(data["station_id"], data["evse_id"], data["connector_id"])
            out[row["stream"]].append(("status", code, data["code"]))
        else:
            tx = data["cdr"]["transaction_id"]
            out[row["stream"]].append(("order", start_charge_seq(OPERATOR_ID, tx)))
    return out


async def test_platform_outage_during_a_fleet_run(database_url: str, tmp_path: Path) -> None:
    scenario = tmp_path / "fleet.toml"
    scenario.write_text(FLEET, encoding="utf-8")
    async with (
        pushing_csms(database_url, unknown_tokens=UnknownTokenPolicy.ACCEPT) as csms,
        api_for(csms) as api,
        PlatformSimulator(sim_config()) as sim,
    ):
        await add_platform(api, sim)
        tariff = await api.post("/api/v1/tariffs", json=two_band_tariff(edge_time()))
        assert tariff.status_code == 201, tariff.text
        assigned = await api.post(
            "/api/v1/tariff-assignments",
            json={"tariff_id": "city", "scope": "network", "effective_from": "2020-01-01T00:00Z"},
        )
        assert assigned.status_code == 201, assigned.text
        argv = ["fleet", "--url", f"ws://127.0.0.1:{csms.ocpp_port}/ocpp"]
        argv += ["--scenario", str(scenario), "--progress", "off"]
        fleet = asyncio.create_task(amain(argv))
        port = sim.port
        await asyncio.sleep(2.5)
        before = len(sim.received)
        await sim.stop()  # the platform is down for the middle of the run
        await asyncio.sleep(4)
        backlog = await csms.pool.fetchval(
            "SELECT count(*) FROM platform_outbox WHERE state = 'pending'"
        )
        await sim.start(port=port)
        async with asyncio.timeout(60):
            assert await fleet == 0
        await drained(csms, timeout=60)

        assert before > 0 and backlog > 0  # the outage happened while there was work
        retried = await csms.pool.fetchval(
            "SELECT count(*) FROM platform_outbox WHERE attempts > 1"
        )
        assert retried > 0
        assert (
            await csms.pool.fetchval("SELECT count(*) FROM platform_outbox WHERE state <> 'sent'")
            == 0
        )
        # every record exactly once, in order per station
        assert arrived(sim) == await recorded(csms)
        assert sim.duplicate_orders == 0 and sim.disputed == 0
        bills = await csms.pool.fetchval(
            "SELECT count(*) FROM cdrs WHERE kind = 'bill' AND station_id LIKE 'PF-%'"
        )
        assert bills > 0 and len(sim.orders) == bills
        # the codes the platform ended with are what the CSMS holds
        finals = {
            connector_code(r["station_id"], r["evse_id"], r["connector_id"]): r["code"]
            for r in await csms.pool.fetch("SELECT * FROM platform_connector_codes")
        }
        assert {c: s[-1] for c, s in sim.statuses_by_connector().items()} == finals


async def test_a_restart_resumes_where_it_stopped(database_url: str) -> None:
    async with PlatformSimulator(sim_config()) as sim:
        port = sim.port
        async with pushing_csms(database_url) as csms, api_for(csms) as api:
            await add_platform(api, sim)
            cp = await open_client(csms.ocpp_port, "CP-R1")
            await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
            await _status(cp, "Available")
            await drained(csms)  # acknowledged before the restart: never sent again
            await sim.stop()
            for status in ("Preparing", "Charging", "SuspendedEV", "Faulted"):
                await _status(cp, status)
            await cp.close()
            await asyncio.sleep(0.5)
            pending = await csms.pool.fetchval(
                "SELECT count(*) FROM platform_outbox WHERE state = 'pending'"
            )
            assert pending == 5  # 2, 3, 2, 255, and offline (0)
        await sim.start(port=port)
        async with pushing_csms(database_url) as again:
            await drained(again)
            assert sim.statuses_by_connector() == {"CP-R1-1": [1, 2, 3, 2, 255, 0]}
            assert (
                await again.pool.fetchval(
                    "SELECT count(*) FROM platform_outbox WHERE state <> 'sent'"
                )
                == 0
            )


async def _status(cp: Any, status: str) -> None:
    await cp.call(
        "StatusNotification", {"connectorId": 1, "status": status, "errorCode": "NoError"}
    )


async def test_two_nodes_send_each_record_once(database_url: str) -> None:
    """Both nodes run a sender for the platform; the advisory lock lets one of them send."""
    async with (
        PlatformSimulator(sim_config()) as sim,
        pushing_csms(database_url, node_id="node-a") as node_a,
        pushing_csms(database_url, node_id="node-b") as node_b,
        api_for(node_a) as api,
    ):
        await add_platform(api, sim)
        for node in (node_a, node_b):  # both pick the platform up now, not in 5 s
            await node.platforms.reload()
        stations = [(node_a, "CP-N1"), (node_b, "CP-N2")]
        clients = []
        for node, station_id in stations:
            cp = await open_client(node.ocpp_port, station_id)
            await cp.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
            clients.append(cp)
        for status in ("Available", "Preparing", "Charging", "Available"):
            for cp in clients:
                await _status(cp, status)
        await drained(node_a)
        assert sim.statuses_by_connector() == {
            "CP-N1-1": [1, 2, 3, 1],
            "CP-N2-1": [1, 2, 3, 1],
        }
        health_a = await node_a.platforms.health()
        health_b = await node_b.platforms.health()
        assert [health_a[0]["sender_here"], health_b[0]["sender_here"]].count(True) == 1
        for cp in clients:
            await cp.close()


async def test_a_short_outage_pauses_the_sender_briefly(database_url: str) -> None:
    """Many deliveries failing together count as one failure, not one each: a blip must not
    push the platform onto the slow schedule (here 60 s after eight failed rounds)."""
    schedule = (0.3,) * 8 + (60.0,)
    async with (
        PlatformSimulator(sim_config()) as sim,
        pushing_csms(database_url, push_retry=schedule) as csms,
        api_for(csms) as api,
    ):
        await add_platform(api, sim)
        port = sim.port
        await sim.stop()
        await csms.pool.execute(
            "INSERT INTO stations (id) SELECT 'BL-' || g FROM generate_series(1, 40) g"
        )
        await csms.pool.execute(
            """INSERT INTO platform_outbox (platform_id, stream, kind, data)
               SELECT 'province', 'BL-' || g, 'connector_status',
                      jsonb_build_object('station_id', 'BL-' || g, 'evse_id', 1,
                          'connector_id', 1, 'code', 1)::text
               FROM generate_series(1, 40) g"""
        )
        csms.platforms.poke("province")
        await asyncio.sleep(1.0)
        await sim.start(port=port)
        await drained(csms, timeout=10)
        assert len(sim.statuses_by_connector()) == 40


async def test_releasing_thousands_of_stations_at_once_queues_offline_for_each(
    database_url: str,
) -> None:
    """A node lost with 8,000 stations: each known connector goes to 0 in one transaction
    (stream locks, one lock-table slot each, would not fit there)."""
    async with (
        PlatformSimulator(sim_config()) as sim,
        pushing_csms(database_url) as csms,
        api_for(csms) as api,
    ):
        await add_platform(api, sim)
        await sim.stop()  # nothing is sent: the test counts what is queued
        await csms.pool.execute(
            """INSERT INTO stations (id, connected, node_id, connection_id)
               SELECT 'REL-' || g, true, 'gone-node', g FROM generate_series(1, 8000) g"""
        )
        await csms.pool.execute(
            """INSERT INTO platform_connector_codes
                   (station_id, evse_id, connector_id, code, code_at)
               SELECT 'REL-' || g, 1, 1, 1, $1::timestamptz
               FROM generate_series(1, 8000) g""",
            utcnow() - timedelta(minutes=1),  # before the release, on the CSMS clock
        )
        released = await StationStore(csms.pool).release_node("gone-node", utcnow())
        assert released == 8000
        queued = await csms.pool.fetchval(
            """SELECT count(*) FROM platform_outbox
               WHERE stream LIKE 'REL-%' AND data::jsonb ->> 'code' = '0'"""
        )
        assert queued == 8000
