"""Client behaviour against the real server: half-closes, hang-ups and the in-flight content ceiling."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.rawhttp import exchange, read_response
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"GET /half HTTP/1.1\r\nHost: x\r\n\r\n", id="plain"),
        pytest.param(b"GET /half?echo_delay=300 HTTP/1.1\r\nHost: x\r\n\r\n", id="delayed"),
        pytest.param(b"POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", id="with-body"),
    ],
)
async def test_half_closed_client_gets_its_full_response(server: RunningServer, request_bytes: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request_bytes)
        await writer.drain()
        writer.write_eof()  # FIN: nothing more to send, still reading
        response = await read_response(reader)
    finally:
        writer.close()
    assert response.status == 200
    assert b"TARGET: /half" in response.content


@pytest.mark.parametrize(
    ("request_bytes", "read_first"),
    [
        pytest.param(b"GET /gone?echo_delay=300 HTTP/1.1\r\nHost: x\r\n\r\n", False, id="during-delay"),
        pytest.param(b"POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc", False, id="mid-body"),
        pytest.param(b"POST /gone?echo_mode=stream HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\n\r\nabc", False,
                     id="mid-stream"),
        pytest.param(b"POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 5_000_000, True,
                     id="mid-response"),
    ],
)  # fmt: skip
async def test_client_hanging_up_leaves_no_error(server: RunningServer, request_bytes: bytes, read_first: bool) -> None:
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(request_bytes)
            if read_first:
                sock.recv(100)  # the response has started; hang up in the middle of it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    await asyncio.sleep(0.5)
    response = await exchange(server.port, b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 200
    # No request task left behind: nothing in flight (the scrape itself is left out).
    metrics = await exchange(server.port, b"GET /_echo/metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"\necho_http_requests_in_flight 0.0\n" in metrics.content


@pytest.fixture
def small_budget(server_pool: ServerPool) -> Iterator[RunningServer]:
    """A server holding at most 1000 bytes of request content at once."""
    running = server_pool.get((), {"ECHO_MAX_INFLIGHT_BYTES": "1000"})
    with running.clean_log():
        yield running


async def test_content_past_the_inflight_ceiling_gets_503(small_budget: RunningServer) -> None:
    port = small_budget.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        # The first request holds 600 bytes of budget while its content trickles in.
        writer.write(b"POST /holder HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n" + b"a" * 100)
        await writer.drain()
        await asyncio.sleep(0.2)
        busy = await exchange(port, b"POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n" + b"b" * 600)
        assert busy.status == 503
        assert busy.field("retry-after") == "1"
        assert b"ECHO_MAX_INFLIGHT_BYTES" in busy.content
        small = await exchange(port, b"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n" + b"c" * 300)
        assert small.status == 200
        writer.write(b"a" * 500)
        assert (await read_response(reader)).status == 200
    finally:
        writer.close()
    # Released: the same request now fits.
    again = await exchange(port, b"POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n" + b"b" * 600)
    assert again.status == 200
