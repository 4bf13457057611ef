"""An ``Upgrade`` the server does not take leaves the request an ordinary HTTP/1.1 request.

A server may ignore ``Upgrade`` (RFC 9110 §7.8). The request is then framed by its own
``Content-Length`` or chunked coding (RFC 9112 §6.3), and the bytes after it are the next requests,
answered in order: its content is never lost, and never answered as a request of its own (which would
smuggle requests past any proxy that forwards ``Upgrade``). ``curl --http2`` sends ``Upgrade: h2c``.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator

import pytest

from tests.rawhttp import TIMEOUT_S, RawResponse, chunked, echoed_line, read_response
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

UPGRADE_H2C = (
    b"Host: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
)
NEXT = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
# The protocols the README documents; stock `--http httptools` loses the content (uvicorn's own behaviour).
PROTOCOLS = {"default": (), "h11": ("--http", "h11"), "zttp": ("--http", "zttp")}


@pytest.fixture(params=list(PROTOCOLS), ids=list(PROTOCOLS))
def running(request: pytest.FixtureRequest, server_pool: ServerPool) -> Iterator[RunningServer]:
    server = server_pool.get(PROTOCOLS[request.param])
    with server.clean_log():
        yield server


async def conversation(port: int, writes: list[bytes]) -> list[RawResponse]:
    """Send each write separately, half-close, and read every response until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for data in writes:
            writer.write(data)
            await writer.drain()
            await asyncio.sleep(0.05)  # a separate read on the server's side
        writer.write_eof()
        received = asyncio.StreamReader()
        received.feed_data(await asyncio.wait_for(reader.read(), TIMEOUT_S))
        received.feed_eof()
    finally:
        writer.close()
    responses = []
    while not received.at_eof():
        responses.append(await read_response(received))
    return responses


def echoed_content(response: RawResponse) -> bytes:
    return response.content.split(b"\nBODY:\n", 1)[1]


@pytest.mark.parametrize(
    "writes",
    [
        pytest.param([b"POST /u HTTP/1.1\r\n" + UPGRADE_H2C + b"Content-Length: 5\r\n\r\nhello"], id="same-write"),
        pytest.param(
            [b"POST /u HTTP/1.1\r\n" + UPGRADE_H2C + b"Content-Length: 5\r\n\r\n", b"hello"], id="later-write"
        ),
        pytest.param([b"POST /u HTTP/1.1\r\n" + UPGRADE_H2C + b"Content-Length: 5\r\n\r\nhe", b"llo"], id="split"),
        pytest.param(
            [b"POST /u HTTP/1.1\r\n" + UPGRADE_H2C + b"Transfer-Encoding: chunked\r\n\r\n", chunked([b"he", b"llo"])],
            id="chunked",
        ),
        pytest.param(
            [b"POST /u HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: foo/1\r\nContent-Length: 5\r\n\r\nhello"],
            id="unknown-protocol",
        ),
    ],
)
async def test_the_content_of_an_ignored_upgrade_is_echoed(running: RunningServer, writes: list[bytes]) -> None:
    (response,) = await conversation(running.port, writes)
    assert response.status == 200
    assert echoed_line(response, "TARGET") == "/u"
    assert echoed_content(response) == b"hello"


async def test_content_that_looks_like_a_request_is_not_answered_as_one(running: RunningServer) -> None:
    head = b"POST /u HTTP/1.1\r\n" + UPGRADE_H2C + b"Content-Length: %d\r\n\r\n" % len(SMUGGLED)
    responses = await conversation(running.port, [head, SMUGGLED])
    assert [echoed_line(response, "TARGET") for response in responses] == ["/u"]
    assert echoed_content(responses[0]) == SMUGGLED


@pytest.mark.parametrize(
    "writes",
    [
        pytest.param([b"GET /u HTTP/1.1\r\n" + UPGRADE_H2C + b"\r\n" + NEXT], id="no-content-pipelined"),
        pytest.param([b"GET /u HTTP/1.1\r\n" + UPGRADE_H2C + b"\r\n", NEXT], id="no-content-then-request"),
        pytest.param([b"POST /u HTTP/1.1\r\n" + UPGRADE_H2C + b"Content-Length: 5\r\n\r\nhello" + NEXT], id="content"),
        pytest.param(
            [
                b"POST /u HTTP/1.1\r\n"
                + UPGRADE_H2C
                + b"Transfer-Encoding: chunked\r\n\r\n"
                + chunked([b"hello"])
                + NEXT
            ],
            id="chunked-pipelined",
        ),
        pytest.param(
            [b"GET /u HTTP/1.1\r\n" + UPGRADE_H2C + b"\r\n" + b"GET /v HTTP/1.1\r\n" + UPGRADE_H2C + b"\r\n" + NEXT],
            id="two-upgrades",
        ),
    ],
)
async def test_requests_after_an_ignored_upgrade_are_answered_in_order(
    running: RunningServer, writes: list[bytes]
) -> None:
    responses = await conversation(running.port, writes)
    targets = [echoed_line(response, "TARGET") for response in responses]
    assert targets == (["/u", "/v", "/next"] if b"GET /v" in writes[0] else ["/u", "/next"])
    assert all(response.status == 200 for response in responses)


def test_curl_http2_over_cleartext_gets_its_content_echoed(server: RunningServer) -> None:
    # curl --http2 on an http:// URL asks for h2c with Upgrade; the server answers in HTTP/1.1.
    result = subprocess.run(
        ["curl", "-sS", "--http2", "--max-time", "10", "--data-binary", "hello", f"http://127.0.0.1:{server.port}/c"],
        capture_output=True,
        check=True,
        timeout=20,
    )
    assert b"Upgrade: h2c\n" in result.stdout
    assert result.stdout.endswith(b"\nBODY:\nhello")
