"""StationSocket's short send path: what it writes is what websockets' own send() would."""

from __future__ import annotations

import asyncio
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from csms.gateway.station_socket import StationSocket


async def _echo(websocket: ServerConnection) -> None:
    async for message in websocket:
        await websocket.send(message)


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_text_answers_arrive_whole_with_and_without_deflate(compression: str | None) -> None:
    async with serve(_echo, "127.0.0.1", 0, create_connection=StationSocket) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=compression) as client:
            for text in ['[2,"1","Heartbeat",{}]', "充电桩" * 1000, "x" * 300_000]:
                await client.send(text)
                assert await client.recv() == text
            await client.send(b"\x00\x01")  # bytes take the library's path
            assert await client.recv() == b"\x00\x01"


async def test_a_send_after_the_peer_left_raises_connection_closed() -> None:
    sockets: list[ServerConnection] = []
    arrived = asyncio.Event()

    async def keep(websocket: ServerConnection) -> None:
        sockets.append(websocket)
        arrived.set()
        await websocket.wait_closed()

    async with serve(keep, "127.0.0.1", 0, create_connection=StationSocket) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}"):
            await arrived.wait()
        await sockets[0].wait_closed()
        with pytest.raises(ConnectionClosed):
            await sockets[0].send('[3,"1",{}]')


async def test_a_station_that_stops_reading_makes_send_wait() -> None:
    """Flow control: once the kernel's buffers are full, send() waits instead of buffering
    without limit in the process (a raw client that completes the handshake, then reads
    nothing); the answers sent until then arrive whole and in order when it reads again."""
    sent: list[int] = []

    async def flood(websocket: ServerConnection) -> None:
        for i in range(400):
            await websocket.send(f"{i:04d}" + "y" * 100_000)  # 40 MB in all
            sent.append(i)

    async with serve(flood, "127.0.0.1", 0, create_connection=StationSocket) as server:
        port = server.sockets[0].getsockname()[1]
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
        raw.connect(("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=raw)
        writer.write(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        await asyncio.sleep(0.5)
        assert 0 < len(sent) < 100  # a few MB went into the kernel's buffers, no more
        header = await reader.readexactly(10)  # FIN + text, 127, 64-bit length: unmasked
        assert header == bytes([0x81, 127]) + (100_004).to_bytes(8, "big")
        assert (await reader.readexactly(100_004)).startswith(b"0000yyy")
        writer.close()
