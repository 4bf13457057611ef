"""Splitting a connection's byte stream into request heads, and the fallback when no raw head is kept."""

from __future__ import annotations

import httpx
import pytest

from app.server.wire import HeadSplitter, WireFacts, names_as_sent

GET = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
POST_LENGTH = b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
POST_CHUNKED = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
CHUNKED_BODY = b"4;ext=1\r\n\r\n\r\n\r\n5\r\nhello\r\n0\r\nTrailer-Field: v\r\n\r\n"  # content may hold CRLFs


@pytest.mark.parametrize("piece_size", [1, 2, 3, 7, 64, 100_000])
def test_heads_are_found_in_any_split_of_the_stream(piece_size: int) -> None:
    stream = b"\r\n" + GET + POST_LENGTH + b"\r\n\r\nX" + POST_CHUNKED + CHUNKED_BODY + GET
    splitter = HeadSplitter()
    splitter.framings.extend([(0, False), (5, False), (0, True), (0, False)])  # what the parser found
    for start in range(0, len(stream), piece_size):
        splitter.feed(stream[start : start + piece_size])
    assert list(splitter.heads) == [GET, POST_LENGTH, POST_CHUNKED, GET]


def test_incomplete_head_waits() -> None:
    splitter = HeadSplitter()
    splitter.framings.append((0, False))
    splitter.feed(GET[:-1])
    assert not splitter.heads
    splitter.feed(GET[-1:])
    assert list(splitter.heads) == [GET]


def test_unreadable_chunk_size_stops_splitting() -> None:
    splitter = HeadSplitter()
    splitter.framings.extend([(0, True), (0, False)])
    splitter.feed(POST_CHUNKED + b"zz\r\n" + GET)
    assert list(splitter.heads) == [POST_CHUNKED]  # the parser refuses this request; nothing more is claimed


def test_a_head_the_parser_did_not_accept_stops_splitting() -> None:
    splitter = HeadSplitter()  # no framing queued: the parser refused this head
    splitter.feed(GET + GET)
    assert list(splitter.heads) == [GET]


@pytest.mark.parametrize(
    ("held", "head"),
    [
        (GET, GET),
        (b"\r\n\r\n" + GET, GET),
        (GET + b"\r\n", GET),
        (POST_LENGTH + b"hello", POST_LENGTH),
        (POST_LENGTH + b"\r\n\r\n" + GET, POST_LENGTH),
    ],
    ids=["the-head", "after-empty-lines", "before-an-empty-line", "with-content", "content-with-an-empty-line"],
)
def test_raw_head_is_cut_from_the_bytes_it_starts(held: bytes, head: bytes) -> None:
    facts = WireFacts(held, [], 1, False, 0.0)
    assert facts.raw_head == head
    assert facts.raw_head == head  # read again: the same
    facts.raw_head = POST_CHUNKED  # the splitter's cut replaces it
    assert facts.raw_head == POST_CHUNKED


def wire(names: list[bytes]) -> WireFacts:
    return WireFacts(raw_head=b"", names=names, request_index=1, pipelined=False, head_end_s=0.0)


@pytest.mark.parametrize(
    ("facts", "headers", "expected"),
    [
        (wire([b"Host", b"X-MiXeD"]), [(b"host", b"x"), (b"x-mixed", b"1")], [b"Host", b"X-MiXeD"]),
        (wire([b"Host"]), [(b"host", b"x"), (b"x-other", b"1")], None),
        (None, [(b"host", b"x")], None),
    ],
)
def test_names_as_sent(
    facts: WireFacts | None, headers: list[tuple[bytes, bytes]], expected: list[bytes] | None
) -> None:
    assert names_as_sent(facts, headers) == expected


async def test_in_process_echo_falls_back_and_says_so(client: httpx.AsyncClient) -> None:
    text = await client.get("/w", headers={"X-MiXeD-Case": "1"})
    assert b"\nNAMES: Title-Case (the original case was not kept)\nHEADERS:\n" in text.content
    assert b"\nX-Mixed-Case: 1\n" in text.content
    document = (await client.post("/w?echo_format=json", content=b"abc")).json()
    assert document["raw_head"] is None
    assert document["headers_as_sent"] is None
    assert document["connection"]["request_index"] is None
    assert document["body"]["declared_length"] == 3
    assert document["body"]["chunked"] is False
    assert document["body"]["received_length"] == 3
    assert document["body"]["first_byte_ms"] is None
    raw = await client.get("/w?echo_format=raw")
    assert raw.status_code == 400
    assert "echo_format=raw needs the request head as received" in raw.text
