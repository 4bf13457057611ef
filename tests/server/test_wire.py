"""Framing the server owns: chunked content, 100-continue, HEAD, hang-ups and the 413 while sending."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.rawhttp import chunk, chunked, echoed_line, exchange, read_response
from tests.servers import RunningServer

pytestmark = pytest.mark.server

LIMIT_BYTES = 10 * 1024 * 1024  # ECHO_MAX_BODY_BYTES default


def body_of(content: bytes) -> bytes:
    return content.split(b"\n\nBODY:\n", 1)[1]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"hello", id="short"),
        pytest.param(bytes(range(256)) * 4096, id="binary-1MiB"),
    ],
)
async def test_content_with_length_is_echoed_exactly(server: RunningServer, body: bytes) -> None:
    head = f"POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    response = await exchange(server.port, head + body)
    assert response.status == 200
    assert body_of(response.content) == body


async def test_chunked_content_is_echoed_exactly(server: RunningServer) -> None:
    pieces = [b"first,", b"\x00\xff binary,", b"x" * 70_000]
    body = chunked(pieces)
    head = b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    response = await exchange(server.port, head + body)
    assert response.status == 200
    assert body_of(response.content) == b"".join(pieces)
    assert b"Transfer-Encoding: chunked\n" in response.content


@pytest.mark.parametrize(
    ("target", "stream"),
    [pytest.param("/e", False, id="echo"), pytest.param("/e?echo_mode=stream", True, id="stream-mode")],
)
async def test_expect_100_continue(server: RunningServer, target: str, stream: bool) -> None:
    # Stream mode must read before it answers: an interim response after the final one would be void.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n".encode())
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim.startswith(b"HTTP/1.1 100 ")
        writer.write(b"hello")
        response = await read_response(reader)
        assert response.status == 200
        assert (response.content if stream else body_of(response.content)) == b"hello"
    finally:
        writer.close()


async def test_head_then_get_on_one_connection(server: RunningServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"HEAD /same HTTP/1.1\r\nHost: x\r\n\r\nGET /same HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await read_response(reader, head=True)
        get = await read_response(reader)
    finally:
        writer.close()
    assert head.status == get.status == 200
    assert echoed_line(get, "METHOD") == "GET"
    assert head.field("content-type") == get.field("content-type")
    # Same echo but for the method name: HEAD is one byte longer than GET.
    assert int(head.field("content-length") or -1) == len(get.content) + 1


async def test_hang_up_mid_body_then_next_request_is_served(server: RunningServer) -> None:
    for _ in range(3):
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
    await asyncio.sleep(0.2)
    response = await exchange(server.port, b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 200
    assert echoed_line(response, "TARGET") == "/after"


async def send_while_reading(port: int, head: bytes, total_bytes: int, *, as_chunks: bool) -> tuple[int, int]:
    """Send ``total_bytes`` of content after ``head`` while reading; return (status, bytes sent before it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    response_task = asyncio.create_task(read_response(reader))
    try:
        writer.write(head)
        piece = b"z" * 65536
        while sent < total_bytes and not response_task.done():
            writer.write(chunk(piece) if as_chunks else piece)
            try:
                await asyncio.wait_for(writer.drain(), 2)
            except (ConnectionError, TimeoutError):
                break  # the server stopped reading: the response must be there
            sent += len(piece)
        response = await asyncio.wait_for(response_task, 10)
        return response.status, sent
    finally:
        response_task.cancel()
        writer.close()


async def test_413_reaches_a_client_still_sending_with_length(server: RunningServer) -> None:
    total = 3 * LIMIT_BYTES
    head = f"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode()
    status, sent = await send_while_reading(server.port, head, total, as_chunks=False)
    assert status == 413
    assert sent < total  # answered before the upload ended
    again = await exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert again.status == 200


async def test_413_reaches_a_client_still_sending_chunked(server: RunningServer) -> None:
    total = 3 * LIMIT_BYTES
    head = b"POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, sent = await send_while_reading(server.port, head, total, as_chunks=True)
    assert status == 413
    assert sent < total


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is installed by .ci/run")
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_413_with_curl(server: RunningServer, tmp_path: Path, framing: str) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"u" * (2 * LIMIT_BYTES))
    extra = ["-H", "Transfer-Encoding: chunked"] if framing == "chunked" else []
    command = ["curl", "-s", "-w", "\n%{http_code}", "--data-binary", f"@{upload}", *extra]
    result = await asyncio.to_thread(
        subprocess.run,
        [*command, f"http://127.0.0.1:{server.port}/upload"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    text, _, code = result.stdout.rpartition("\n")
    assert code == "413"
    assert "ECHO_MAX_BODY_BYTES" in text
