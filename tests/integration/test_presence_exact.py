"""Presence is exact: after bursts of connects, resets, clean closes and reconnects racing the
presence flush, `stations.connected` names exactly the stations with an open socket."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from csms.bootstrap import Running
from csms.clock import utcnow
from csms.store.nodes import NodeStore
from csms.store.stations import StationStore
from tests.ocpp_client import OcppClient, open_client

BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}
STATIONS = 100
ROUNDS = 3
SETTLE = 8.0  # seconds the cluster gets to agree with the sockets after a burst


@dataclass(eq=False)
class Socket:
    station_id: str
    client: OcppClient

    @property
    def open(self) -> bool:
        return self.client.ws.state is State.OPEN

    @property
    def settled(self) -> bool:
        return self.client.ws.state in (State.OPEN, State.CLOSED)

    @property
    def address(self) -> str:
        host, port = self.client.ws.local_address[:2]
        return f"{host}:{port}"


def reset(client: OcppClient) -> None:
    """Drop the connection as a killed client does: no close frame, a TCP RST."""
    sock = client.ws.transport.get_extra_info("socket")
    with contextlib.suppress(OSError):  # already closed: the server replaced it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.ws.transport.abort()


async def life(port: int, station_id: str, rng: random.Random, sockets: list[Socket]) -> None:
    """One socket's short life: maybe boot, then stay, close, vanish, or vanish and return."""
    boot, fate = rng.random() < 0.6, rng.choice(["stay", "close", "abort", "reset", "again"])
    client = await open_client(port, station_id)
    sockets.append(Socket(station_id, client))
    with contextlib.suppress(ConnectionClosed, TimeoutError):  # a newer socket may replace it
        if boot:
            await client.call("BootNotification", BOOT16)
        else:
            await client.call("Heartbeat", {})
    if fate == "close":
        await client.close()
    elif fate == "abort":  # EOF without a close frame
        client.ws.transport.abort()
    elif fate in ("reset", "again"):
        reset(client)
        if fate == "again":
            sockets.append(Socket(station_id, await open_client(port, station_id)))


async def flush_forever(csms: Running) -> None:
    """The presence flush as fast as it goes, so it races every connect and disconnect."""
    while True:
        await csms.gateway.sweep()
        await asyncio.sleep(0.005)  # yield, without spinning when nothing is dirty


async def observed(csms: Running, sockets: list[Socket]) -> tuple[Any, Any]:
    """(what the client sockets say, what the database says), in comparable form."""
    open_sockets = [s for s in sockets if s.open]
    expected = (
        all(s.settled for s in sockets),
        sorted((s.station_id, s.address) for s in open_sockets),
        sorted(s.address for s in open_sockets),
    )
    stations = await csms.pool.fetch(
        """SELECT s.id, c.remote_address FROM stations s
           LEFT JOIN station_connections c ON c.id = s.connection_id
           WHERE s.connected ORDER BY s.id"""
    )
    open_rows = await csms.pool.fetch(
        "SELECT remote_address FROM station_connections WHERE disconnected_at IS NULL"
    )
    actual = (
        True,
        sorted((r["id"], r["remote_address"]) for r in stations),
        sorted(r["remote_address"] for r in open_rows),
    )
    return expected, actual


async def test_connected_flag_equals_the_open_sockets(csms: Running) -> None:
    rng = random.Random(20250611)
    ids = [f"CP-PX-{i:03d}" for i in range(STATIONS)]
    sockets: list[Socket] = []
    flusher = asyncio.create_task(flush_forever(csms))
    try:
        for round_no in range(ROUNDS):
            # ~200 sockets: every id at least once, about half of them twice at the same time
            lives = [
                life(csms.ocpp_port, sid, random.Random(rng.random()), sockets)
                for sid in ids
                for _ in range(2 if rng.random() < 0.5 else 1)
            ]
            lives += [
                life(csms.ocpp_port, rng.choice(ids), random.Random(rng.random()), sockets)
                for _ in range(50)
            ]
            rng.shuffle(lives)
            await asyncio.gather(*lives)
            async with asyncio.timeout(SETTLE + 5):
                deadline = asyncio.get_running_loop().time() + SETTLE
                while True:  # poll until both sides agree, or the deadline says they never will
                    expected, actual = await observed(csms, sockets)
                    if expected == actual or asyncio.get_running_loop().time() > deadline:
                        break
                    await asyncio.sleep(0.1)
            if flusher.done():
                flusher.result()  # the flush must keep working: raise what stopped it
            assert expected[0], f"round {round_no}: client sockets never settled"
            assert actual[1] == expected[1], (
                f"round {round_no}: connected stations differ from open sockets: "
                f"marked but closed {sorted(set(actual[1]) - set(expected[1]))}, "
                f"open but not marked {sorted(set(expected[1]) - set(actual[1]))}"
            )
            assert actual[2] == expected[2], (
                f"round {round_no}: connection rows left open "
                f"{sorted(set(actual[2]) - set(expected[2]))}, "
                f"closed while open {sorted(set(expected[2]) - set(actual[2]))}"
            )
            sockets = [s for s in sockets if s.open]
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        await asyncio.gather(*(s.client.close() for s in sockets), return_exceptions=True)


async def test_node_loss_closes_every_record_and_a_live_node_reclaims(csms: Running) -> None:
    """A lost node's connections all end, also those a newer socket elsewhere had replaced;
    a live node wrongly released claims its open connections back, records and all."""
    pool = csms.pool
    cp = await open_client(csms.ocpp_port, "CP-PX-LIVE")
    await cp.call("Heartbeat", {})
    # a node that stopped answering long ago: one station still claimed, and an older socket
    # of CP-PX-LIVE that was replaced by the one here before the node could record its end
    await pool.execute(
        """INSERT INTO nodes (node_id, started_at, last_seen)
           VALUES ('gone-node', now() - interval '2 minutes', now() - interval '1 minute')"""
    )
    await pool.execute("INSERT INTO stations (id) VALUES ('CP-PX-GONE')")
    await pool.execute(
        """WITH c AS (
               INSERT INTO station_connections (station_id, node_id, connected_at)
               VALUES ('CP-PX-GONE', 'gone-node', now()), ('CP-PX-LIVE', 'gone-node', now())
               RETURNING id, station_id)
           UPDATE stations s SET connected = true, node_id = 'gone-node', connection_id = c.id
           FROM c WHERE s.id = c.station_id AND s.id = 'CP-PX-GONE'"""
    )
    await NodeStore(pool, "test-node").release_dead(15)  # as every live node's sweeper does
    gone = await pool.fetchrow(
        "SELECT connected, offline_reason FROM stations WHERE id = 'CP-PX-GONE'"
    )
    assert gone is not None and not gone["connected"] and gone["offline_reason"] == "node lost"
    assert await open_records(pool) == {("CP-PX-LIVE", "test-node")}
    assert await connected_ids(pool) == {"CP-PX-LIVE"}

    # another node judges this one dead by mistake; the next flush of the live station undoes it
    assert await StationStore(pool).release_node("test-node", utcnow()) == 1
    async with asyncio.timeout(5):
        while await open_records(pool) != {("CP-PX-LIVE", "test-node")}:
            await cp.call("Heartbeat", {})
            await csms.gateway.sweep()
    assert await connected_ids(pool) == {"CP-PX-LIVE"}
    await cp.close()


async def open_records(pool: Any) -> set[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT station_id, node_id FROM station_connections WHERE disconnected_at IS NULL"
    )
    return {(r["station_id"], r["node_id"]) for r in rows}


async def connected_ids(pool: Any) -> set[str]:
    return {r["id"] for r in await pool.fetch("SELECT id FROM stations WHERE connected")}
