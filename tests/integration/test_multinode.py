"""Two CSMS processes on one database: commands reach the node holding the socket; a node that
dies loses its claims."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from csms.bootstrap import running
from csms.errors import ConfigError
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.processes import csms_process
from tests.station_responder import responding_station


async def test_command_routed_to_the_node_holding_the_socket(database_url: str) -> None:
    async with csms_process(database_url, "node-a", "--node-timeout", "3") as node_a:
        settings = make_settings(database_url, node_id="node-b", node_timeout=3)
        async with (
            running(settings) as node_b,
            responding_station(node_a.ocpp_port, "CP-ON-A") as station,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{node_b.http_port}") as http,
        ):
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            # the station's socket is on node A; ask node B
            assert node_b.gateway.registry.get("CP-ON-A") is None
            reply = await http.post(
                "/api/v1/stations/CP-ON-A/commands/data-transfer",
                json={"vendor_id": "com.acme", "data": "via B"},
                headers=headers,
            )
            assert reply.status_code == 200, reply.text
            assert reply.json()["response"] == {"status": "Accepted", "data": "pong"}
            assert station.received == [("DataTransfer", {"vendorId": "com.acme", "data": "via B"})]
            entry = (await http.get("/api/v1/commands", headers=headers)).json()[0]
            assert (entry["origin_node"], entry["target_node"]) == ("node-b", "node-a")

            # a large request (beyond NOTIFY's 8 kB) travels through the log row, not the NOTIFY
            big = "x" * 20000
            reply = await http.post(
                "/api/v1/stations/CP-ON-A/commands/data-transfer",
                json={"vendor_id": "com.acme", "data": big},
                headers=headers,
            )
            assert reply.status_code == 200 and station.received[-1][1]["data"] == big

            # the station's answer is slow: node B reports the timeout
            station.mode = "silent"
            reply = await http.post(
                "/api/v1/stations/CP-ON-A/commands/clear-cache",
                params={"timeout": 0.5},
                json={},
                headers=headers,
            )
            assert reply.status_code == 504

            # node A dies without a goodbye: node B releases its claims
            node_a.kill()
            await node_a.proc.wait()
            async with asyncio.timeout(20):
                while await node_b.pool.fetchval(
                    "SELECT connected FROM stations WHERE id = 'CP-ON-A'"
                ):
                    await asyncio.sleep(0.5)
            assert (
                await node_b.pool.fetchval(
                    "SELECT offline_reason FROM stations WHERE id = 'CP-ON-A'"
                )
                == "node lost"
            )
            reply = await http.post(
                "/api/v1/stations/CP-ON-A/commands/clear-cache", json={}, headers=headers
            )
            assert reply.status_code == 409


async def test_events_from_another_node_reach_the_feed(database_url: str) -> None:
    async with csms_process(database_url, "node-a", "--node-timeout", "3") as node_a:
        settings = make_settings(database_url, node_id="node-b", node_timeout=3)
        async with running(settings) as node_b:
            with node_b.bus.subscribe(lambda e: e.station_id == "CP-EVT") as feed:
                # node A learns of node B's existence at its next node heartbeat (<= 1 s)
                await asyncio.sleep(1.5)
                async with responding_station(node_a.ocpp_port, "CP-EVT"):
                    event = await feed.next(timeout=10)
                    assert event is not None and event.node == "node-a"
                    assert event.type == "station.connected"


async def test_duplicate_node_id_is_refused(database_url: str) -> None:
    async with running(make_settings(database_url, node_id="twin")):
        with pytest.raises(ConfigError, match="in use by another running CSMS"):
            async with running(make_settings(database_url, node_id="twin")):
                pass
