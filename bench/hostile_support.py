"""What every check of ``bench/hostile.py`` shares: the server as documented, result rows; memory figures
come from ``bench.bodies`` (``rss_bytes``, ``RssPeak``), which ``bench/run.py`` uses too."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.bodies import MIB, rss_bytes
from tests.rawhttp import RawResponse, read_response
from tests.servers import FORBIDDEN_LOG_WORDS, RunningServer

GET = b"GET /hostile/normal HTTP/1.1\r\nHost: bench\r\n\r\n"
RST_LINGER = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close() sends RST


@dataclass(frozen=True)
class Row:
    """One line of the results table: what was checked, the bound, the figure, and whether it held."""

    check: str
    bound: str
    measured: str
    ok: bool

    @property
    def verdict(self) -> str:
        """``ok`` or ``BROKEN``."""
        return "ok" if self.ok else "BROKEN"


def start_server(env: dict[str, str] | None = None, extra: tuple[str, ...] = ()) -> RunningServer:
    """``python -m app`` as the README runs it (its options hold the image's concurrency limit), plus ``extra``."""
    return RunningServer(extra, env)


def settled_rss(pid: int, pause_s: float = 0.5) -> int:
    """RSS after a short pause, so work finishing just now (tasks, buffers) is not counted as growth."""
    time.sleep(pause_s)
    return rss_bytes(pid)


def mib(value_bytes: float) -> str:
    """``12.3 MiB``, signed when negative."""
    return f"{value_bytes / MIB:.1f} MiB"


async def request(port: int, raw: bytes = GET, timeout_s: float = 10.0) -> RawResponse:
    """Send ``raw`` on a new loopback connection and read one response (at most ``timeout_s``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(read_response(reader), timeout_s)
    finally:
        writer.close()


def serves(port: int) -> tuple[bool, str]:
    """Whether a normal GET is answered 200 within 5 s, and what came back."""
    try:
        response = asyncio.run(request(port, GET, 5.0))
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return response.status == 200, str(response.status)


def serving_row(check: str, server: RunningServer) -> Row:
    """The row saying a normal request is still served, and the server still running."""
    alive = server.process.poll() is None
    ok, what = serves(server.port) if alive else (False, f"exited {server.process.returncode}")
    return Row(check, "a normal GET afterwards: 200", what, ok and alive)


def log_problems(server: RunningServer, since: int) -> list[str]:
    """Server output lines since index ``since`` holding ERROR or Traceback."""
    time.sleep(0.1)  # let the reader thread catch up with the last lines
    return [line for line in server.log[since:] if any(word in line for word in FORBIDDEN_LOG_WORDS)]


def log_row(check: str, server: RunningServer, since: int) -> Row:
    """The row saying the server wrote no ERROR or Traceback since ``since``."""
    bad = log_problems(server, since)
    measured = "none" if not bad else f"{len(bad)} line(s), first: {bad[0][:160]}"
    return Row(check, "no ERROR / Traceback in server output", measured, not bad)


@contextmanager
def running(env: dict[str, str] | None = None, extra: tuple[str, ...] = ()) -> Iterator[RunningServer]:
    """A server for one check, stopped by its PID however the check ends."""
    server = start_server(env, extra)
    try:
        yield server
    finally:
        server.stop()


def rst_close(sock: socket.socket) -> None:
    """Close with RST (what a killed client does), not FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST_LINGER)
    sock.close()
