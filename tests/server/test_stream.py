"""echo_mode=stream on the real server: byte-exact, many large uploads in a row, bounded by its ceiling."""

from __future__ import annotations

import asyncio
import hashlib
import os

import httpx
import pytest

from tests.rawhttp import chunked, exchange
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server


async def test_fifty_uploads_of_5mb_come_back_byte_exact(server: RunningServer) -> None:
    url = f"http://127.0.0.1:{server.port}/upload?echo_mode=stream"
    payload = bytearray(os.urandom(5 * 1000 * 1000))
    async with httpx.AsyncClient(timeout=30) as client:
        for index in range(50):
            payload[:4] = index.to_bytes(4, "big")  # each upload differs
            response = await client.post(url, content=bytes(payload), headers={"content-type": "application/x-bin"})
            assert response.status_code == 200, index
            assert hashlib.sha256(response.content).digest() == hashlib.sha256(payload).digest(), index
            assert response.headers["content-type"] == "application/x-bin"
            assert response.headers["content-length"] == str(len(payload))
            assert response.headers["x-echo-applied"] == "mode=stream"


async def test_chunked_upload_streams_back_chunked(server: RunningServer) -> None:
    pieces = [b"alpha,", b"\x00\xffbeta,", b"g" * 100_000]
    body = chunked(pieces)
    head = b"POST /s?echo_mode=stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    response = await exchange(server.port, head + body)
    assert response.status == 200
    assert response.field("transfer-encoding") == "chunked"
    assert response.content == b"".join(pieces)
    assert response.field("content-type") == "application/octet-stream"  # none was given


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "image/svg+xml; charset=utf-8",
        "application/javascript",
        "text/xsl",
        "text/rdf",
        "multipart/mixed; boundary=b",
        "text/plain, text/html",  # browsers take the last media type of the list
        "text/plain;x=,text/html",
    ],
)
async def test_active_request_types_come_back_as_octet_stream(server: RunningServer, content_type: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{server.port}/?echo_mode=stream",
            content=b"<script>alert(1)</script>",
            headers={"content-type": content_type},
        )
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == b"<script>alert(1)</script>"


async def test_stream_with_status_and_delay(server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(
            f"http://127.0.0.1:{server.port}/?echo_mode=stream&echo_status=201&echo_delay=50", content=b"abc"
        )
    assert response.status_code == 201
    assert response.content == b"abc"
    assert response.headers["x-echo-applied"] == "status=201; delay=50; mode=stream"


async def test_stream_ceiling(server_pool: ServerPool) -> None:
    running = server_pool.get((), {"ECHO_MAX_STREAM_BYTES": "1000"})
    with running.clean_log():
        declared = await exchange(
            running.port, b"POST /?echo_mode=stream HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n" + b"x" * 1001
        )
        assert declared.status == 413
        assert b"ECHO_MAX_STREAM_BYTES" in declared.content
        pieces = b"".join(b"1f4\r\n" + b"y" * 500 + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
        chunked = await exchange(
            running.port, b"POST /?echo_mode=stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + pieces
        )
        assert chunked.status == 200
        assert chunked.content == b"y" * 1000  # cut at the ceiling: the client sees it short
        assert (await exchange(running.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")).status == 200


async def test_content_written_just_before_the_client_half_closes_still_comes_back(server: RunningServer) -> None:
    # The echo of "def" and the client's FIN meet in one loop iteration; the echo must go out before the close.
    for attempt in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /x?echo_mode=stream HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")
        received = await reader.readuntil(b"abc")
        writer.write(b"def")
        writer.write_eof()
        received += await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
        assert received.endswith(b"abcdef"), attempt
