"""Cluster membership: which CSMS processes are alive, and releasing the claims of dead ones.

Liveness is judged on the database's clock (`now()`), so nodes whose clocks disagree still
agree on who is alive.
"""

from __future__ import annotations

import zlib

import asyncpg

from csms.errors import ConfigError
from csms.store.database import Pool
from csms.store.stations import release

_LOCK_NAMESPACE = 0x0C5B  # first key of the two-key advisory lock that makes node ids unique


class NodeStore:
    def __init__(self, pool: Pool, node_id: str) -> None:
        self._pool = pool
        self.node_id = node_id

    async def claim_identity(self, conn: asyncpg.Connection) -> None:
        """Hold an advisory lock for this node id on `conn` for the life of the process.

        A second live process with the same --node-id would corrupt routing, so it is refused;
        a crashed one loses its connection and with it the lock.
        """
        key = zlib.crc32(self.node_id.encode()) & 0x7FFFFFFF
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", _LOCK_NAMESPACE, key):
            raise ConfigError(
                f"node id {self.node_id!r} is in use by another running CSMS process; "
                "give each process its own --node-id"
            )

    async def heartbeat(self, *, ocpp_port: int, http_port: int, starting: bool = False) -> None:
        await self._pool.execute(
            """INSERT INTO nodes (node_id, started_at, last_seen, ocpp_port, http_port)
               VALUES ($1, now(), now(), $2, $3)
               ON CONFLICT (node_id) DO UPDATE SET last_seen = now(),
                   started_at = CASE WHEN $4 THEN now() ELSE nodes.started_at END,
                   ocpp_port = EXCLUDED.ocpp_port, http_port = EXCLUDED.http_port""",
            self.node_id,
            ocpp_port,
            http_port,
            starting,
        )

    async def node_of(self, station_id: str, timeout: float) -> str | None:
        """The live node holding the station's socket, if any."""
        node: str | None = await self._pool.fetchval(
            """SELECT s.node_id FROM stations s JOIN nodes n ON n.node_id = s.node_id
               WHERE s.id = $1 AND s.connected
                 AND n.last_seen >= now() - make_interval(secs => $2)""",
            station_id,
            timeout,
        )
        return node

    async def release_dead(self, timeout: float) -> int:
        """Mark stations of nodes silent for `timeout` seconds as disconnected; return how many."""
        return await release(self._pool, "node lost", None, dead_after=timeout)

    async def peers(self, timeout: float) -> bool:
        """Whether any other node is alive."""
        return bool(
            await self._pool.fetchval(
                """SELECT EXISTS (SELECT 1 FROM nodes WHERE node_id <> $1
                       AND last_seen >= now() - make_interval(secs => $2))""",
                self.node_id,
                timeout,
            )
        )

    async def leave(self) -> None:
        await self._pool.execute("DELETE FROM nodes WHERE node_id = $1", self.node_id)
