"""Cluster membership: which CSMS processes are alive, and releasing the claims of dead ones."""

from __future__ import annotations

import zlib
from datetime import datetime

import asyncpg

from csms.errors import ConfigError
from csms.store.database import Pool

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

    async def heartbeat(
        self, at: datetime, *, started_at: datetime, ocpp_port: int, http_port: int
    ) -> None:
        await self._pool.execute(
            """INSERT INTO nodes (node_id, started_at, last_seen, ocpp_port, http_port)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (node_id) DO UPDATE SET last_seen = EXCLUDED.last_seen,
                   started_at = EXCLUDED.started_at, ocpp_port = EXCLUDED.ocpp_port,
                   http_port = EXCLUDED.http_port""",
            self.node_id,
            started_at,
            at,
            ocpp_port,
            http_port,
        )

    async def node_of(self, station_id: str, alive_after: datetime) -> str | None:
        """The live node holding the station's socket, if any."""
        node: str | None = await self._pool.fetchval(
            """SELECT s.node_id FROM stations s JOIN nodes n ON n.node_id = s.node_id
               WHERE s.id = $1 AND s.connected AND n.last_seen >= $2""",
            station_id,
            alive_after,
        )
        return node

    async def release_dead(self, alive_after: datetime, at: datetime) -> int:
        """Mark stations of nodes silent since `alive_after` as disconnected; return how many."""
        status: str = await self._pool.execute(
            """UPDATE stations SET connected = false, disconnected_at = $2,
                   offline_reason = 'node lost', updated_at = now()
               WHERE connected AND node_id IN
                   (SELECT node_id FROM nodes WHERE last_seen < $1)""",
            alive_after,
            at,
        )
        return int(status.split()[-1])

    async def peers(self, alive_after: datetime) -> bool:
        """Whether any other node is alive."""
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM nodes WHERE node_id <> $1 AND last_seen >= $2)",
                self.node_id,
                alive_after,
            )
        )

    async def leave(self) -> None:
        await self._pool.execute("DELETE FROM nodes WHERE node_id = $1", self.node_id)
