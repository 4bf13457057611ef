"""Hostile WebSocket frames over raw sockets: invalid UTF-8 fails the connection with 1007, early and quietly.

RFC 6455 §8.1: an endpoint that receives invalid UTF-8 in a text message fails the connection (close code
1007, §7.4.1); it may do so as soon as a fragment shows it (Autobahn's 6.4.x cases check that). One bad
client logs one line, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct

import pytest

from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

TEXT, CONTINUATION, CLOSE = 0x1, 0x0, 0x8


def frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A masked client frame (RFC 6455 §5.2) with a payload under 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + mask + masked


async def opened(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101 ")
    return reader, writer


async def close_code(reader: asyncio.StreamReader) -> int:
    """The code of the first close frame the server sends (other frames are skipped)."""
    while True:
        first, length = await asyncio.wait_for(reader.readexactly(2), 5)
        payload = await reader.readexactly(length & 0x7F)
        if first & 0x0F == CLOSE:
            code: int = struct.unpack("!H", payload[:2])[0]
            return code


@pytest.fixture
def running(server_pool: ServerPool) -> RunningServer:
    return server_pool.get(())


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param([frame(TEXT, b"\xff\xfe")], id="whole-message"),
        pytest.param([frame(TEXT, b"ok \xed\xa0\x80", fin=False)], id="first-fragment-no-final"),
        pytest.param([frame(TEXT, b"caf\xc3", fin=False), frame(CONTINUATION, b"\x28")], id="split-sequence"),
    ],
)
async def test_invalid_utf8_closes_with_1007_and_one_quiet_log_line(
    running: RunningServer, frames: list[bytes]
) -> None:
    before = len(running.log)
    with running.clean_log():
        reader, writer = await opened(running.port)
        try:
            writer.write(b"".join(frames))
            assert await close_code(reader) == 1007
        finally:
            writer.close()
        await asyncio.sleep(0.1)  # the server's log line reaches the reader thread
    lines = [line for line in running.log[before:] if "invalid UTF-8" in line]
    assert len(lines) == 1
    assert not [line for line in running.log[before:] if "Traceback" in line or "ERROR" in line]


async def test_valid_text_split_inside_a_character_is_echoed(running: RunningServer) -> None:
    reader, writer = await opened(running.port)
    writer.write(frame(TEXT, b"caf" + b"\xc3", fin=False) + frame(CONTINUATION, b"\xa9"))
    first, length = await asyncio.wait_for(reader.readexactly(2), 5)
    assert first == 0x80 | TEXT
    assert await reader.readexactly(length) == "café".encode()
    writer.close()
