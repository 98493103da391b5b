"""The server side of a station's WebSocket: websockets' connection with a shorter send.

Every answer the CSMS sends is one whole text message. websockets' `send()` serves every case
(fragments from iterables, binary, a send racing a close) through an async context manager,
which cost ~4 % of a message's CPU under load. The short path frames the text with the
library's own protocol object (so permessage-deflate, masking rules and state stay its
business) and writes it at once; anything else (a fragmented send in progress, a connection
not OPEN, bytes) takes the library's path unchanged, which waits or raises ConnectionClosed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Iterable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import OPEN


class StationSocket(ServerConnection):
    """A ServerConnection whose send() writes a whole text message without the generic path."""

    async def send(
        self,
        message: Any | Iterable[Any] | AsyncIterable[Any],
        *,
        text: bool | None = None,
    ) -> None:
        if (
            type(message) is not str
            or text is False
            or self.send_in_progress is not None
            or self.protocol.state is not OPEN
        ):
            await super().send(message, text=text)
            return
        try:
            self.protocol.send_text(message.encode())
            self.send_data()
        except Exception as exc:  # as the library does when writing fails: end the connection
            self.set_connection_exc(exc)
            self.transport.abort()
            await asyncio.shield(self.connection_lost_waiter)
            raise self.close_exc from None
        if self.paused or self.transport.is_closing():
            await self.drain()  # flow control: wait while the kernel's buffer is full
