"""echo_fault and echo_trailer against a real server, seen as a client sees them: a reset, a close without an
answer, a short body, a trailer section; and a 400 naming the flag where the server cannot act."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

import httpx
import pytest

from tests.rawhttp import TIMEOUT_S, exchange, read_response
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server


async def _send(port: int, request: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    return reader, writer


async def test_reset_is_a_tcp_reset_after_the_request_is_read(server: RunningServer) -> None:
    reader, writer = await _send(
        server.port, b"POST /r?echo_fault=reset HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    )
    try:
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(), TIMEOUT_S)
    finally:
        writer.close()


async def test_close_ends_the_connection_cleanly_without_an_answer(server: RunningServer) -> None:
    reader, writer = await _send(server.port, b"GET /c HTTP/1.1\r\nHost: x\r\nX-Echo-Fault: close\r\n\r\n")
    try:
        assert await asyncio.wait_for(reader.read(), TIMEOUT_S) == b""  # FIN, no byte, no reset
    finally:
        writer.close()


async def test_truncate_declares_the_full_length_and_sends_that_many_bytes(server: RunningServer) -> None:
    full = await exchange(server.port, b"GET /t?echo_fault=truncate:99 HTTP/1.1\r\nHost: x\r\n\r\n", head=True)
    length = int(full.field("content-length") or 0)
    reader, writer = await _send(server.port, b"GET /t?echo_fault=truncate:12 HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        response = await read_response(reader, head=True)
        assert response.status == 200
        assert response.field("content-length") == str(length)
        assert response.field("x-echo-applied") == "fault=truncate:12"
        assert response.field("x-content-type-options") == "nosniff"
        with pytest.raises(asyncio.IncompleteReadError) as short:
            await asyncio.wait_for(reader.readexactly(length), TIMEOUT_S)
        assert short.value.partial == b"METHOD: GET\n"  # 12 bytes, then a clean end (the two targets are as long)
    finally:
        writer.close()


async def test_truncate_past_the_length_sends_it_all_then_closes(server: RunningServer) -> None:
    reader, writer = await _send(server.port, b"GET /t?echo_fault=truncate:100000 HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        response = await read_response(reader)
        assert response.content.startswith(b"METHOD: GET\n")
        assert await asyncio.wait_for(reader.read(), TIMEOUT_S) == b""
    finally:
        writer.close()


async def test_close_answers_the_requests_before_it_on_the_connection(server: RunningServer) -> None:
    # Pipelined: the first is answered in full, the second gets the close (the action follows the request).
    first = b"GET /one?echo_delay=200 HTTP/1.1\r\nHost: x\r\n\r\n"
    reader, writer = await _send(server.port, first + b"GET /two?echo_fault=close HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        response = await read_response(reader)
        assert b"TARGET: /one?echo_delay=200\n" in response.content
        assert await asyncio.wait_for(reader.read(), TIMEOUT_S) == b""
    finally:
        writer.close()


async def test_response_trailers_follow_a_chunked_echo(server: RunningServer) -> None:
    response = await exchange(
        server.port, b"GET /tr?echo_trailer=X-Checksum:%20abc&echo_trailer=X-B:2 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert response.status == 200
    assert response.field("transfer-encoding") == "chunked"
    assert response.field("content-length") is None
    assert response.field("trailer") == "X-Checksum, X-B"
    assert response.field("x-echo-applied") == "trailer=X-Checksum,X-B"
    assert response.content.startswith(b"METHOD: GET\n")
    assert response.trailers == [("X-Checksum", "abc"), ("X-B", "2")]


async def test_trailers_go_on_the_pipelined_response_that_asked(server: RunningServer) -> None:
    first = b"GET /one?echo_delay=200 HTTP/1.1\r\nHost: x\r\n\r\n"
    second = b"GET /two?echo_trailer=X-A:%201&echo_format=json HTTP/1.1\r\nHost: x\r\n\r\n"
    reader, writer = await _send(server.port, first + second)
    try:
        one, two = await read_response(reader), await read_response(reader)
        assert one.field("content-length") is not None
        assert one.trailers == []
        assert two.trailers == [("X-A", "1")]
        assert b'"applied":{"format":"json","trailer":["X-A"]}' in two.content
    finally:
        writer.close()


async def test_head_with_trailers_gets_the_fields_and_no_content(server: RunningServer) -> None:
    response = await exchange(server.port, b"HEAD /h?echo_trailer=X-A:1 HTTP/1.1\r\nHost: x\r\n\r\n", head=True)
    assert response.status == 200
    assert response.field("trailer") == "X-A"


async def test_trailers_are_refused_to_an_http_1_0_client(server: RunningServer) -> None:
    response = await exchange(server.port, b"GET /old?echo_trailer=X-A:1 HTTP/1.0\r\n\r\n")
    assert response.status == 400
    assert response.content == b"400 echo_trailer: response trailers need HTTP/1.1 (chunked transfer coding)\n"


async def test_faults_are_counted_in_the_metrics(server: RunningServer) -> None:
    async def count(fault: str) -> float:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{server.port}/_echo/metrics")).text
        line = next(line for line in text.splitlines() if line.startswith(f'echo_http_faults_total{{fault="{fault}"}}'))
        return float(line.split()[-1])

    before = await count("reset")
    reader, writer = await _send(server.port, b"GET /m?echo_fault=reset HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(), TIMEOUT_S)
    writer.close()
    await asyncio.sleep(0.1)
    assert await count("reset") == before + 1


@pytest.mark.parametrize("query", ["echo_fault=reset", "echo_trailer=X-A:%201"])
async def test_plain_uvicorn_answers_400_naming_the_flag(server_pool: ServerPool, query: str) -> None:
    plain = server_pool.get((), plain=True)
    with plain.clean_log():
        response = await exchange(plain.port, f"GET /p?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert response.status == 400
    assert b"--http app.server.protocol:EchoHttpToolsProtocol" in response.content
    assert response.field("x-content-type-options") == "nosniff"


NODE_READS_TRAILERS = """
const http = require("http");
http.get({host: "127.0.0.1", port: Number(process.argv[1]), path: "/n?echo_trailer=X-Checksum:%20abc"}, (response) => {
  response.resume();
  response.on("end", () => { process.stdout.write(JSON.stringify(response.trailers)); });
});
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (nodejs in .ci/run)")
def test_node_http_client_reads_the_response_trailers(server: RunningServer) -> None:
    completed = subprocess.run(
        ["node", "-e", NODE_READS_TRAILERS, str(server.port)], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(completed.stdout) == {"x-checksum": "abc"}


@pytest.mark.parametrize("query", ["echo_fault=reset", "echo_trailer=X-A:%201"])
def test_http2_answers_400_naming_the_flag(server_pool: ServerPool, query: str) -> None:
    # uvicorn's own HTTP/2 protocol (zttp) offers no server actions.
    h2c = server_pool.get(("--http", "zttp", "--http2"))
    with h2c.clean_log(), httpx.Client(http1=False, http2=True, timeout=TIMEOUT_S) as client:
        response = client.get(f"http://127.0.0.1:{h2c.port}/h2?{query}")
    assert response.http_version == "HTTP/2"
    assert response.status_code == 400
    assert "--http app.server.protocol:EchoHttpToolsProtocol" in response.text
