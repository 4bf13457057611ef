"""The protocol's wire capture in process: each request gets its own exact head, however reads cut the stream."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.server.protocol import EchoHttpToolsProtocol
from app.server.wire import WIRE_EXTENSION, WireFacts
from tests.fake_transport import FakeTransport

# (bytes before the head, head, content): an empty line before a request line is not part of its head.
REQUESTS = [
    (b"", b"GET /a HTTP/1.1\r\nHost: x\r\nX-MiXeD: 1\r\n\r\n", b""),
    (b"", b"POST /b HTTP/1.1\r\nhost: x\r\nContent-Length: 9\r\n\r\n", b"a\r\n\r\nbcde"),
    (b"", b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", b"5\r\nhello\r\n0\r\n\r\n"),
    (b"\r\n", b"GET /d HTTP/1.1\r\nHOST: x\r\n\r\n", b""),
    (b"", b"PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n", b"xyz" * 100),
]
ONE_READ_EACH = [prefix + head + content for prefix, head, content in REQUESTS]
HEAD_THEN_CONTENT = [part for prefix, head, content in REQUESTS for part in (prefix + head, content) if part]
STREAM = b"".join(ONE_READ_EACH)


async def captured(reads: list[bytes], inner: ASGIApp | None = None) -> list[WireFacts]:
    """Feed ``reads`` to a fresh protocol, letting the apps run after each; the facts each request got.

    ``inner`` answers each request after its facts are taken (default: 204 once the content is read).
    """
    seen: list[WireFacts] = []

    async def no_content(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    answer = inner or no_content

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["extensions"][WIRE_EXTENSION])
        await answer(scope, receive, send)

    config = Config(app=app, http=EchoHttpToolsProtocol, lifespan="off", log_level="warning")
    config.load()
    protocol = EchoHttpToolsProtocol(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    protocol.connection_made(FakeTransport())  # type: ignore[arg-type]
    for read in reads:
        protocol.data_received(read)
        for _ in range(10):
            await asyncio.sleep(0)
    protocol.connection_lost(None)
    return seen


def pieces(size: int) -> list[bytes]:
    return [STREAM[start : start + size] for start in range(0, len(STREAM), size)]


@pytest.mark.parametrize(
    "reads",
    [
        pytest.param(ONE_READ_EACH, id="a-read-per-request"),
        pytest.param(HEAD_THEN_CONTENT, id="head-then-content"),
        pytest.param([STREAM], id="pipelined"),
        # The last head is not the first in its read, and its content is longer than the rest of the read.
        pytest.param([STREAM[:-300], STREAM[-300:]], id="pipelined-then-content"),
        *(pytest.param(pieces(size), id=f"{size}-byte-reads") for size in (1, 5, 64)),
    ],
)
async def test_each_request_gets_its_own_head(reads: list[bytes]) -> None:
    facts = await captured(reads)
    assert [wire.raw_head for wire in facts] == [head for _, head, _ in REQUESTS]
    assert [wire.request_index for wire in facts] == [1, 2, 3, 4, 5]
    assert [wire.names for wire in facts][:2] == [[b"Host", b"X-MiXeD"], [b"host", b"Content-Length"]]


@pytest.mark.parametrize("reads", [ONE_READ_EACH, [STREAM], pieces(1), pieces(5)], ids=["each", "stream", "1", "5"])
async def test_each_request_counts_its_content_without_chunked_framing(reads: list[bytes]) -> None:
    facts = await captured(reads)
    assert [wire.content_bytes for wire in facts] == [0, 9, 5, 0, 300]


async def test_requests_in_one_read_are_pipelined() -> None:
    one_by_one = await captured(ONE_READ_EACH)
    assert [wire.pipelined for wire in one_by_one] == [False] * 5
    at_once = await captured([STREAM])
    assert [wire.pipelined for wire in at_once] == [False, True, True, True, True]


async def test_content_times_are_kept_for_a_request_read_whole() -> None:
    (wire,) = await captured([REQUESTS[1][1] + REQUESTS[1][2]])
    assert wire.first_byte_s == wire.last_byte_s == wire.head_end_s
    assert wire.body_timing_ms() == (0.0, 0.0)


async def test_requests_after_an_upgrade_the_server_refuses_get_their_own_heads() -> None:
    upgrade = b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: nothing-known\r\n\r\n"
    after = b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n"
    facts = await captured([upgrade, after[:10], after[10:], after])
    assert [wire.raw_head for wire in facts] == [upgrade, after, after]


@pytest.mark.parametrize(
    ("framing", "content"),
    [
        pytest.param(b"Content-Length: 5\r\n", b"hello", id="content-length"),
        pytest.param(b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n", id="chunked"),
    ],
)
@pytest.mark.parametrize("split", [pytest.param(False, id="one-read"), pytest.param(True, id="a-read-each")])
async def test_an_ignored_upgrade_with_content_keeps_head_and_content_apart(
    framing: bytes, content: bytes, split: bool
) -> None:
    upgrade = b"POST /u HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n" + framing + b"\r\n"
    after = b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n"
    facts = await captured([upgrade, content, after] if split else [upgrade + content + after])
    assert [wire.raw_head for wire in facts] == [upgrade, after]
    assert [wire.content_bytes for wire in facts] == [5, 0]


async def test_trailing_whitespace_is_kept_in_the_raw_head_only() -> None:
    # RFC 9110 §5.5: a field value excludes surrounding whitespace; the raw head is the bytes as sent.
    head = b"POST /t HTTP/1.1\r\nHost: x \t\r\nX-A: v  \r\nContent-Length: 5 \r\n\r\n"
    after = b"GET /g HTTP/1.1\r\nHost: x\r\n\r\n"
    headers: list[list[tuple[bytes, bytes]]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        headers.append(list(scope["headers"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    facts = await captured([head + b"hello" + after], app)
    assert [wire.raw_head for wire in facts] == [head, after]
    assert headers[0] == [(b"host", b"x"), (b"x-a", b"v"), (b"content-length", b"5")]


TRAILED = b"POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n"
SECTION_ONE = b"X-Checksum:  abc \t\r\nx-other: 2\r\n\r\n"
SECTION_TWO = b"X-Checksum: def\r\n\r\n"


@pytest.mark.parametrize("piece_size", [1, 2, 5, 100_000])
async def test_each_chunked_request_keeps_its_own_trailer_section(piece_size: int) -> None:
    no_trailers = b"POST /n HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
    stream = TRAILED + SECTION_ONE + no_trailers + REQUESTS[0][1] + TRAILED + SECTION_TWO
    facts = await captured([stream[start : start + piece_size] for start in range(0, len(stream), piece_size)])
    assert [wire.trailers for wire in facts] == [
        [(b"X-Checksum", b"abc"), (b"x-other", b"2")],  # names as sent, values without surrounding whitespace
        [],
        [],
        [(b"X-Checksum", b"def")],
    ]
    assert [wire.raw_trailers for wire in facts] == [SECTION_ONE, b"", b"", SECTION_TWO]
