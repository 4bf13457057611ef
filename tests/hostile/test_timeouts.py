"""Slow clients against the real server: head and body timeouts, and others still served meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.rawhttp import exchange, read_response
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

FAST_TIMEOUTS = {"ECHO_HEADER_TIMEOUT_S": "0.5", "ECHO_BODY_TIMEOUT_S": "0.5"}


@pytest.fixture
def quick(server_pool: ServerPool) -> Iterator[RunningServer]:
    """A server whose head and body timeouts are half a second."""
    running = server_pool.get((), FAST_TIMEOUTS)
    with running.clean_log():
        yield running


async def read_all(reader: asyncio.StreamReader, timeout_s: float = 5) -> bytes:
    return await asyncio.wait_for(reader.read(), timeout_s)


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"", id="nothing-sent"),
        pytest.param(b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ", id="partial-head"),
    ],
)
async def test_incomplete_head_gets_408_and_close(quick: RunningServer, partial: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", quick.port)
    try:
        writer.write(partial)
        started = time.monotonic()
        answer = await read_all(reader)
        elapsed = time.monotonic() - started
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer
    assert b"ECHO_HEADER_TIMEOUT_S" in answer
    assert 0.4 < elapsed < 3


async def test_trickled_head_still_times_out(quick: RunningServer) -> None:
    # A byte every 0.1 s keeps the connection busy but never completes the head: slowloris.
    reader, writer = await asyncio.open_connection("127.0.0.1", quick.port)
    answer_task = asyncio.create_task(read_all(reader))
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        while not answer_task.done() and time.monotonic() - started < 3:
            writer.write(b"X")
            await asyncio.sleep(0.1)
        answer = await answer_task
        elapsed = time.monotonic() - started
    finally:
        answer_task.cancel()
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert elapsed < 2


async def test_stalled_body_gets_408(quick: RunningServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", quick.port)
    try:
        writer.write(b"POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()
        answer = await read_all(reader)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"ECHO_BODY_TIMEOUT_S" in answer


async def test_slow_but_steady_body_is_echoed(quick: RunningServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", quick.port)
    try:
        writer.write(b"POST /steady HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n")
        for piece in (b"ab", b"cd", b"ef", b"gh"):  # 1.2 s in all, never 0.5 s without progress
            await asyncio.sleep(0.3)
            writer.write(piece)
            await writer.drain()
        response = await read_response(reader)
    finally:
        writer.close()
    assert response.status == 200
    assert response.content.endswith(b"\nBODY:\nabcdefgh")


async def test_keep_alive_connection_is_not_refused_between_requests(quick: RunningServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", quick.port)
    try:
        writer.write(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await read_response(reader)).status == 200
        await asyncio.sleep(0.8)  # idle past the head timeout, under uvicorn's 5 s keep-alive
        writer.write(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await read_response(reader)).status == 200
    finally:
        writer.close()


async def test_500_slow_connections_do_not_delay_a_normal_request(server: RunningServer) -> None:
    writers = []
    try:
        for _ in range(500):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Never-Ends: ")
            writers.append(writer)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        response = await exchange(server.port, b"GET /normal HTTP/1.1\r\nHost: x\r\n\r\n")
        assert response.status == 200
        assert time.monotonic() - started < 1
    finally:
        for writer in writers:
            writer.close()
