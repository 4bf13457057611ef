"""Wire truth on the real server: heads byte-exact, original case, connection reuse and upload timing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.rawhttp import exchange, read_response
from tests.servers import RunningServer

pytestmark = pytest.mark.server

ODD_HEAD = b"GET /odd?echo_format=raw HTTP/1.1\r\nhOsT: x\r\nX-MiXeD-CaSe:   spaced value  \r\nx-lower:v\r\n\r\n"


async def test_raw_format_returns_the_request_byte_exact(server: RunningServer) -> None:
    response = await exchange(server.port, ODD_HEAD)
    assert response.status == 200
    assert response.field("content-type") == "message/http"
    assert response.field("x-content-type-options") == "nosniff"
    assert response.content == ODD_HEAD


async def test_raw_format_includes_the_content(server: RunningServer) -> None:
    head = b"PUT /r?echo_format=raw HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n"
    response = await exchange(server.port, head + b"\x00payload"[:7])
    assert response.content == head + b"\x00payload"[:7]


async def test_text_echo_shows_names_as_sent(server: RunningServer) -> None:
    response = await exchange(server.port, ODD_HEAD.replace(b"?echo_format=raw", b""))
    # A field value excludes the whitespace around it (RFC 9110 §5.5): the echo shows the value, the raw
    # format (above) the bytes as sent.
    assert b"\nNAMES: as sent\nHEADERS:\nhOsT: x\nX-MiXeD-CaSe: spaced value\nx-lower: v\n\nBODY:\n" in response.content


async def json_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> dict[str, Any]:
    writer.write(request)
    await writer.drain()
    response = await read_response(reader)
    assert response.status == 200
    document: dict[str, Any] = json.loads(response.content)
    return document


async def test_request_index_counts_per_connection(server: RunningServer) -> None:
    request = b"GET /i?echo_format=json HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(2):  # a new connection starts again at 1
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            indexes = [(await json_echo(reader, writer, request))["connection"]["request_index"] for _ in range(3)]
        finally:
            writer.close()
        assert indexes == [1, 2, 3]


async def test_pipelined_requests_get_their_own_heads(server: RunningServer) -> None:
    first = b"GET /one?echo_format=json HTTP/1.1\r\nHost: x\r\nX-First: 1\r\n\r\n"
    second = b"POST /two?echo_format=json HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-SeCoNd: 2\r\n\r\nabc"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(first + second)
        await writer.drain()
        one = json.loads((await read_response(reader)).content)
        two = json.loads((await read_response(reader)).content)
    finally:
        writer.close()
    assert one["raw_head"] == first.decode()
    assert two["raw_head"] == second[:-3].decode()
    assert two["headers_as_sent"][-1] == ["X-SeCoNd", "2"]
    assert one["connection"]["pipelined"] is False
    assert two["connection"]["pipelined"] is True
    assert two["connection"]["request_index"] == 2


async def test_body_sent_in_pieces_shows_its_spread(server: RunningServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"POST /t?echo_format=json HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n")
        await writer.drain()
        for piece in (b"abc", b"def", b"ghi"):
            await asyncio.sleep(0.1)
            writer.write(piece)
            await writer.drain()
        body = json.loads((await read_response(reader)).content)["body"]
    finally:
        writer.close()
    assert body["declared_length"] == 9
    assert body["chunked"] is False
    assert body["received_length"] == 9
    assert body["last_byte_ms"] - body["first_byte_ms"] >= 150


async def test_body_sent_at_once_arrives_at_once(server: RunningServer) -> None:
    request = b"POST /t?echo_format=json HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
    body = json.loads((await exchange(server.port, request)).content)["body"]
    assert body["first_byte_ms"] == body["last_byte_ms"] == 0


async def test_chunked_body_reports_chunked_without_declared_length(server: RunningServer) -> None:
    request = (
        b"POST /c?echo_format=json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    document = json.loads((await exchange(server.port, request)).content)
    assert document["body"]["chunked"] is True
    assert document["body"]["declared_length"] is None
    assert document["body"]["received_length"] == 5
    assert document["connection"]["tls"] is None
    assert document["connection"]["local"]["port"] == server.port


async def test_head_at_the_size_limit_is_captured_whole(server: RunningServer) -> None:
    fields = b"".join(f"X-Field-{i:03d}: ".encode() + b"v" * 421 + b"\r\n" for i in range(150))
    head = b"GET /big?echo_format=raw HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"
    response = await exchange(server.port, head)
    assert response.status == 200
    assert response.content == head


async def test_trailer_fields_are_not_echoed_as_header_fields(server: RunningServer) -> None:
    head = b"POST /tr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    response = await exchange(server.port, head + b"3\r\nabc\r\n0\r\nX-Trailer: late\r\n\r\n")
    assert response.status == 200
    assert b"\nNAMES: as sent\n" in response.content
    assert response.content.endswith(b"chunked\n\nTRAILERS:\nX-Trailer: late\n\nBODY:\nabc")  # in their own block


async def test_trailer_section_flood_gets_431(server: RunningServer) -> None:
    head = b"POST /tr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n"
    response = await exchange(server.port, head + b"X-Flood: " + b"f" * 200_000 + b"\r\n\r\n")
    assert response.status == 431


async def test_websocket_on_a_path_no_route_matches_is_echoed(server: RunningServer) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{server.port}/a%0Ab") as ws:
        await ws.send("through the default")
        assert await asyncio.wait_for(ws.recv(), 5) == "through the default"


def content_bytes_total(metrics: bytes) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith(b"echo_http_request_content_bytes_total "))
    return float(line.split()[1])


async def test_metrics_count_content_bytes_as_received_not_their_framing(server: RunningServer) -> None:
    scrape = b"GET /_echo/metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    before = content_bytes_total((await exchange(server.port, scrape)).content)
    chunked = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    assert (await exchange(server.port, chunked)).status == 200
    fixed = b"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    assert (await exchange(server.port, fixed)).status == 200
    after = content_bytes_total((await exchange(server.port, scrape)).content)
    assert after - before == 11 + 3
