"""PostgreSQL LISTEN/NOTIFY on one dedicated connection: the bus between CSMS nodes."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import asyncpg

from csms.store.database import Pool

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


class Notifications:
    """Messages from other nodes, queued for one consumer task; sending goes through the pool."""

    def __init__(self, pool: Pool, conn: asyncpg.Connection, channels: tuple[str, ...]) -> None:
        self._pool = pool
        self.conn = conn
        self._channels = channels
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def start(self) -> None:
        for channel in self._channels:
            await self.conn.add_listener(channel, self._on_notify)

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
        for channel in self._channels:
            await self.conn.remove_listener(channel, self._on_notify)
        await self.conn.close()
