"""WebSocket clients that do not read: pongs and echoes respect write back-pressure, and messages count in the
in-flight budget (inflated size, so a compression bomb counts for what it becomes)."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import zlib

import pytest
from websockets.asyncio.client import connect

from bench.bodies import rss_bytes
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

MIB = 1024 * 1024
PING = 0x9


BINARY, RSV1 = 0x2, 0x40


def masked(first_byte: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455 §5.2), any payload length."""
    mask = os.urandom(4)
    if len(payload) < 126:
        length = bytes([0x80 | len(payload)])
    elif len(payload) < 1 << 16:
        length = bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    else:
        length = bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")
    return bytes([first_byte]) + length + mask + body


def masked_ping(payload: bytes) -> bytes:
    return masked(0x80 | PING, payload)


def deflated_message(data: bytes) -> bytes:
    """A binary message compressed with permessage-deflate (RFC 7692 §7.2.1)."""
    compressor = zlib.compressobj(wbits=-15)
    payload = (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    return masked(0x80 | RSV1 | BINARY, payload)


async def opened(port: int, *, deflate: bool = False) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw WebSocket connection that reads nothing after the handshake."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    extension = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
    writer.write(
        f"GET /p HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extension}"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert (b"permessage-deflate" in head) == deflate
    return reader, writer


@pytest.fixture
def budgeted(server_pool: ServerPool) -> RunningServer:
    env = {"ECHO_MAX_INFLIGHT_BYTES": str(24 * MIB), "ECHO_WRITE_TIMEOUT_S": "1"}
    return server_pool.get(("--ws-max-size", str(20 * MIB)), env)


@pytest.fixture
def patient(server_pool: ServerPool) -> RunningServer:
    # Its own server, with the default write timeout: the flood is not cut short by it.
    return server_pool.get((), {"ASGI_ECHO_TEST_ISOLATION": "websocket-pings"})


async def test_pings_from_a_client_that_never_reads_do_not_pile_up_pongs(patient: RunningServer) -> None:
    before = rss_bytes(patient.process.pid)
    _, writer = await opened(patient.port)
    pings = masked_ping(b"p" * 125) * 8000  # about 1 MiB of pings a write
    sent = 0

    async def flood() -> None:
        nonlocal sent
        while True:
            writer.write(pings)
            await writer.drain()
            sent += len(pings)

    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(flood(), 3)
        grown = rss_bytes(patient.process.pid) - before
        assert grown < 24 * MIB, f"{grown / MIB:.0f} MiB after {sent / MIB:.0f} MiB of pings nobody's pongs read"
    finally:
        writer.transport.abort()
        await asyncio.sleep(0)


async def close_code(reader: asyncio.StreamReader) -> int:
    first, _ = await asyncio.wait_for(reader.readexactly(2), 5)
    assert first & 0x0F == 0x8, f"not a close frame: {first:#x}"
    code: int = struct.unpack("!H", await reader.readexactly(2))[0]
    return code


async def test_a_compressed_message_counts_inflated_in_the_budget(server_pool: ServerPool) -> None:
    small = server_pool.get((), {"ECHO_MAX_INFLIGHT_BYTES": str(8 * MIB)})
    reader, writer = await opened(small.port, deflate=True)
    try:
        writer.write(deflated_message(b"\x00" * (16 * MIB)))  # about 16 KiB on the wire, 16 MiB inflated
        assert await close_code(reader) == 1013
    finally:
        writer.transport.abort()
        await asyncio.sleep(0)


async def test_a_message_held_for_a_client_that_never_reads_is_released_at_the_write_timeout(
    budgeted: RunningServer,
) -> None:
    message = masked(0x80 | BINARY, os.urandom(16 * MIB))  # incompressible: its echo fills the buffers
    _, stalled = await opened(budgeted.port)
    try:
        stalled.write(message)  # echoed back to a client that reads nothing: its 16 MiB stay reserved
        await asyncio.sleep(0.5)
        reader, second = await opened(budgeted.port)
        try:
            second.write(message)
            assert await close_code(reader) == 1013
        finally:
            second.transport.abort()
        await asyncio.sleep(1.5)  # past ECHO_WRITE_TIMEOUT_S the stalled client is dropped, its bytes released
    finally:
        stalled.transport.abort()
        await asyncio.sleep(0)
    async with connect(f"ws://127.0.0.1:{budgeted.port}/third", max_size=None) as third:
        await third.send(b"\x01" * (16 * MIB))
        assert await asyncio.wait_for(third.recv(), 10) == b"\x01" * (16 * MIB)
