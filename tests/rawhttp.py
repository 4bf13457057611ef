"""A minimal HTTP/1.1 client over asyncio streams, for real-server tests that need exact bytes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

TIMEOUT_S = 10.0


@dataclass
class RawResponse:
    """One response as read off the wire: status, fields in order (names lowercase), content, and a chunked
    response's trailer fields (names as sent)."""

    status: int
    fields: list[tuple[str, str]]
    content: bytes
    interim: list[int] = field(default_factory=list)
    trailers: list[tuple[str, str]] = field(default_factory=list)

    def field(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)


def chunk(piece: bytes) -> bytes:
    """One chunk of chunked transfer coding (RFC 9112 §7.1): hex size, CRLF, data, CRLF."""
    return f"{len(piece):x}\r\n".encode() + piece + b"\r\n"


def chunked(pieces: list[bytes]) -> bytes:
    """``pieces`` as a whole chunked body, last chunk included."""
    return b"".join(map(chunk, pieces)) + b"0\r\n\r\n"


async def read_response(reader: asyncio.StreamReader, *, head: bool = False) -> RawResponse:
    """Read one response (skipping 1xx interim responses, whose statuses are kept in ``interim``)."""
    interim: list[int] = []
    while True:
        head_bytes = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_S)
        status_line, *lines = head_bytes[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = [(name.strip().lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
        if 100 <= status < 200:
            interim.append(status)
            continue
        break
    response = RawResponse(status, fields, b"", interim)
    if head or status in (204, 304):
        return response
    length = response.field("content-length")
    if length is not None:
        response.content = await asyncio.wait_for(reader.readexactly(int(length)), TIMEOUT_S)
    elif response.field("transfer-encoding") == "chunked":
        response.content, response.trailers = await _read_chunked(reader)
    else:
        response.content = await asyncio.wait_for(reader.read(), TIMEOUT_S)
    return response


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, list[tuple[str, str]]]:
    parts: list[bytes] = []
    while True:
        size = int((await asyncio.wait_for(reader.readuntil(b"\r\n"), TIMEOUT_S)).split(b";")[0], 16)
        if size == 0:
            trailers: list[tuple[str, str]] = []
            while line := (await asyncio.wait_for(reader.readuntil(b"\r\n"), TIMEOUT_S))[:-2]:
                name, _, value = line.decode("latin-1").partition(":")
                trailers.append((name, value.strip()))
            return b"".join(parts), trailers
        parts.append(await asyncio.wait_for(reader.readexactly(size + 2), TIMEOUT_S))
        parts[-1] = parts[-1][:-2]


async def exchange(port: int, request: bytes, *, head: bool = False) -> RawResponse:
    """Send ``request`` on a new loopback connection and read one response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await read_response(reader, head=head)
    finally:
        writer.close()


def echoed_line(response: RawResponse, label: str) -> str:
    """The value of a ``LABEL: value`` line of a text echo (``METHOD``, ``TARGET``)."""
    prefix = f"{label}: ".encode()
    for line in response.content.split(b"\n"):
        if line.startswith(prefix):
            return line[len(prefix) :].decode("latin-1")
    raise AssertionError(f"no {label} line in {response.content[:200]!r}")
