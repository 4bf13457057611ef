"""The request as it crossed the wire: each head's exact bytes, and facts about connection and body timing.

``HeadSplitter`` cuts a connection's bytes into request heads, skipping each body by the framing the parser
found (RFC 9112 §6); malformed framing needs no care here, as the parser refuses it and the connection closes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from starlette.types import Scope

WIRE_EXTENSION = "asgi_echo.wire"

#: How a request's content is framed, as the parser saw it: its Content-Length (0 for none), or chunked.
Framing = tuple[int, bool]
_HEAD, _FIXED, _CHUNK_SIZE, _CHUNK_DATA, _TRAILER, _STOPPED = range(6)
_MAX_LINE_BYTES = 64 * 1024
NO_TRAILERS: list[tuple[bytes, bytes]] = []  # shared by every request without trailer fields: never appended to


class WireFacts:
    """One request as received: ``raw_head``, ``names`` (each field name as spelled, in order) and ``content_bytes``
    (so far, chunked framing removed). Times are ``loop.time()`` seconds; read the body fields after the body.
    ``raw_head`` may be set to bytes that start with the head: it is cut from them when first read.

    A chunked request's trailer section (RFC 9112 §7.1.2), once its content has been read: ``trailers``, the fields
    as ``(name as sent, value)`` pairs in order (the value without surrounding whitespace, RFC 9110 §5.5), and
    ``raw_trailers``, the section's bytes as received, its closing empty line included; empty for none."""

    __slots__ = (
        *("_head", "content_bytes", "first_byte_s", "head_end_s", "last_byte_s"),
        *("names", "peer", "pipelined", "raw_trailers", "request_index", "tls", "trailers"),
    )

    def __init__(
        self,
        raw_head: bytes,
        names: list[bytes],
        request_index: int,
        pipelined: bool,
        head_end_s: float,
        tls: dict[str, Any] | None = None,
        peer: tuple[str, int] | None = None,
    ) -> None:
        self._head = raw_head
        self.names = names
        self.request_index = request_index
        self.pipelined = pipelined
        self.head_end_s = head_end_s
        self.tls = tls
        self.peer = peer  # the TCP peer as the socket gives it, whatever proxy fields say
        self.first_byte_s: float | None = None
        self.last_byte_s: float | None = None
        self.content_bytes = 0
        self.trailers: list[tuple[bytes, bytes]] = NO_TRAILERS  # replaced, never appended to, when fields come
        self.raw_trailers = b""

    @property
    def raw_head(self) -> bytes:
        """The head exactly as received, ending with its empty line; empty when it was not kept."""
        # A head has no empty line before its end and starts with its request line (RFC 9112 §2.2).
        held = self._head.lstrip(b"\r\n")
        end = held.find(b"\r\n\r\n")
        self._head = held if end < 0 else held[: end + 4]
        return self._head

    @raw_head.setter
    def raw_head(self, head: bytes) -> None:
        self._head = head

    def add_trailer(self, name: bytes, value: bytes) -> None:
        """Note one trailer field, ``name`` as sent."""
        if self.trailers is NO_TRAILERS:
            self.trailers = []
        self.trailers.append((name, value))

    def count_content(self, size_bytes: int, now_s: float) -> None:
        """Note ``size_bytes`` of content received at loop time ``now_s``."""
        if self.first_byte_s is None:
            self.first_byte_s = now_s
        self.last_byte_s = now_s
        self.content_bytes += size_bytes

    def body_timing_ms(self) -> tuple[float | None, float | None]:
        """(first, last) content byte arrival in milliseconds after the end of the head, or None."""
        if self.first_byte_s is None or self.last_byte_s is None:
            return None, None
        return _ms(self.first_byte_s - self.head_end_s), _ms(self.last_byte_s - self.head_end_s)


def _ms(seconds: float) -> float:
    return round(max(seconds, 0.0) * 1000, 3)


class HeadSplitter:
    """Finds request heads in a connection's byte stream; complete heads wait in ``heads``, in order."""

    def __init__(self) -> None:
        self.heads: deque[bytes] = deque()
        #: The framing of each head the parser completed and the splitter has not reached yet, in order.
        self.framings: deque[Framing] = deque()
        self._state = _HEAD
        self._buffer = bytearray()  # an incomplete head, or an incomplete chunk-size or trailer line
        self._remaining = 0  # bytes left of a fixed-length body or of a chunk with its CRLF
        self.trailer_bytes = 0  # of the current trailer section (the protocol bounds them)
        self._trailer = bytearray()  # the current trailer section as received
        #: Each chunked message's trailer section, in order, once complete (b"" for none).
        self.trailer_sections: deque[bytes] = deque()
        self.idle = True  # between messages, nothing buffered

    def feed(self, data: bytes) -> None:
        """Consume the next bytes of the stream; framing it cannot follow stops it for good."""
        position, end = 0, len(data)
        while position < end and self._state != _STOPPED:
            if self._state == _HEAD:
                position = self._head(data, position)
            elif self._state in (_FIXED, _CHUNK_DATA):
                taken = min(self._remaining, end - position)
                position += taken
                self._remaining -= taken
                if self._remaining == 0:
                    self._state = _HEAD if self._state == _FIXED else _CHUNK_SIZE
            else:
                position = self._line(data, position)
        self.idle = self._state == _HEAD and not self._buffer

    def _head(self, data: bytes, position: int) -> int:
        if not self._buffer:
            # Empty lines before a request line are ignored (RFC 9112 §2.2); a request line never starts
            # with CR or LF, so skipping them byte by byte also copes with a CRLF split across reads.
            while position < len(data) and data[position] in b"\r\n":
                position += 1
            if position >= len(data):
                return position
            found = data.find(b"\r\n\r\n", position)
            if found >= 0:
                self._complete_head(data[position : found + 4])
                return found + 4
            self._buffer += data[position:]
            return len(data)
        searched = max(len(self._buffer) - 3, 0)
        self._buffer += data[position:]
        found = self._buffer.find(b"\r\n\r\n", searched)
        if found < 0:
            return len(data)
        head = bytes(self._buffer[: found + 4])
        consumed = len(head) - (len(self._buffer) - (len(data) - position))
        self._buffer.clear()
        self._complete_head(head)
        return position + consumed

    def _complete_head(self, head: bytes) -> None:
        self.heads.append(head)
        if not self.framings:  # the parser did not accept this head: it refuses the request
            self._stop()
            return
        length, chunked = self.framings.popleft()
        if chunked:
            self._state = _CHUNK_SIZE
            return
        self._remaining = length
        self._state = _FIXED if length else _HEAD

    def _line(self, data: bytes, position: int) -> int:
        if self._buffer.endswith(b"\r") and data.startswith(b"\n", position):  # CRLF split across reads
            line = bytes(self._buffer[:-1])
            self._buffer.clear()
            self._keep_trailer(data, position, position + 1)
            return self._end_line(line, position + 1, len(data))
        found = data.find(b"\r\n", position)
        if found < 0:
            self._keep_trailer(data, position, len(data))
            self._buffer += data[position:]
            if self._state == _TRAILER and len(self._buffer) > 2:
                del self._buffer[1:-1]  # only "empty or not" and a trailing CR matter for a trailer line
            elif len(self._buffer) > _MAX_LINE_BYTES:
                self._stop()
            return len(data)
        self._keep_trailer(data, position, found + 2)
        line = bytes(self._buffer) + data[position:found]
        self._buffer.clear()
        return self._end_line(line, found + 2, len(data))

    def _keep_trailer(self, data: bytes, start: int, end: int) -> None:
        if self._state == _TRAILER:
            self.trailer_bytes += end - start
            self._trailer += data[start:end]

    def _end_line(self, line: bytes, position: int, end: int) -> int:
        if self._state == _CHUNK_SIZE:
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._stop()
                return end
            if size:
                self._state, self._remaining = _CHUNK_DATA, size + 2
            else:
                self._state, self.trailer_bytes = _TRAILER, 0
                self._trailer.clear()
        elif not line:  # the empty line ending the trailer section ends the message
            self._state = _HEAD
            self.trailer_sections.append(bytes(self._trailer) if len(self._trailer) > 2 else b"")
        return position

    def _stop(self) -> None:
        self._state = _STOPPED
        self._buffer.clear()


def tls_facts(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """TLS version, cipher and ALPN protocol, or None without TLS. No SNI: uvicorn sets no ``sni_callback``, and a
    server-side ``SSLObject`` keeps no ``server_hostname``."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    cipher = ssl_object.cipher()
    return {
        "version": ssl_object.version(),
        "cipher": cipher[0] if cipher else None,
        "sni": None,
        "alpn": ssl_object.selected_alpn_protocol(),
    }


def wire_of(scope: Scope) -> WireFacts | None:
    """The protocol's ``WireFacts`` for this request, None under another server (or with capture off)."""
    extensions = scope.get("extensions")
    return extensions.get(WIRE_EXTENSION) if extensions else None


def names_as_sent(wire: WireFacts | None, headers: list[tuple[bytes, bytes]]) -> list[bytes] | None:
    """The field names as spelled, one per pair of ``headers``, or None when not kept or not one to one."""
    if wire is None or len(wire.names) != len(headers):
        return None
    return wire.names
