"""PostgreSQL LISTEN/NOTIFY on one dedicated connection: the bus between CSMS nodes.

The same connection holds the node's identity lock (see NodeStore.claim_identity), so when it
drops, both are re-established together by `ensure()`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import asyncpg

from csms.store.database import Pool, connect

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


class Notifications:
    """Messages from other nodes, queued for one consumer task; sending goes through the pool."""

    def __init__(self, pool: Pool, url: str, channels: tuple[str, ...]) -> None:
        self._pool = pool
        self._url = url
        self._channels = channels
        self.conn: asyncpg.Connection | None = None
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def start(self) -> asyncpg.Connection:
        """Open the listening connection; returns it so the caller can take locks on it."""
        conn = await connect(self._url)
        for channel in self._channels:
            await conn.add_listener(channel, self._on_notify)
        self.conn = conn
        return conn

    async def alive(self) -> bool:
        """Whether the listening connection still answers (a dropped one misses messages)."""
        if self.conn is None or self.conn.is_closed():
            return False
        try:
            await self.conn.fetchval("SELECT 1", timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    async def restart(self) -> asyncpg.Connection:
        """Replace a dead listening connection with a new one."""
        await self.close()
        return await self.start()

    def _on_notify(self, _conn: Any, _pid: int, channel: str, payload: object) -> None:
        try:
            self.queue.put_nowait((channel, json.loads(str(payload))))
        except ValueError:
            log.warning("ignored an unreadable notification on %s", channel)

    async def send(self, channel: str, message: dict[str, Any]) -> bool:
        """NOTIFY all nodes; False when the message is too large to go this way."""
        text = json.dumps(message, separators=(",", ":"))
        if len(text.encode()) > MAX_PAYLOAD:
            return False
        await self._pool.execute("SELECT pg_notify($1, $2)", channel, text)
        return True

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None or conn.is_closed():
            return
        try:
            for channel in self._channels:
                await conn.remove_listener(channel, self._on_notify)
            await conn.close(timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            conn.terminate()
