"""WebSocket echo on the real server with the ``websockets`` client (uvicorn owns the close handshake)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.rawhttp import exchange
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server


async def test_text_and_binary_messages_come_back_unchanged(server: RunningServer) -> None:
    async with connect(f"ws://127.0.0.1:{server.port}/any/path?x=1") as ws:
        for message in ("hello", "héllo ✓", "", b"\x00\xffbinary", b"", "x" * 100_000):
            await ws.send(message)
            assert await asyncio.wait_for(ws.recv(), 5) == message


@pytest.mark.parametrize("code", [1000, 4000, 4999])
async def test_close_code_is_mirrored(server: RunningServer, code: int) -> None:
    ws = await connect(f"ws://127.0.0.1:{server.port}/ws")
    await ws.send("ping")
    assert await ws.recv() == "ping"
    await ws.close(code=code, reason="bye")
    assert ws.protocol.close_rcvd is not None
    assert ws.protocol.close_rcvd.code == code


async def test_idle_connection_is_closed_with_1001(server_pool: ServerPool) -> None:
    running = server_pool.get((), {"ECHO_WS_IDLE_TIMEOUT_S": "0.5"})
    with running.clean_log():
        async with connect(f"ws://127.0.0.1:{running.port}/idle") as ws:
            await ws.send("still here")
            assert await ws.recv() == "still here"
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1001


async def test_message_over_ws_max_size_closes_with_1009(server_pool: ServerPool) -> None:
    running = server_pool.get(("--ws-max-size", "1024"))
    with running.clean_log():
        async with connect(f"ws://127.0.0.1:{running.port}/big", max_size=None) as ws:
            await ws.send("x" * 1024)
            assert await ws.recv() == "x" * 1024
            await ws.send("x" * 1025)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009


async def test_websocket_metrics_move(server: RunningServer) -> None:
    async with connect(f"ws://127.0.0.1:{server.port}/m") as ws:
        await ws.send(b"\x01")
        await ws.recv()
    import httpx

    async with httpx.AsyncClient() as client:
        exposition = (await client.get(f"http://127.0.0.1:{server.port}/_echo/metrics")).text
    assert 'echo_websocket_messages_total{kind="binary"}' in exposition
    assert "echo_websocket_connections_total" in exposition


UPGRADE = (
    b"GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
)


@pytest.mark.parametrize(
    ("head", "status"),
    [
        pytest.param(
            b"GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400, id="no-key"
        ),
        pytest.param(
            b"GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: <b>bad</b>\r\n\r\n",
            400,
            id="bad-key",
        ),
        pytest.param(UPGRADE + b"Content-Length: 5\r\n\r\nhello", 400, id="content"),
        pytest.param(UPGRADE + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, id="chunked"),
        pytest.param(UPGRADE.replace(b"GET /a ", b"GET /" + b"a" * 9000 + b" ") + b"\r\n", 414, id="long-target"),
        pytest.param(UPGRADE + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n", 431, id="long-field-line"),
        pytest.param(UPGRADE + b"".join(b"X-%d: v\r\n" % n for n in range(130)) + b"\r\n", 431, id="many-fields"),
        pytest.param(
            b"GET /_echo/health HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            403,
            id="closed-by-the-app",
        ),
    ],
)
async def test_refused_handshakes_carry_the_safety_fields(server: RunningServer, head: bytes, status: int) -> None:
    # Answered by uvicorn and websockets, not by the app; the text may quote the request. Some heads
    # websockets refuses before they become a request were left unanswered, the connection open.
    response = await asyncio.wait_for(exchange(server.port, head), 10)
    assert response.status == status
    assert response.field("x-content-type-options") == "nosniff"
    assert response.field("cache-control") == "no-store"
    assert response.field("content-type") in (None, "text/plain", "text/plain; charset=utf-8")


async def test_connection_closes_after_a_refused_handshake(server: RunningServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(UPGRADE + b"Content-Length: 5\r\n\r\nhello")
        received = await asyncio.wait_for(reader.read(), 10)  # to EOF: the server closes
    finally:
        writer.close()
    assert received.startswith(b"HTTP/1.1 400 ")
    assert b"unsupported request body" in received


async def test_a_session_gets_one_access_log_line_and_no_line_of_uvicorns(server_pool: ServerPool) -> None:
    running = server_pool.get((), {"ASGI_ECHO_TEST_ISOLATION": "websocket-access-log"})
    start = len(running.log)
    async with connect(f"ws://127.0.0.1:{running.port}/logged/session?x=1") as ws:
        await ws.send("héllo")  # 6 bytes as UTF-8
        assert await ws.recv() == "héllo"
    await asyncio.sleep(0.3)  # the server logs the session once it ends
    lines = running.log[start:]
    session = [line for line in lines if '"GET /logged/session?x=1"' in line]
    assert len(session) == 1
    assert ' "GET /logged/session?x=1" 101 6 6 ' in session[0]
    assert not [line for line in lines if '"WebSocket /logged' in line]
