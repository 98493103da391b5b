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
    """A ServerConnection whose send() writes a whole text message without the generic path,
    and which stops reading a peer that does not read what it is sent."""

    # websockets writes its automatic answers (pongs, the close frame) without flow control:
    # a peer flooding pings and reading nothing grew this node's write buffer without bound.
    # While the buffer is above its high mark (the transport calls pause_writing), nothing
    # more is read from the peer: its pings wait in the kernel, then in its own send buffer,
    # and the keepalive ends a connection whose peer never reads again.
    _reading_held = False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.paused and not self._reading_held:
            self._reading_held = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._reading_held:
            self._reading_held = False
            if not self.recv_messages.paused:  # the queue's own pause is the assembler's to undo
                self.transport.resume_reading()

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
