"""Autobahn|Testsuite cases the server once missed, replayed over raw sockets (``bench/autobahn.py`` runs them all).

RFC 6455 §5.4 lets control frames (close included) come between the fragments of a message; a frame the server
must fail (§5.2 reserved bits and opcodes, §5.4 a continuation with nothing to continue) fails the connection only
after the good message before it is answered (Autobahn counts the echo missing as "non-strict"); §8.1 invalid
UTF-8 fails the connection as soon as it arrives, even in the middle of a frame. See docs/websocket-conformance.md.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.rawws import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    RSV2,
    RSV3,
    TEXT,
    ServerFrame,
    close_frame,
    connect,
    frame,
    frames_until_close,
    read_frame,
)
from tests.servers import RunningServer, ServerPool

pytestmark = pytest.mark.server

PROTOCOL_ERROR, INVALID_PAYLOAD = 1002, 1007
HELLO = b"Hello, world!"
# Autobahn 6.4.x: valid UTF-8, then U+110000 written as UTF-8 would (out of range), then valid again.
KOSME, OUT_OF_RANGE, EDITED = "κόσμε".encode(), b"\xf4\x90\x80\x80", b"edited"


@pytest.fixture
def running(server_pool: ServerPool) -> RunningServer:
    return server_pool.get(())


def summary(frames: list[ServerFrame]) -> list[tuple[int, bytes | int | None]]:
    """(opcode, payload) per frame, the close frame as (CLOSE, its code)."""
    return [(f.opcode, f.close_code if f.opcode == CLOSE else f.payload) for f in frames]


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param(
            [frame(TEXT, b"fragment1", fin=False), close_frame(1000), frame(CONTINUATION, b"fragment2")],
            [(CLOSE, 1000)],
            id="7.1.5-close-between-fragments-answered-1000",
        ),
        pytest.param(
            [frame(TEXT, HELLO), frame(TEXT, HELLO, rsv=RSV2), frame(PING)],
            [(TEXT, HELLO), (CLOSE, PROTOCOL_ERROR)],
            id="3.2-echo-then-fail-on-rsv2",
        ),
        pytest.param(
            [frame(BINARY, b"\xff" * 16), frame(BINARY, b"\xff" * 16, rsv=RSV2 | RSV3), frame(PING)],
            [(BINARY, b"\xff" * 16), (CLOSE, PROTOCOL_ERROR)],
            id="3.x-binary-echo-then-fail-on-rsv2-rsv3",
        ),
        pytest.param(
            [frame(TEXT, HELLO), frame(0x5, b""), frame(PING)],
            [(TEXT, HELLO), (CLOSE, PROTOCOL_ERROR)],
            id="4.1.3-echo-then-fail-on-reserved-data-opcode",
        ),
        pytest.param(
            [frame(TEXT, HELLO), frame(0xC, b""), frame(PING)],
            [(TEXT, HELLO), (CLOSE, PROTOCOL_ERROR)],
            id="4.2.3-echo-then-fail-on-reserved-control-opcode",
        ),
        pytest.param(
            [
                frame(TEXT, b"fragment1", fin=False),
                frame(CONTINUATION, b"fragment2"),
                frame(CONTINUATION, b"fragment3", fin=False),
                frame(TEXT, b"fragment4"),
            ],
            [(TEXT, b"fragment1fragment2"), (CLOSE, PROTOCOL_ERROR)],
            id="5.15-echo-then-fail-on-continuation-of-nothing",
        ),
        pytest.param(
            [frame(TEXT, b"one"), frame(PING, b"p"), frame(BINARY, b"two"), close_frame(1000)],
            [(TEXT, b"one"), (PONG, b"p"), (BINARY, b"two"), (CLOSE, 1000)],
            id="messages-ping-and-close-in-one-write-answered-in-order",
        ),
    ],
)
async def test_frames_sent_in_one_write(
    running: RunningServer, sent: list[bytes], expected: list[tuple[int, bytes | int | None]]
) -> None:
    with running.clean_log():
        reader, writer = await connect(running.port)
        try:
            writer.write(b"".join(sent))
            assert summary(await frames_until_close(reader)) == expected
        finally:
            writer.close()


@pytest.mark.parametrize(
    "chops",
    [
        pytest.param([KOSME, OUT_OF_RANGE, EDITED], id="6.4.3-whole-bad-sequence-in-the-second-chop"),
        pytest.param([KOSME, OUT_OF_RANGE[:2], OUT_OF_RANGE[2:] + EDITED], id="6.4.4-second-chop-ends-at-bad-octet"),
    ],
)
async def test_invalid_utf8_fails_in_the_middle_of_a_frame(running: RunningServer, chops: list[bytes]) -> None:
    """One text frame sent in three writes: the close (1007) comes after the second, before the frame is whole."""
    whole = frame(TEXT, b"".join(chops))
    head_bytes = len(whole) - len(b"".join(chops))
    first_end = head_bytes + len(chops[0])
    second_end = first_end + len(chops[1])
    with running.clean_log():
        reader, writer = await connect(running.port)
        try:
            writer.write(whole[:first_end])
            await writer.drain()
            with pytest.raises(TimeoutError):
                await read_frame(reader, timeout_s=0.3)  # valid so far: no answer yet
            writer.write(whole[first_end:second_end])
            answer = await read_frame(reader)
            assert (answer.opcode, answer.close_code) == (CLOSE, INVALID_PAYLOAD)
        finally:
            writer.close()


async def test_a_large_message_in_many_writes_is_echoed_whole(running: RunningServer) -> None:
    """Frames of every length form (7-, 16- and 64-bit), cut at odd places, still reach the app as one message."""
    parts = ["a" * 100, "é" * 40_000, "€" * 30_000]
    data = b"".join(
        frame(TEXT if index == 0 else CONTINUATION, part.encode(), fin=index == len(parts) - 1)
        for index, part in enumerate(parts)
    )
    with running.clean_log():
        reader, writer = await connect(running.port)
        try:
            for start in range(0, len(data), 7_777):
                writer.write(data[start : start + 7_777])
                await writer.drain()
                await asyncio.sleep(0)
            echo = await read_frame(reader)
            assert (echo.opcode, echo.payload.decode()) == (TEXT, "".join(parts))
            writer.write(close_frame(1000))
            assert summary(await frames_until_close(reader)) == [(CLOSE, 1000)]
        finally:
            writer.close()
