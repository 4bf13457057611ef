"""Check 8 of ``bench/hostile.py``: every phase of a TLS connection is bounded (issue 17, item 7).

A flood of TCP connections that never send a ClientHello (the issue's 3,000 held +164 MiB for uvloop's 60 s):
each is closed within ``ECHO_HEADER_TIMEOUT_S`` of its connect and counted in ``--limit-concurrency`` meanwhile;
a partial, trickled or stalled handshake and a head after a slow handshake end within that time too; a TLS close
the client never answers ends within ``ECHO_WRITE_TIMEOUT_S``; a shutdown with all of these pending is quick and
quiet. The certificate is a throwaway one (trustme).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.bodies import RssPeak
from bench.hostile_support import Row, log_row, mib, running, settled_rss
from tests.servers import FORBIDDEN_LOG_WORDS, RunningServer
from tests.tls_client import (
    BioClient,
    TlsFiles,
    partial_hello,
    silent,
    stalled_after_server_hello,
    tls_get,
    trickled_hello,
    unanswered_close,
)

NAME = "8 TLS phases"
HEADER_TIMEOUT_S = 2.0
WRITE_TIMEOUT_S = 2.0
MARGIN_S = 1.0
GET = b"GET /hostile/tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
#: uvicorn's graceful shutdown is 8 s (app.server.defaults); an idle TLS client used to hold all of it.
SHUTDOWN_BOUND_S = 4.0


async def _silent_connections(port: int, count: int) -> list[float | None]:
    """Open ``count`` TCP connections that send nothing; seconds from each connect to the server's close."""

    async def one() -> float | None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened = time.monotonic()
        try:
            await asyncio.wait_for(reader.read(), HEADER_TIMEOUT_S + 10)
            return time.monotonic() - opened
        except TimeoutError:
            return None
        except ConnectionError:
            return time.monotonic() - opened
        finally:
            writer.close()

    return await asyncio.gather(*(one() for _ in range(count)))


def _flood(server: RunningServer, files: TlsFiles, count: int, limit: int) -> list[Row]:
    context = files.client_context()
    with ThreadPoolExecutor(1) as pool, RssPeak(server.process.pid) as peak:
        flood = pool.submit(asyncio.run, _silent_connections(server.port, count))
        time.sleep(HEADER_TIMEOUT_S / 2)  # all accepted, none timed out yet
        meanwhile = tls_get(server.port, context, GET)
        closed_after = flood.result()
    closed = [s for s in closed_after if s is not None]
    slowest = max(closed, default=float("nan"))
    time.sleep(MARGIN_S)  # the failed ones stop counting at their head timeout
    after = tls_get(server.port, context, GET)
    rss_after = settled_rss(server.process.pid)
    return [
        Row(NAME, f"{count} TCP connections that never send a ClientHello, ECHO_HEADER_TIMEOUT_S="
                  f"{HEADER_TIMEOUT_S:g}: each closed within {HEADER_TIMEOUT_S + MARGIN_S:g} s of its connect",
            f"{len(closed)}/{count} closed, slowest {slowest:.2f} s; RSS peak +{mib(peak.growth_bytes)}, "
            f"{mib(rss_after)} after", len(closed) == count and slowest < HEADER_TIMEOUT_S + MARGIN_S),
        Row(NAME, f"they count in --limit-concurrency {limit} from the accept: a TLS GET meanwhile gets 503, "
                  "200 once they are closed",
            f"{meanwhile}, then {after}", meanwhile == 503 and after == 200),
    ]  # fmt: skip


def _slow_head(client: BioClient) -> None:
    """A handshake that takes most of the head timeout, then half a head."""
    hello = client.client_hello()
    client.sock.sendall(hello[:40])
    time.sleep(HEADER_TIMEOUT_S * 0.75)
    client.sock.sendall(hello[40:])
    try:
        client.handshake(hello_sent=True)
        client.send(b"GET /hostile/slow HTTP/1.1\r\nHost: localhost\r\n")
    except (ConnectionError, OSError):
        pass  # the handshake itself ran out: the connection ended in time all the same


PHASES = {
    "no ClientHello": silent,
    "partial ClientHello": partial_hello,
    "trickled ClientHello": trickled_hello,
    "stalled after the ServerHello": stalled_after_server_hello,
    "half a head after a slow handshake": _slow_head,
}


def _phase(port: int, files: TlsFiles, name: str) -> float | None:
    client = BioClient(port, files.client_context())
    try:
        PHASES[name](client)
        return client.wait_for_end()
    finally:
        client.close()


def _phases(server: RunningServer, files: TlsFiles) -> Row:
    with ThreadPoolExecutor(len(PHASES)) as pool:
        ended = dict(zip(PHASES, pool.map(lambda name: _phase(server.port, files, name), PHASES), strict=True))
    bound_s = HEADER_TIMEOUT_S + MARGIN_S
    measured = ", ".join(f"{name} {'open' if s is None else f'{s:.2f} s'}" for name, s in ended.items())
    bound = f"each phase before a complete head ends (closed, or answered 408) within {bound_s:g} s of the connect"
    return Row(NAME, bound, measured, all(s is not None and s < bound_s for s in ended.values()))


def _unanswered_close(server: RunningServer, files: TlsFiles) -> Row:
    answer, closed, close_s = unanswered_close(server.port, files.client_context(), GET)
    bound_s = WRITE_TIMEOUT_S + MARGIN_S
    status = answer.split(b"\r\n", 1)[0].decode("latin-1")
    return Row(NAME, f"a TLS close the client never answers (no close_notify back), ECHO_WRITE_TIMEOUT_S="
                     f"{WRITE_TIMEOUT_S:g}: TCP closed within {bound_s:g} s of the request",
               f"{status}; closed after {close_s:.2f} s" if closed else f"{status}; still open",
               closed and close_s < bound_s)  # fmt: skip


def _shutdown(files: TlsFiles, each: int) -> list[Row]:
    # Long timeouts: only the shutdown may end these connections.
    server = RunningServer((), files.server_env(30, 30))
    clients: list[BioClient] = []
    try:
        for behaviour in (silent, partial_hello, stalled_after_server_hello, BioClient.handshake):
            for _ in range(each):
                clients.append(BioClient(server.port, files.client_context()))
                behaviour(clients[-1])
        time.sleep(0.5)
        started = time.monotonic()
        server.stop()
        stop_s = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
        server.stop()
    bad = [line for line in server.log if any(word in line for word in FORBIDDEN_LOG_WORDS)]
    return [
        Row(NAME, f"SIGTERM with {each} each of: no ClientHello, partial ClientHello, stalled handshake, idle TLS "
                  f"client that never answers close_notify: exits within {SHUTDOWN_BOUND_S:g} s",
            f"{stop_s:.2f} s", stop_s < SHUTDOWN_BOUND_S),
        Row(NAME, "no ERROR / Traceback in server output during that shutdown",
            "none" if not bad else f"{len(bad)} line(s), first: {bad[0][:160]}", not bad),
    ]  # fmt: skip


def tls_phases(silent_count: int) -> list[Row]:
    """The rows of check 8, with ``silent_count`` connections in the flood (the concurrency limit a third)."""
    limit = max(silent_count // 3, 2)
    with tempfile.TemporaryDirectory() as directory:
        files = TlsFiles.make(Path(directory))
        env = files.server_env(HEADER_TIMEOUT_S, WRITE_TIMEOUT_S)
        with running(env, ("--limit-concurrency", str(limit))) as server:
            since = len(server.log)
            time.sleep(HEADER_TIMEOUT_S)  # the start-up probe's connection is no longer counted
            rows = _flood(server, files, silent_count, limit)
            rows += [_phases(server, files), _unanswered_close(server, files), log_row(NAME, server, since)]
        rows += _shutdown(files, 5)
    return rows
