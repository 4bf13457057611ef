"""What the app may ask of the server that ASGI cannot express: a TCP reset, a close without an answer (or in the
middle of one), and a trailer section after a chunked response (RFC 9112 §7.1.2).

``EchoHttpToolsProtocol`` keeps one ``ServerActions`` per connection and puts it in every request's
``scope["extensions"]`` under ``ACTIONS_EXTENSION``; other servers (plain uvicorn, h11, HTTP/2) put none, so
``actions_of`` gives None there.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Sequence
from typing import Protocol

from starlette.types import Scope

ACTIONS_EXTENSION = "asgi_echo.actions"
LAST_CHUNK = b"0\r\n\r\n"
#: ``SO_LINGER`` on with a zero timeout: closing the socket sends RST instead of FIN (``socket(7)``).
_LINGER_ZERO = struct.pack("ii", 1, 0)


class Writer(Protocol):
    """What a response cycle writes through: ``app.server.coalesce.CoalescingWriter`` or a transport."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def is_closing(self) -> bool: ...


class Cycle(Protocol):
    """The names of uvicorn's ``RequestResponseCycle`` used here (``app.server.uvicorn_surface.CYCLE_READ``)."""

    transport: Writer
    disconnected: bool
    chunked_encoding: bool | None
    message_event: asyncio.Event


class ServerActions:
    """Actions on one connection and on the response in progress. uvicorn runs one request's app at a time per
    connection, in order, and the protocol points ``cycle`` at it as it starts, so an app acts on its own
    response as long as it calls these before its last ``http.response.body``. Each ends the response's writing
    where it says so, so uvicorn neither sends more nor logs an incomplete response."""

    __slots__ = ("cycle", "transport", "writer")

    def __init__(self, transport: asyncio.Transport, writer: Writer) -> None:
        self.transport = transport
        self.writer = writer
        self.cycle: Cycle | None = None  # the request whose app runs, set by the protocol

    def reset(self) -> None:
        """Abort the connection with a TCP reset (RST): nothing held or queued is sent."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # not a TCP socket: abort() still ends the connection, with FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        self._end_response()
        self.transport.abort()

    def close(self) -> None:
        """Close the connection cleanly (FIN) once what was written so far has gone out: with no response
        started the client gets no answer; in the middle of the content it gets a truncated one."""
        self._end_response()
        self.writer.close()

    def trailers(self, fields: Sequence[tuple[bytes, bytes]]) -> bool:
        """End the response in progress with ``fields`` as its trailer section: call it after
        ``http.response.start`` and send the last ``http.response.body`` with empty content. False (and nothing
        changes) when the response is not chunked: it has a ``Content-Length``, or no content (HEAD, 204, 304)."""
        cycle = self.cycle
        if cycle is None or not cycle.chunked_encoding:
            return False
        section = b"".join(b"%s: %s\r\n" % (name, value) for name, value in fields)
        cycle.transport = _TrailingWriter(cycle.transport, b"0\r\n" + section + b"\r\n")
        return True

    def _end_response(self) -> None:
        cycle = self.cycle
        if cycle is not None:
            cycle.disconnected = True  # uvicorn's send() returns at once from here on
            cycle.message_event.set()


class _TrailingWriter:
    """The response's writer, except that the last chunk goes out with the trailer section."""

    def __init__(self, writer: Writer, last_chunk: bytes) -> None:
        self.writer = writer
        self.last_chunk = last_chunk

    def write(self, data: bytes) -> None:
        # uvicorn writes the last chunk alone when the last body message is empty.
        self.writer.write(self.last_chunk if data == LAST_CHUNK else data)

    def close(self) -> None:
        self.writer.close()

    def is_closing(self) -> bool:
        return self.writer.is_closing()


def actions_of(scope: Scope) -> ServerActions | None:
    """The protocol's ``ServerActions`` for this request, None under another server."""
    extensions = scope.get("extensions")
    return extensions.get(ACTIONS_EXTENSION) if extensions else None
