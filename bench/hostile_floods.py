"""Checks 1-3 of ``bench/hostile.py``: a header flood, slow clients, and many large bodies at once."""

from __future__ import annotations

import asyncio
import select
import socket
import time

from bench.bodies import MIB, RssPeak
from bench.hostile_support import Row, log_row, mib, request, running, serving_row, settled_rss
from tests.rawhttp import read_response

FLOOD_GROWTH_BOUND_BYTES = 20 * MIB
FLOOD_LIMIT_S = 60.0
SLOW_CONNECTIONS = 500
SLOW_HEADER_TIMEOUT_S = 2
SLOW_PARTIAL_HEAD = b"GET /hostile/slow HTTP/1.1\r\nHost: bench\r\nX-Never-Ends: "
CEILING_BODY_BYTES = 10 * MIB  # ECHO_MAX_BODY_BYTES's default: the largest body echoed
CEILING_OVERHEAD_BYTES = 100 * MIB  # interpreter, app, buffers and the copies rendering an echo makes
CEILING_LIMIT_S = 120.0


# 1. Header flood -------------------------------------------------------------------------------


def _flood(port: int, total_bytes: int) -> tuple[int, bytes, str]:
    """Stream one never-ending header line of up to ``total_bytes``; read whatever comes back meanwhile.

    Returns the bytes the kernel accepted, the bytes received, and how the exchange ended.
    """
    chunk = b"a" * (64 * 1024)
    received = bytearray()
    sent = 0
    ended = "all bytes sent"
    deadline = time.monotonic() + FLOOD_LIMIT_S
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.sendall(b"GET /hostile/flood HTTP/1.1\r\nHost: bench\r\nX-Flood: ")
        sock.setblocking(False)
        while sent < total_bytes and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1.0)
            try:
                if readable:
                    data = sock.recv(65536)
                    if not data:
                        ended = "server closed (EOF) while the client was sending"
                        break
                    received += data
                if writable:
                    sent += sock.send(chunk[: total_bytes - sent])
            except (BrokenPipeError, ConnectionResetError) as exc:
                ended = f"server closed ({type(exc).__name__}) while the client was sending"
                break
        # Read the rest of the answer: the server may have closed right after writing it.
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            while data := sock.recv(65536):
                received += data
        except (ConnectionResetError, TimeoutError) as exc:
            ended += f"; then {type(exc).__name__} while reading"
    finally:
        sock.close()
    return sent, bytes(received), ended


def header_flood(total_bytes: int) -> list[Row]:
    """One connection streams ``total_bytes`` of one header line: RSS growth, the answer, serving after."""
    name = "1 header flood"
    with running() as server:
        before = settled_rss(server.process.pid)
        since = len(server.log)
        with RssPeak(server.process.pid) as sampler:
            sent, received, ended = _flood(server.port, total_bytes)
            time.sleep(0.3)  # the server may still be freeing what it held
        growth = sampler.peak_bytes - before
        status_line = received.split(b"\r\n", 1)[0].decode("latin-1") if received else "(nothing)"
        return [
            Row(name, f"{mib(total_bytes)} offered; RSS growth < {mib(FLOOD_GROWTH_BOUND_BYTES)}",
                f"+{mib(growth)} (peak {mib(sampler.peak_bytes)}); "
                f"{mib(sent)} accepted by the kernel before close",
                growth < FLOOD_GROWTH_BOUND_BYTES),
            Row(name, "answer: 431, then close", f"{status_line}; {ended}",
                status_line.startswith("HTTP/1.1 431 ")),
            serving_row(name, server),
            log_row(name, server, since),
        ]  # fmt: skip


# 2. Slow clients ---------------------------------------------------------------------------------


async def _slow(port: int, count: int, timeout_s: float) -> tuple[float, int, list[tuple[bytes, float | None]]]:
    """Open ``count`` incomplete heads, time a normal request, then read what each slow one gets.

    Returns the normal request's latency (s) and status, and per slow connection the bytes received
    and the seconds from its opening to its close (None when it was not closed in time).
    """
    connections = []
    try:
        for _ in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(SLOW_PARTIAL_HEAD)
            connections.append((reader, writer, time.monotonic()))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        normal = await request(port, timeout_s=5.0)
        latency_s = time.monotonic() - started

        async def outcome(reader: asyncio.StreamReader, opened_at: float) -> tuple[bytes, float | None]:
            try:
                data = await asyncio.wait_for(reader.read(), timeout_s + 5 - (time.monotonic() - opened_at))
            except (TimeoutError, ConnectionResetError):
                return b"", None
            return data, time.monotonic() - opened_at

        results = await asyncio.gather(*(outcome(reader, opened_at) for reader, _, opened_at in connections))
    finally:
        for _, writer, _ in connections:
            writer.close()
    return latency_s, normal.status, results


def slow_clients(count: int = SLOW_CONNECTIONS) -> list[Row]:
    """``count`` connections hold an incomplete head: a normal request stays fast, each slow one gets 408."""
    name = "2 slow clients"
    env = {"ECHO_HEADER_TIMEOUT_S": str(SLOW_HEADER_TIMEOUT_S)}
    with running(env) as server:
        since = len(server.log)
        latency_s, status, results = asyncio.run(_slow(server.port, count, SLOW_HEADER_TIMEOUT_S))
        got_408 = sum(1 for data, _ in results if data.startswith(b"HTTP/1.1 408 "))
        closed = [seconds for _, seconds in results if seconds is not None]
        late_bound_s = SLOW_HEADER_TIMEOUT_S + 1
        closed_span = f"closed {min(closed):.2f}-{max(closed):.2f} s after opening" if closed else "none closed"
        rows = [
            Row(name, f"with {count} slow connections, a normal GET answered in < 1 s",
                f"{status} in {latency_s * 1000:.0f} ms", status == 200 and latency_s < 1),
            Row(name, f"ECHO_HEADER_TIMEOUT_S={SLOW_HEADER_TIMEOUT_S}: every slow one gets 408 and is closed "
                      f"within {late_bound_s} s",
                f"{got_408}/{count} got 408; {len(closed)}/{count} {closed_span}",
                got_408 == count and len(closed) == count and max(closed) <= late_bound_s),
            serving_row(name, server),
        ]  # fmt: skip
        # The 408s are logged as WARNING by design; an ERROR or Traceback is not.
        rows.append(log_row(name, server, since))
        return rows


# 3. Global ceilings ------------------------------------------------------------------------------


async def _big_body(port: int, body: memoryview) -> tuple[int, str | None, int]:
    """POST ``body`` with Content-Length while reading the answer; returns status, Retry-After, bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /hostile/ceiling HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    async def send() -> None:
        writer.write(head)
        # Small slices with drain: the client must not buffer 100 bodies at once itself.
        for offset in range(0, len(body), 256 * 1024):
            writer.write(body[offset : offset + 256 * 1024])
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        response = await asyncio.wait_for(read_response(reader), 60)
    finally:
        if not sender.done():
            try:
                await asyncio.wait_for(sender, 60)  # a refused body is still read and discarded
            except (TimeoutError, ConnectionError):
                sender.cancel()
        writer.close()
    return response.status, response.field("retry-after"), len(response.content)


async def _ceiling_wave(port: int, clients: int) -> list[tuple[int, str | None, int] | BaseException]:
    body = memoryview(b"c" * CEILING_BODY_BYTES)  # one buffer shared by every client
    return await asyncio.gather(*(_big_body(port, body) for _ in range(clients)), return_exceptions=True)


def global_ceilings(clients: int, inflight_bytes: int) -> list[Row]:
    """``clients`` post 10 MiB each at once against ECHO_MAX_INFLIGHT_BYTES=``inflight_bytes``."""
    name = "3 global ceilings"
    bound_bytes = inflight_bytes + CEILING_OVERHEAD_BYTES
    with running({"ECHO_MAX_INFLIGHT_BYTES": str(inflight_bytes)}) as server:
        since = len(server.log)
        before = settled_rss(server.process.pid)
        started = time.monotonic()
        with RssPeak(server.process.pid) as sampler:
            outcomes = asyncio.run(asyncio.wait_for(_ceiling_wave(server.port, clients), CEILING_LIMIT_S))
        elapsed_s = time.monotonic() - started
        statuses = [o[0] for o in outcomes if isinstance(o, tuple)]
        failures = [f"{type(o).__name__}: {o}" for o in outcomes if not isinstance(o, tuple)]
        ok_count = statuses.count(200)
        busy = [o for o in outcomes if isinstance(o, tuple) and o[0] == 503]
        busy_with_retry = sum(1 for o in busy if o[1] is not None)
        other_5xx = sorted({s for s in statuses if s >= 500 and s != 503})
        other = sorted({s for s in statuses if s not in (200, 503)})
        return [
            Row(name, f"{clients} x {mib(CEILING_BODY_BYTES)} bodies at once, ECHO_MAX_INFLIGHT_BYTES="
                      f"{mib(inflight_bytes)}: peak RSS < inflight + {mib(CEILING_OVERHEAD_BYTES)} "
                      f"= {mib(bound_bytes)}",
                f"peak {mib(sampler.peak_bytes)} (from {mib(before)}, {elapsed_s:.1f} s)",
                sampler.peak_bytes < bound_bytes),
            Row(name, "the excess gets 503 with Retry-After; every client answered",
                f"{ok_count} x 200, {len(busy)} x 503 ({busy_with_retry} with Retry-After), other {other or 'none'}, "
                f"client errors {len(failures)}{': ' + failures[0] if failures else ''}",
                bool(busy) and busy_with_retry == len(busy) and not failures and ok_count > 0),
            Row(name, "no 5xx other than 503", str(other_5xx or "none"), not other_5xx),
            serving_row(name, server),
            log_row(name, server, since),
        ]  # fmt: skip
