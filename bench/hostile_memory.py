"""Checks 10-12 of ``bench/hostile.py``: memory that rendering, WebSocket compression bombs and hang-ups in
each phase could take outside the in-flight budget (hardening issue #17, items 5 and 6)."""

from __future__ import annotations

import asyncio
import socket
import time

from bench.bodies import MIB, RssPeak
from bench.hostile_support import Row, log_row, mib, request, rst_close, running, serving_row, settled_rss
from tests.hostile.test_websocket_output import deflated_message, masked, masked_ping, opened

#: The default ECHO_MAX_INFLIGHT_BYTES; every check runs with the defaults.
BUDGET_BYTES = 256 * MIB
#: What the server may hold beyond the budget: interpreter, buffers, the allocator's slack (check 3's margin).
MARGIN_BYTES = 100 * MIB
RENDER_LIMIT_S = 120.0
WS_MESSAGE_BYTES = 16 * MIB  # uvicorn's --ws-max-size default
HANGUP_FLAT_BYTES = 5 * MIB
LEAK_CHECK_ENV = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}  # as check 4: leaks, not the allocator's caching


def _post(target: str, content_type: str, content: bytes) -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\nContent-Length: {len(content)}"
    return head.encode() + b"\r\n\r\n" + content


TEN_MIB = 10 * MIB
#: The worst 10 MiB contents for each rendering: (name, target, content type).
RENDER_BOMBS = (
    ("JSON [{},...]", "json", "application/json"),
    ("control characters", "ctl", "text/plain"),
    ("form of %01", "form", "application/x-www-form-urlencoded"),
    ("one emoji, controls", "emoji", "text/plain"),
)


def _bomb_content(target: str) -> bytes:
    if target == "json":
        return b"[" + b"{}," * (TEN_MIB // 3 - 1) + b"{}]"
    if target == "form":
        return b"a=" + b"%01" * (TEN_MIB // 3 - 1)
    if target == "emoji":
        return "\U0001f600".encode() + b"\x01" * (TEN_MIB - 4)
    return b"\x01" * TEN_MIB


async def render_wave(port: int, copies: int) -> list[int | BaseException]:
    raws = [
        _post(f"/hostile/{target}?echo_format=json", content_type, _bomb_content(target))
        for _, target, content_type in RENDER_BOMBS
        for _ in range(copies)
    ]
    responses = await asyncio.gather(*(request(port, raw, RENDER_LIMIT_S) for raw in raws), return_exceptions=True)
    return [r.status if not isinstance(r, BaseException) else r for r in responses]


def render_memory(copies: int) -> list[Row]:
    """``copies`` of each worst 10 MiB content at once, JSON echo asked: peak RSS within the budget and margin,
    each answered 200 or a plain 503."""
    name = "10 rendering memory"
    with running() as server:
        since = len(server.log)
        before = settled_rss(server.process.pid)
        started = time.monotonic()
        with RssPeak(server.process.pid) as sampler:
            outcomes = asyncio.run(render_wave(server.port, copies))
        elapsed_s = time.monotonic() - started
        statuses = [o for o in outcomes if isinstance(o, int)]
        failures = [f"{type(o).__name__}: {o}" for o in outcomes if not isinstance(o, int)]
        growth = sampler.peak_bytes - before
        kinds = ", ".join(kind for kind, _, _ in RENDER_BOMBS)
        return [
            Row(name, f"{copies} each of {kinds} (10 MiB, echo_format=json) at once: peak RSS growth < "
                      f"ECHO_MAX_INFLIGHT_BYTES {mib(BUDGET_BYTES)} + {mib(MARGIN_BYTES)}",
                f"{len(outcomes)} in {elapsed_s:.1f} s; peak +{mib(growth)}", growth < BUDGET_BYTES + MARGIN_BYTES),
            Row(name, "each answered 200 or 503 (plain, the budget named)",
                f"200: {statuses.count(200)}, 503: {statuses.count(503)}"
                + (f"; failed: {failures[0]}" if failures else ""),
                not failures and set(statuses) <= {200, 503}),
            log_row(name, server, since),
            serving_row(name, server),
        ]  # fmt: skip


async def bomb_clients(port: int, clients: int, frames: int, hold_s: float) -> int:
    """``clients`` that each send ``frames`` compression bombs and read nothing; returns the bytes sent."""
    bomb = deflated_message(b"\x00" * WS_MESSAGE_BYTES)
    writers = []
    try:
        for _ in range(clients):
            _, writer = await opened(port, deflate=True)
            writer.write(bomb * frames)
            writers.append(writer)
        await asyncio.sleep(hold_s)
    finally:
        for writer in writers:
            writer.transport.abort()
        await asyncio.sleep(0)
    return clients * frames * len(bomb)


async def _pings(port: int, flood_s: float) -> int:
    """Pings from a client that never reads the pongs, for ``flood_s``; returns the bytes sent."""
    _, writer = await opened(port)
    pings = masked_ping(b"p" * 125) * 8000
    sent = 0
    deadline = time.monotonic() + flood_s
    try:
        while time.monotonic() < deadline:
            writer.write(pings)
            try:
                await asyncio.wait_for(writer.drain(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            sent += len(pings)
    finally:
        writer.transport.abort()
        await asyncio.sleep(0)
    return sent


def websocket_bombs(clients: int, frames: int, hold_s: float) -> list[Row]:
    """Compression bombs (16 MiB inflated from ~16 KiB) and unread pongs from clients that never read."""
    name = "11 WebSocket bombs"
    with running() as server:
        since = len(server.log)
        before = settled_rss(server.process.pid)
        with RssPeak(server.process.pid) as sampler:  # first: the bombs' work must not count as the pongs'
            pinged = asyncio.run(_pings(server.port, hold_s))
        ping_growth = sampler.peak_bytes - before
        before = settled_rss(server.process.pid)
        started = time.monotonic()
        with RssPeak(server.process.pid) as sampler:
            sent = asyncio.run(bomb_clients(server.port, clients, frames, hold_s))
        elapsed_s = time.monotonic() - started
        bomb_growth = sampler.peak_bytes - before
        bound = clients * 2 * WS_MESSAGE_BYTES + MARGIN_BYTES  # the message echoed and the one inflated
        return [
            Row(name, f"{clients} clients that never read, {frames} deflated frames of {mib(WS_MESSAGE_BYTES)} each: "
                      f"peak RSS growth < two messages a client + {mib(MARGIN_BYTES)} ({mib(bound)})",
                f"{mib(sent)} sent ({mib(clients * frames * WS_MESSAGE_BYTES)} inflated) in {elapsed_s:.1f} s; "
                f"peak +{mib(bomb_growth)}",
                bomb_growth < bound),
            Row(name, f"pings for {hold_s:.0f} s from a client that never reads the pongs: peak RSS growth < 24 MiB",
                f"{mib(pinged)} of pings; peak +{mib(ping_growth)}", ping_growth < 24 * MIB),
            log_row(name, server, since),
            serving_row(name, server),
        ]  # fmt: skip


WS_HEAD = (
    b"GET /hostile/ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


def _ws_mid_handshake(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(WS_HEAD)  # no blank line: the head never ends
    time.sleep(0.002)
    rst_close(sock)


def _ws_mid_message(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(5)
    sock.sendall(WS_HEAD + b"\r\n")
    sock.recv(4096)  # 101
    frame = masked(0x82, b"m" * 65536)
    sock.sendall(frame[: len(frame) // 2])  # half a message
    time.sleep(0.002)
    rst_close(sock)


def _ws_echo_unread(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(5)
    sock.sendall(WS_HEAD + b"\r\n")
    sock.recv(4096)
    sock.sendall(masked(0x82, b"e" * 65536) + masked_ping(b"p"))  # an echo and a pong nobody reads
    time.sleep(0.002)
    rst_close(sock)


def _http_after_answer(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(5)
    sock.sendall(b"GET /hostile/keep-alive HTTP/1.1\r\nHost: bench\r\n\r\n")
    sock.recv(65536)  # answered: the keep-alive timer is armed
    rst_close(sock)


def _http_mid_head(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /hostile/head HTTP/1.1\r\nHost: bench\r\nX-Half: ")
    time.sleep(0.002)
    rst_close(sock)


PHASES = (_ws_mid_handshake, _ws_mid_message, _ws_echo_unread, _http_after_answer, _http_mid_head)


def _hang_up(port: int, count: int) -> None:
    for done in range(count):
        PHASES[done % len(PHASES)](port)


def phase_hangups(count: int, warmup: int = 100) -> list[Row]:
    """RST in each phase: mid-handshake, mid-message and with an echo unread (WebSocket), after an answer and
    mid-head (HTTP): RSS flat, log clean, normal requests served."""
    name = "12 hang-ups per phase"
    with running(LEAK_CHECK_ENV) as server:
        since = len(server.log)
        _hang_up(server.port, warmup)
        before = settled_rss(server.process.pid, 1.0)
        started = time.monotonic()
        _hang_up(server.port, count)
        elapsed_s = time.monotonic() - started
        after = settled_rss(server.process.pid, 1.0)
        growth = after - before
        sign = "+" if growth >= 0 else ""
        lines = len(server.log) - since
        return [
            Row(name, f"server output: at most two lines per hang-up ({count + warmup}; a WebSocket's accepted and "
                      "open lines, a request's access line): no line per failure",
                f"{lines} lines", lines <= 2 * (count + warmup)),
            Row(name, f"{count} RSTs (WebSocket mid-handshake, mid-message, echo unread; HTTP after an answer, "
                      f"mid-head): RSS flat within {mib(HANGUP_FLAT_BYTES)} after {warmup} warm-up ones (glibc's mmap "
                      "threshold fixed at 128 KiB, as in check 4)",
                f"{count} in {elapsed_s:.1f} s; RSS {mib(before)} -> {mib(after)} ({sign}{mib(growth)})",
                abs(growth) < HANGUP_FLAT_BYTES),
            log_row(name, server, since),
            serving_row(name, server),
        ]  # fmt: skip
