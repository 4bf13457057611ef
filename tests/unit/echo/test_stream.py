"""Stream mode at the ASGI level: what is sent for what arrives, and the ``ECHO_MAX_STREAM_BYTES`` ceiling."""

from __future__ import annotations

import pytest
from starlette.types import Message

from app.echo.stream import OCTET_STREAM, StreamTooLarge, stream_content_type, stream_echo

END = {"type": "http.response.body", "body": b"", "more_body": False}


def part(data: bytes, *, more: bool = True) -> Message:
    return {"type": "http.request", "body": data, "more_body": more}


def start(*headers: tuple[bytes, bytes], status: int = 200) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


def body(data: bytes) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": True}


async def run(
    messages: list[Message],
    *,
    declared_length: int | None = None,
    max_stream_bytes: int = 10,
    status: int = 200,
    head_only: bool = False,
    fields: tuple[tuple[bytes, bytes], ...] = (),
) -> tuple[int, list[Message], int]:
    """(bytes received, messages sent, messages left unread)."""
    queue = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return queue.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    received = await stream_echo(
        receive,
        send,
        status=status,
        content_type=b"text/plain",
        declared_length=declared_length,
        max_stream_bytes=max_stream_bytes,
        head_only=head_only,
        fields=fields,
    )
    return received, sent, len(queue)


async def test_chunked_content_is_sent_back_as_it_arrives_without_empty_parts() -> None:
    received, sent, _ = await run([part(b"ab"), part(b""), part(b"cd", more=False)], fields=((b"x-a", b"1"),))
    assert received == 4
    assert sent == [start((b"content-type", b"text/plain"), (b"x-a", b"1")), body(b"ab"), body(b"cd"), END]


async def test_a_declared_length_is_sent_back_before_the_other_fields() -> None:
    _, sent, _ = await run([part(b"abcde", more=False)], declared_length=5, fields=((b"x-a", b"1"),))
    assert sent[0] == start((b"content-type", b"text/plain"), (b"content-length", b"5"), (b"x-a", b"1"))


@pytest.mark.parametrize(
    ("max_stream_bytes", "sent_back"),
    [pytest.param(11, b"abcdefghijk", id="one-byte-over"), pytest.param(12, b"abcdefghijkl", id="at-the-ceiling")],
)
async def test_chunked_content_ends_short_at_the_ceiling(max_stream_bytes: int, sent_back: bytes) -> None:
    received, sent, _ = await run(
        [part(b"abcdef"), part(b"ghijkl"), part(b"mn", more=False)], max_stream_bytes=max_stream_bytes
    )
    assert b"".join(message["body"] for message in sent[1:]) == sent_back
    assert sent[-1] == END
    assert received == (12 if max_stream_bytes == 11 else 14)  # what was read, the part past the ceiling too


async def test_a_declared_length_at_the_ceiling_is_streamed_and_one_over_refused_before_anything_is_sent() -> None:
    received, sent, _ = await run([part(b"x" * 10, more=False)], declared_length=10)
    assert (received, sent[-2:]) == (10, [body(b"x" * 10), END])
    with pytest.raises(StreamTooLarge) as refused:
        await run([part(b"x" * 11, more=False)], declared_length=11)
    assert refused.value.message == (
        "Content Too Large: stream mode sends back at most 10 bytes (ECHO_MAX_STREAM_BYTES)"
    )


@pytest.mark.parametrize(
    ("status", "head_only", "length_field"),
    [
        pytest.param(200, True, [(b"content-length", b"3")], id="head"),
        pytest.param(204, False, [], id="204"),
        pytest.param(304, True, [], id="head-304"),
    ],
)
async def test_head_204_and_304_read_the_content_and_send_none(
    status: int, head_only: bool, length_field: list[tuple[bytes, bytes]]
) -> None:
    received, sent, left = await run([part(b"abc", more=False)], declared_length=3, status=status, head_only=head_only)
    assert (received, left) == (3, 0)
    assert sent == [start((b"content-type", b"text/plain"), *length_field, status=status), END]


async def test_a_chunked_answer_has_no_length_field() -> None:
    _, sent, _ = await run([part(b"abc", more=False)])
    assert sent[0] == start((b"content-type", b"text/plain"))


async def test_a_client_gone_gets_nothing_sent() -> None:
    received, sent, _ = await run([part(b"ab"), {"type": "http.disconnect"}])
    assert (received, sent) == (2, [start((b"content-type", b"text/plain")), body(b"ab")])
    assert await run([{"type": "http.disconnect"}]) == (0, [], 0)


async def test_body_and_more_body_are_optional_in_a_request_message() -> None:
    # ASGI: both keys may be left out (body b"", more_body False).
    received, sent, left = await run([{"type": "http.request"}, part(b"unread")])
    assert (received, sent, left) == (0, [start((b"content-type", b"text/plain")), END], 1)


@pytest.mark.parametrize(
    ("given", "served"),
    [
        pytest.param(None, OCTET_STREAM, id="none"),
        pytest.param(b"text/html", OCTET_STREAM, id="active"),
        pytest.param(b"image/png", b"image/png", id="passive"),
    ],
)
def test_the_streamed_type_is_the_requests_unless_browsers_would_run_it(given: bytes | None, served: bytes) -> None:
    assert stream_content_type(given) == served
