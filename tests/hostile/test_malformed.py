"""Malformed and oversized request heads against the real server: exact status, closed connection,
nothing answered after the refusal, and the next connection served normally."""

from __future__ import annotations

import asyncio

import pytest

from tests.rawhttp import RawResponse, exchange, read_response
from tests.servers import RunningServer

pytestmark = pytest.mark.server

H = b"Host: x\r\n"
CHUNKED = b"Transfer-Encoding: chunked\r\n"
MAX_HEADER_BYTES = 64 * 1024
MAX_TARGET_BYTES = 16 * 1024

CASES = [
    pytest.param(b"GARBAGE\r\n\r\n", 400, id="bad-request-line"),
    pytest.param(b"GE(T / HTTP/1.1\r\n" + H + b"\r\n", 400, id="invalid-method-char"),
    pytest.param(b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400, id="space-in-target"),
    pytest.param(b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n", 400, id="control-in-target"),
    pytest.param(b"GET /caf\xc3\xa9 HTTP/1.1\r\n" + H + b"\r\n", 400, id="raw-non-ascii-in-target"),
    pytest.param(b"GET / HTTP/1.1\nHost: x\n\n", 400, id="bare-lf"),
    pytest.param(b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n  folded\r\n\r\n", 400, id="obs-fold"),
    pytest.param(b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400, id="nul-in-field"),
    pytest.param(b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n", 400, id="control-in-field"),
    pytest.param(b"GET / HTTP/1.1\r\n" + H + b"NoColon\r\n\r\n", 400, id="field-without-colon"),
    pytest.param(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
                 id="conflicting-content-length"),
    pytest.param(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n" + CHUNKED + b"\r\n0\r\n\r\n", 400,
                 id="content-length-with-transfer-encoding"),
    pytest.param(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400, id="negative-length"),
    pytest.param(b"POST / HTTP/1.1\r\n" + H + CHUNKED + b"\r\nzz\r\nabc\r\n0\r\n\r\n", 400, id="bad-chunk-size"),
    pytest.param(b"POST / HTTP/1.1\r\n" + H + CHUNKED + b'\r\n3;a="\x01"\r\nabc\r\n0\r\n\r\n', 400,
                 id="bad-chunk-extension"),
    pytest.param(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\nabc", 501, id="unknown-coding"),
    pytest.param(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
                 id="coding-before-chunked"),
    pytest.param(b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505, id="http-2.0"),
    pytest.param(b"GET / HTTP/0.9\r\n" + H + b"\r\n", 505, id="http-0.9"),
    pytest.param(b"GET / HTTP/1.2\r\n" + H + b"\r\n", 505, id="http-1.2"),
    pytest.param(b"GET / HTTP/1.1\r\n\r\n", 400, id="no-host"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, id="two-hosts"),
    pytest.param(b"MUX / HTTP/1.1\r\n" + H + b"\r\n", 501, id="method-unknown-to-parser"),
    pytest.param(b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", 501, id="connect-authority-form"),
    pytest.param(b"CONNECT / HTTP/1.1\r\n" + H + b"\r\n", 501, id="connect-origin-form"),
    pytest.param(b"CONNECT http://x HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\n", 501,
                 id="connect-absolute-form-with-content"),
    pytest.param(b"GET http://u:p@x/ HTTP/1.1\r\n" + H + b"\r\n", 400, id="userinfo-in-target"),
    pytest.param(b"GET * HTTP/1.1\r\n" + H + b"\r\n", 400, id="asterisk-form-for-get"),
    pytest.param(b"GET *x HTTP/1.1\r\n" + H + b"\r\n", 400, id="asterisk-and-more"),
    pytest.param(b"OPTIONS *?a HTTP/1.1\r\n" + H + b"\r\n", 400, id="asterisk-with-query"),
    pytest.param(b"GET http://@x/ HTTP/1.1\r\n" + H + b"\r\n", 400, id="empty-userinfo-in-target"),
    pytest.param(b"GET http://x:99999/ HTTP/1.1\r\n" + H + b"\r\n", 400, id="absolute-form-bad-port"),
    pytest.param(b"GET http:// HTTP/1.1\r\n" + H + b"\r\n", 400, id="absolute-form-no-authority"),
    pytest.param(b"GET /" + b"a" * MAX_TARGET_BYTES + b" HTTP/1.1\r\n" + H + b"\r\n", 414, id="target-too-long"),
    pytest.param(b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"v" * MAX_HEADER_BYTES + b"\r\n\r\n", 431,
                 id="head-too-large"),
]  # fmt: skip


async def refused(port: int, request: bytes) -> tuple[RawResponse, bytes]:
    """Send ``request`` followed by a valid request; return the response and what came after it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request + b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        response = await read_response(reader)
        after = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    return response, after


@pytest.mark.parametrize(("request_bytes", "status"), CASES)
async def test_malformed_request_is_refused_and_the_connection_closed(
    server: RunningServer, request_bytes: bytes, status: int
) -> None:
    response, after = await refused(server.port, request_bytes)
    assert response.status == status
    assert response.field("connection") == "close"
    assert response.field("content-type") == "text/plain; charset=utf-8"
    assert response.field("x-content-type-options") == "nosniff"
    assert response.content.startswith(f"{status} ".encode())
    assert len(response.content) < 300
    assert after == b""  # closed: the request behind it was never answered
    follow_up = await exchange(server.port, b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
    assert follow_up.status == 200


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        pytest.param(b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", b"CONNECT cannot be echoed", id="connect"),
        pytest.param(b"GET http://x:port/ HTTP/1.1\r\n" + H + b"\r\n", b"request target", id="unparsable-target"),
    ],
)
async def test_unusable_targets_are_refused_with_a_reason(
    server: RunningServer, request_bytes: bytes, reason: bytes
) -> None:
    # The parser accepts these request lines; uvicorn alone would fail on them with "User callback error".
    response, _ = await refused(server.port, request_bytes)
    assert reason in response.content
    assert b"callback" not in response.content


async def test_requests_before_a_refused_one_in_the_same_read_keep_their_raw_heads(server: RunningServer) -> None:
    raw_request = b"GET /r?echo_format=raw HTTP/1.1\r\n" + H + b"\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            b"GET /a HTTP/1.1\r\n" + H + b"\r\n" + raw_request + b"GET http://x:99999/ HTTP/1.1\r\n" + H + b"\r\n"
        )
        await writer.drain()
        first, second, third = [await read_response(reader) for _ in range(3)]
    finally:
        writer.close()
    assert first.status == 200
    assert (second.status, second.content) == (200, raw_request)
    assert third.status == 400


async def test_refusal_in_a_pipelined_body_waits_for_the_answers_before_it(server: RunningServer) -> None:
    # The bad chunk size is parsed while /a is still being answered: /a's answer comes first (RFC 9112 §9.3.2).
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            b"GET /a?echo_delay=200 HTTP/1.1\r\n" + H + b"\r\nPOST /b HTTP/1.1\r\n" + H + CHUNKED + b"\r\nzz\r\n"
        )
        await writer.drain()
        first, second = await read_response(reader), await read_response(reader)
        after = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    assert (first.status, echoed_target(first)) == (200, b"/a?echo_delay=200")
    assert second.status == 400
    assert second.field("connection") == "close"
    assert after == b""


def echoed_target(response: RawResponse) -> bytes:
    return response.content.split(b"\nTARGET: ", 1)[1].split(b"\n", 1)[0]


async def test_head_just_under_the_limit_with_150_fields_is_echoed_in_full(server: RunningServer) -> None:
    fields = [f"X-Field-{i:03d}: ".encode() + b"v" * 421 + b"\r\n" for i in range(150)]
    head = b"GET /big-head HTTP/1.1\r\n" + H + b"".join(fields)
    assert MAX_HEADER_BYTES - 200 < len(head) + 2 < MAX_HEADER_BYTES
    response = await exchange(server.port, head + b"\r\n")
    assert response.status == 200
    for index in (0, 75, 149):
        assert f"X-Field-{index:03d}: ".encode() + b"v" * 421 + b"\n" in response.content


async def test_target_at_the_limit_is_echoed(server: RunningServer) -> None:
    target = b"/" + b"t" * (MAX_TARGET_BYTES - 1)
    response = await exchange(server.port, b"GET " + target + b" HTTP/1.1\r\n" + H + b"\r\n")
    assert response.status == 200
    assert b"TARGET: " + target + b"\n" in response.content


async def test_body_longer_than_declared_is_the_next_request(server: RunningServer) -> None:
    # The declared length is authoritative (RFC 9112 §6.3): what follows is parsed as a new request.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"POST /first HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabcGARBAGE\r\n\r\n")
        await writer.drain()
        first = await read_response(reader)
        second = await read_response(reader)
    finally:
        writer.close()
    assert first.status == 200
    assert first.content.endswith(b"\nBODY:\nabc")
    assert second.status == 400
