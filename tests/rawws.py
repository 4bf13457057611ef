"""A raw WebSocket client for conformance tests: frames built byte by byte (RFC 6455 §5.2), so a test can send
what no library would (reserved bits and opcodes, a close between fragments, a frame in chops)."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from dataclasses import dataclass

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
RSV1, RSV2, RSV3 = 0x40, 0x20, 0x10
READ_TIMEOUT_S = 10.0  # generous: the machine is shared and loaded


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bytes | None = None) -> bytes:
    """A masked client frame with any payload length; ``rsv`` is RSV1|RSV2|RSV3 bits as they sit in byte 0."""
    key = os.urandom(4) if mask is None else mask
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    elif size < 1 << 16:
        length = bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        length = bytes([0x80 | 127]) + struct.pack("!Q", size)
    masked = bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))
    return bytes([(0x80 if fin else 0) | rsv | opcode]) + length + key + masked


def close_frame(code: int, reason: bytes = b"") -> bytes:
    return frame(CLOSE, struct.pack("!H", code) + reason)


@dataclass(frozen=True, slots=True)
class ServerFrame:
    """A frame the server sent (unmasked)."""

    opcode: int
    payload: bytes
    fin: bool

    @property
    def close_code(self) -> int | None:
        if self.opcode != CLOSE or len(self.payload) < 2:
            return None
        code: int = struct.unpack("!H", self.payload[:2])[0]
        return code


async def connect(port: int, path: str = "/ws") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the server on loopback, past the opening handshake (no extension offered)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
    assert head.startswith(b"HTTP/1.1 101 "), head
    return reader, writer


async def read_frame(reader: asyncio.StreamReader, timeout_s: float = READ_TIMEOUT_S) -> ServerFrame:
    first, second = await asyncio.wait_for(reader.readexactly(2), timeout_s)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", await reader.readexactly(8))[0]
    payload = await asyncio.wait_for(reader.readexactly(size), timeout_s)
    return ServerFrame(opcode=first & 0x0F, payload=payload, fin=bool(first & 0x80))


async def frames_until_close(reader: asyncio.StreamReader, timeout_s: float = READ_TIMEOUT_S) -> list[ServerFrame]:
    """Every frame the server sends up to and including its close frame."""
    frames: list[ServerFrame] = []
    while not frames or frames[-1].opcode != CLOSE:
        frames.append(await read_frame(reader, timeout_s))
    return frames
