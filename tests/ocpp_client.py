"""A deliberately low-level OCPP-J test client: raw frames in, raw frames out."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

_ids = itertools.count(1)


class OcppClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    async def send_raw(self, text: str) -> list[Any]:
        await self.ws.send(text)
        return await self.recv()

    async def recv(self, timeout: float = 10) -> list[Any]:
        reply: list[Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return reply

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload; fail the test on CALLERROR."""
        unique_id = str(next(_ids))
        reply = await self.send_raw(json.dumps([2, unique_id, action, payload]))
        assert reply[0] == 3 and reply[1] == unique_id, reply
        result: dict[str, Any] = reply[2]
        return result

    async def call_error(self, action: str, payload: Any) -> tuple[str, str]:
        """Send a CALL expected to fail; return (errorCode, description)."""
        unique_id = str(next(_ids))
        reply = await self.send_raw(json.dumps([2, unique_id, action, payload]))
        assert reply[0] == 4 and reply[1] == unique_id, reply
        return reply[2], reply[3]

    async def close(self) -> None:
        await self.ws.close()


async def open_client(
    port: int,
    station_id: str,
    subprotocols: Sequence[str] = ("ocpp1.6",),
    *,
    prefix: str = "/ocpp/",
    headers: dict[str, str] | None = None,
    ssl: Any = None,
) -> OcppClient:
    scheme = "wss" if ssl else "ws"
    ws = await connect(
        f"{scheme}://127.0.0.1:{port}{prefix}{station_id}",
        subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
        additional_headers=headers,
        ssl=ssl,
        open_timeout=10,
    )
    return OcppClient(ws)
