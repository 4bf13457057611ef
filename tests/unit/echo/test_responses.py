"""How responses leave the app: joined when small, part by part when large; bodies read only when framed."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.types import Message, Receive

from app.echo.responses import JOIN_MAX_BYTES, SEND_SLICE_BYTES, response_messages
from app.main import create_app
from app.settings import Settings


class Recorder:
    """An ASGI ``send`` that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]


async def test_small_parts_leave_in_one_message() -> None:
    start, *bodies = response_messages(200, b"text/plain", [b"head\n", b"body"], head_only=False)
    assert [body["body"] for body in bodies] == [b"head\nbody"]
    assert (b"content-length", b"9") in start["headers"]


async def test_large_parts_leave_unjoined() -> None:
    big = b"x" * JOIN_MAX_BYTES
    _, *messages = response_messages(200, b"text/plain", [b"head\n", big], head_only=False)
    bodies = [message["body"] for message in messages]
    assert bodies == [b"head\n", big]
    assert [message["more_body"] for message in messages] == [True, False]
    assert bodies[1] is big  # the content itself, not a copy


def scope(http_version: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": "POST",
        "scheme": "http",
        "path": "/p",
        "raw_path": b"/p",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"echo.test"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }


async def test_http11_without_framing_has_no_content_to_read() -> None:
    # RFC 9112 §6.3: a request with neither Content-Length nor Transfer-Encoding has no content.
    async def receive() -> Message:
        raise AssertionError("the echo read a request that has no content")

    send = Recorder()
    await create_app(Settings())(scope("1.1", []), receive, send)
    assert send.messages[0]["status"] == 200
    assert b"".join(send.bodies()).endswith(b"BODY:\n")


@pytest.mark.parametrize("http_version", ["2", "3"])
async def test_http2_content_without_content_length_is_read(http_version: str) -> None:
    # HTTP/2 and HTTP/3 frame content themselves: Content-Length is optional there (RFC 9113 §8.1.1).
    messages: list[Message] = [
        {"type": "http.request", "body": b"da", "more_body": True},
        {"type": "http.request", "body": b"ta"},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    send = Recorder()
    await create_app(Settings())(scope(http_version, []), receive, send)
    assert b"".join(send.bodies()).endswith(b"BODY:\ndata")


async def test_content_length_of_thousands_of_digits_is_a_plain_413() -> None:
    # zttp and HTTP/2 pass such a value through; int() refuses more than 4,300 digits.
    async def receive() -> Message:
        raise AssertionError("a declared length past the ceiling is refused before reading")

    send = Recorder()
    await create_app(Settings())(scope("1.1", [(b"content-length", b"0" * 4999 + b"5")]), receive, send)
    assert send.messages[0]["status"] == 413
    assert (b"x-content-type-options", b"nosniff") in send.messages[0]["headers"]


def arriving(*chunks: bytes) -> Receive:
    """An ASGI ``receive`` that hands out ``chunks`` as request content, the last without ``more_body``."""
    messages: list[Message] = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages[-1]["more_body"] = False

    async def receive() -> Message:
        return messages.pop(0)

    return receive


async def test_plain_echo_of_small_content_leaves_in_one_message() -> None:
    send = Recorder()
    await create_app(Settings())(scope("1.1", [(b"content-length", b"4")]), arriving(b"da", b"ta"), send)
    [body] = send.bodies()
    assert body.endswith(b"BODY:\ndata")
    assert (b"content-length", str(len(body)).encode()) in send.messages[0]["headers"]


async def test_plain_echo_of_large_content_leaves_part_by_part_uncopied() -> None:
    big = b"x" * JOIN_MAX_BYTES
    send = Recorder()
    length = str(len(big) + 2).encode()
    await create_app(Settings())(scope("1.1", [(b"content-length", length)]), arriving(big, b"yz"), send)
    head, content, tail = send.bodies()
    assert head.endswith(b"BODY:\n")
    assert content is big  # the chunk as received, not a copy
    assert tail == b"yz"
    total = str(len(head) + len(big) + 2).encode()
    assert (b"content-length", total) in send.messages[0]["headers"]


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param([b"j" * (3 * SEND_SLICE_BYTES + 5)], id="one-large-document"),
        pytest.param([b"head\n", b"c" * (2 * SEND_SLICE_BYTES), b"tail"], id="a-large-part-among-small"),
    ],
)
async def test_large_content_leaves_in_slices_the_server_drains_between(parts: list[bytes]) -> None:
    # uvicorn waits for a paused transport to drain before each message: one huge message is buffered whole.
    start, *messages = response_messages(200, b"application/json", parts, head_only=False)
    bodies = [message["body"] for message in messages]
    assert b"".join(bodies) == b"".join(parts)
    assert max(map(len, bodies)) <= SEND_SLICE_BYTES
    assert [message["more_body"] for message in messages] == [True] * (len(messages) - 1) + [False]
    assert (b"content-length", b"%d" % sum(map(len, parts))) in start["headers"]
