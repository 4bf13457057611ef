"""Check 9 of ``bench/hostile.py``: HTTP/2 floods from clients that never read, over raw h2c sockets.

Frames are built by hand (RFC 9113 §4.1), header blocks by ``hpack``, so a flood can do what no polite client
library would: ignore flow control, never read, reset streams as fast as it opens them. The tests in
``tests/hostile/test_http2_floods.py`` use the same clients.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from hpack import Encoder

from bench.bodies import MIB, RssPeak
from bench.hostile_support import Row, log_row, mib, running, serving_row, settled_rss

#: The documented HTTP/2 command's protocol: h2c with prior knowledge and HTTP/1.1 on one port.
HTTP2_OPTIONS = ("--http", "app.server.http2_protocol:EchoAutoZttpProtocol")
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS = 0x1, 0x4
CANCEL = 0x8
ENHANCE_YOUR_CALM = 0xB
FRAME_BYTES = 16384  # SETTINGS_MAX_FRAME_SIZE's initial value
FLOOD_BYTES = 64 * MIB
FLOOD_LIMIT_S = 30.0
FLOOD_GROWTH_BOUND_BYTES = 20 * MIB


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload."""
    return struct.pack("!I", len(payload))[1:] + bytes([kind, flags]) + struct.pack("!I", stream_id) + payload


def request_head(stream_id: int, path: str, *, content_length: int | None = None, end_stream: bool = True) -> bytes:
    """A HEADERS frame with END_HEADERS for a GET (or a POST of ``content_length`` bytes), from a fresh encoder."""
    fields = [(b":method", b"GET" if content_length is None else b"POST"), (b":scheme", b"http")]
    fields += [(b":path", path.encode()), (b":authority", b"bench")]
    if content_length is not None:
        fields.append((b"content-length", str(content_length).encode()))
    return frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream_id, Encoder().encode(fields))


def upload(stream_id: int, path: str, body_bytes: int) -> bytes:
    """A whole POST of ``body_bytes`` on one stream, flow control ignored (the server grants credit as it reads)."""
    parts = [request_head(stream_id, path, content_length=body_bytes, end_stream=False)]
    left = body_bytes
    while left:
        size = min(left, FRAME_BYTES)
        left -= size
        parts.append(frame(DATA, 0 if left else END_STREAM, stream_id, b"a" * size))
    return b"".join(parts)


def client_preface(initial_window_bytes: int | None = None) -> bytes:
    """The client preface and SETTINGS; a window given is also granted on the connection (WINDOW_UPDATE)."""
    if initial_window_bytes is None:
        return PREFACE + frame(SETTINGS, 0, 0)
    settings = frame(SETTINGS, 0, 0, struct.pack("!HI", 0x4, initial_window_bytes))
    return PREFACE + settings + frame(WINDOW_UPDATE, 0, 0, struct.pack("!I", initial_window_bytes - 65535))


def frames(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """The whole frames in ``data`` as (type, flags, stream id, payload)."""
    found = []
    at = 0
    while at + 9 <= len(data):
        length = int.from_bytes(data[at : at + 3], "big")
        stream_id = int.from_bytes(data[at + 5 : at + 9], "big") & 0x7FFFFFFF
        found.append((data[at + 3], data[at + 4], stream_id, data[at + 9 : at + 9 + length]))
        at += 9 + length
    return found


@dataclass(frozen=True)
class Flood:
    """How a flood went: bytes the kernel took, how it ended, seconds taken."""

    sent_bytes: int
    ended: str
    elapsed_s: float

    @property
    def cut_off(self) -> bool:
        """Whether the server closed the connection before the client was done."""
        return self.ended != "all sent"


def flood(
    port: int,
    prologue: bytes,
    unit: Callable[[int], bytes],
    total_bytes: int,
    limit_s: float,
    tls: ssl.SSLContext | None = None,
) -> Flood:
    """Send ``prologue``, then ``unit(0)``, ``unit(1)``, ... up to ``total_bytes`` or ``limit_s``; never read.
    With ``tls``, over TLS with that context (which must offer ``h2`` in ALPN)."""
    started = time.monotonic()
    sent = 0
    ended = "all sent"
    plain = socket.create_connection(("127.0.0.1", port))
    with tls.wrap_socket(plain, server_hostname="localhost") if tls is not None else plain as sock:
        sock.sendall(prologue)
        sock.setblocking(False)
        pending = b""
        index = 0
        while sent < total_bytes and time.monotonic() - started < limit_s:
            if not pending:
                pending = unit(index)
                index += 1
            _, writable, _ = select.select([], [sock], [], 1.0)
            if not writable:
                continue
            try:
                count = sock.send(pending)
            except ssl.SSLWantWriteError:
                continue
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError) as exc:
                ended = f"server closed ({type(exc).__name__})"
                break
            sent += count
            pending = pending[count:]
        if sent >= total_bytes or time.monotonic() - started >= limit_s:
            ended = "all sent" if sent >= total_bytes else f"time limit ({limit_s:g} s)"
    return Flood(sent, ended, time.monotonic() - started)


def repeated(one: bytes, times: int = 4096) -> Callable[[int], bytes]:
    """A flood unit of ``one`` frame repeated."""
    block = one * times
    return lambda index: block


def rapid_resets(index: int) -> bytes:
    """256 streams each opened (GET) and reset at once (CVE-2023-44487), numbered on from ``index``."""
    parts = []
    for offset in range(256):
        stream_id = 2 * (index * 256 + offset) + 1
        parts.append(request_head(stream_id, "/reset") + frame(RST_STREAM, 0, stream_id, struct.pack("!I", CANCEL)))
    return b"".join(parts)


#: The floods of check 9: name, what the client sends first, and the unit it repeats.
FLOODS: tuple[tuple[str, bytes, Callable[[int], bytes]], ...] = (
    ("PING", client_preface(), repeated(frame(PING, 0, 0, b"12345678"))),
    ("SETTINGS", client_preface(), repeated(frame(SETTINGS, 0, 0))),
    ("rapid reset", client_preface(), rapid_resets),
    (
        "CONTINUATION",
        client_preface() + frame(HEADERS, END_STREAM, 1, Encoder().encode([(b":method", b"GET")])),
        repeated(frame(CONTINUATION, 0, 1, b"\x40\x01a\x01b" * 3000), 16),
    ),
    ("WINDOW_UPDATE", client_preface(), repeated(frame(WINDOW_UPDATE, 0, 0, struct.pack("!I", 1)))),
    ("PRIORITY", client_preface(), repeated(frame(PRIORITY, 0, 1, struct.pack("!IB", 0, 16)))),
    (
        "1-byte DATA",
        client_preface() + request_head(1, "/tiny", content_length=8 * MIB, end_stream=False),
        repeated(frame(DATA, 0, 1, b"a")),
    ),
)


def unread_uploads(port: int, streams: int, body_bytes: int, initial_window_bytes: int | None) -> socket.socket:
    """A connection posting ``streams`` uploads to be echoed, then reading nothing; the caller closes it. Its
    receive buffer is small, so the kernel does not take in much of what the server writes on its behalf."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: it sets the window scale
    sock.connect(("127.0.0.1", port))
    sock.sendall(client_preface(initial_window_bytes))
    for index in range(streams):
        sock.sendall(upload(2 * index + 1, f"/unread/{index}", body_bytes))
    return sock


async def h2_post(port: int, body_bytes: int) -> int:
    """The status of one POST over h2c (prior knowledge) by httpx."""
    async with httpx.AsyncClient(http1=False, http2=True, timeout=10.0) as client:
        response = await client.post(f"http://127.0.0.1:{port}/other", content=b"b" * body_bytes)
        return response.status_code


def _flood_rows(name: str, prologue: bytes, unit: Callable[[int], bytes]) -> list[Row]:
    check = f"9 HTTP/2 {name} flood"
    with running(extra=HTTP2_OPTIONS) as server:
        before = settled_rss(server.process.pid)
        since = len(server.log)
        with RssPeak(server.process.pid) as sampler:
            result = flood(server.port, prologue, unit, FLOOD_BYTES, FLOOD_LIMIT_S)
            time.sleep(0.3)
        growth = sampler.peak_bytes - before
        measured = f"{mib(result.sent_bytes)} taken in {result.elapsed_s:.1f} s, {result.ended}; RSS +{mib(growth)}"
        return [
            Row(check, f"{mib(FLOOD_BYTES)} never read; RSS growth < {mib(FLOOD_GROWTH_BOUND_BYTES)}", measured,
                growth < FLOOD_GROWTH_BOUND_BYTES),
            log_row(check, server, since),
            serving_row(check, server),
        ]  # fmt: skip


def _unread_rows() -> list[Row]:
    check = "9 HTTP/2 answers never read"
    streams, body_bytes, budget_bytes, timeout_s = 60, 2 * MIB, 16 * MIB, 3
    env = {"ECHO_MAX_INFLIGHT_BYTES": str(budget_bytes), "ECHO_WRITE_TIMEOUT_S": str(timeout_s)}
    with running(env, HTTP2_OPTIONS) as server:
        before = settled_rss(server.process.pid)
        since = len(server.log)
        with RssPeak(server.process.pid) as sampler:
            sock = unread_uploads(server.port, streams, body_bytes, None)
            time.sleep(timeout_s + 1.5)
            sock.close()
        growth = sampler.peak_bytes - before
        rows = [
            Row(check, f"{streams} x {mib(body_bytes)} echoes never read; RSS growth < budget + 64 MiB",
                f"RSS +{mib(growth)}", growth < budget_bytes + 64 * MIB),
            log_row(check, server, since),
        ]  # fmt: skip
    # One stream, as in tests/hostile/test_http2_floods.py: with many, reading stops for the unread output before
    # the later uploads are read, and how much they hold depends on timing.
    held_bytes, budget_bytes = 8 * MIB, 12 * MIB
    env = {"ECHO_MAX_INFLIGHT_BYTES": str(budget_bytes), "ECHO_WRITE_TIMEOUT_S": str(timeout_s)}
    with running(env, HTTP2_OPTIONS) as server:
        sock = unread_uploads(server.port, 1, held_bytes, None)
        time.sleep(1.0)
        during = asyncio.run(h2_post(server.port, budget_bytes // 2))
        time.sleep(timeout_s + 1.5)
        after = asyncio.run(h2_post(server.port, budget_bytes // 2))
        sock.close()
    bound = f"an echo of {mib(held_bytes)} never read holds it ({mib(budget_bytes)} budget): upload 503, "
    bound += f"after {timeout_s} s 200"
    return [*rows, Row(check, bound, f"{during}, then {after}", during == 503 and after == 200)]


def http2_floods() -> list[Row]:
    """Each flood of ``FLOODS`` on a fresh server, then the unread answers: RSS growth, log, serving after."""
    rows: list[Row] = []
    for name, prologue, unit in FLOODS:
        rows += _flood_rows(name, prologue, unit)
    return rows + _unread_rows()
