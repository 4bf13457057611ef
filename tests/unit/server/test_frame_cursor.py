"""``FrameCursor`` cuts client bytes at frame ends whatever the reads, and checks uncompressed text on the way."""

from __future__ import annotations

import pytest

from app.server.frame_cursor import FrameCursor, parse_head
from tests.rawws import BINARY, CLOSE, CONTINUATION, PING, PONG, RSV1, RSV2, TEXT, frame

MASK = b"\x01\x02\x03\x04"


@pytest.mark.parametrize(
    ("payload_bytes", "head_bytes"),
    [
        pytest.param(0, 6, id="empty"),
        pytest.param(125, 6, id="7-bit-length"),
        pytest.param(126, 8, id="16-bit-length"),
        pytest.param(65_536, 14, id="64-bit-length"),
    ],
)
def test_parse_head_reads_every_length_form(payload_bytes: int, head_bytes: int) -> None:
    data = frame(BINARY, b"x" * payload_bytes, mask=MASK)
    head = parse_head(data)
    assert head is not None
    assert (head.head_bytes, head.payload_bytes, head.mask, head.opcode, head.fin) == (
        head_bytes,
        payload_bytes,
        MASK,
        BINARY,
        True,
    )
    assert parse_head(data[: head_bytes - 1]) is None


def cut(cursor: FrameCursor, stream: bytes, read_bytes: int) -> list[int]:
    """Feed ``stream`` in reads of ``read_bytes`` as the protocol does; returns the offsets where frames ended."""
    ends: list[int] = []
    held = b""
    offset = 0
    for start in range(0, len(stream), read_bytes):
        data = held + stream[start : start + read_bytes]
        position = 0
        while position < len(data):
            size = cursor.piece(data[position:])
            if not size:
                break
            position += size
            if cursor.at_frame_end:
                ends.append(offset + position)
        held = data[position:]
        offset += position
    return ends


@pytest.mark.parametrize("read_bytes", [1, 2, 3, 5, 7, 13, 64, 1_000, 100_000])
def test_frames_end_where_they_end_whatever_the_reads(read_bytes: int) -> None:
    frames = [
        frame(TEXT, "κόσμε".encode() * 30, fin=False),
        frame(PING, b"ping"),
        frame(CONTINUATION, b"a" * 300),
        frame(BINARY, b"\xff" * 70_000),
        frame(TEXT, b""),
    ]
    expected, total = [], 0
    for each in frames:
        total += len(each)
        expected.append(total)
    assert cut(FrameCursor(), b"".join(frames), read_bytes) == expected


@pytest.mark.parametrize("read_bytes", [1, 3, 64])
def test_invalid_text_is_found_as_soon_as_its_bytes_arrive(read_bytes: int) -> None:
    valid, invalid = "κόσμε".encode(), b"\xf4\x90\x80\x80"
    stream = frame(TEXT, valid + invalid + b"edited")
    shown_at = len(stream) - len(b"edited") - len(invalid) + 2  # F4 90 is out of range already (RFC 3629 §4)
    assert cut(FrameCursor(), stream[: shown_at - 1], read_bytes) == []  # F4 alone may still be valid
    with pytest.raises(UnicodeDecodeError):
        cut(FrameCursor(), stream[:shown_at], read_bytes)


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param([frame(TEXT, b"caf\xc3", fin=False), frame(CONTINUATION, b"\xa9")], id="sequence-across-frames"),
        pytest.param([frame(BINARY, b"\xff\xfe")], id="binary"),
        pytest.param([frame(TEXT, b"\xff\xfe", rsv=RSV1)], id="compressed-text-checked-after-inflating"),
        pytest.param([frame(TEXT, b"\xff", rsv=RSV2)], id="reserved-bit-left-to-websockets"),
        pytest.param([frame(CONTINUATION, b"\xff")], id="continuation-of-nothing-left-to-websockets"),
        pytest.param(
            [frame(TEXT, b"ok", fin=False), frame(PING, b"\xff"), frame(CONTINUATION, b"!")], id="ping-mid-message"
        ),
    ],
)
def test_what_is_not_checked_or_is_valid_passes(frames: list[bytes]) -> None:
    stream = b"".join(frames)
    assert len(cut(FrameCursor(), stream, 1)) == len(frames)


def test_a_message_ending_inside_a_sequence_is_invalid() -> None:
    with pytest.raises(UnicodeDecodeError):
        cut(FrameCursor(), frame(TEXT, b"ok", fin=False) + frame(CONTINUATION, b"\xc3"), 100)


@pytest.mark.parametrize(
    ("before", "next_frame", "compression", "expected"),
    [
        pytest.param(b"", frame(TEXT, b"hi"), False, False, id="a-message"),
        pytest.param(b"", frame(TEXT, b"hi", rsv=RSV1), True, False, id="a-compressed-message"),
        pytest.param(frame(TEXT, b"a", fin=False), frame(CONTINUATION, b"b"), False, False, id="its-continuation"),
        pytest.param(b"", frame(PONG, b"p"), False, False, id="a-pong"),
        pytest.param(b"", frame(PING, b"p"), False, True, id="a-ping-is-answered"),
        pytest.param(b"", frame(CLOSE, b"\x03\xe8"), False, True, id="a-close-is-answered"),
        pytest.param(b"", frame(TEXT, b"hi", rsv=RSV1), False, True, id="rsv1-without-compression"),
        pytest.param(b"", frame(TEXT, b"hi", rsv=RSV2), True, True, id="rsv2"),
        pytest.param(b"", frame(0x3, b""), False, True, id="reserved-data-opcode"),
        pytest.param(b"", frame(0xB, b""), False, True, id="reserved-control-opcode"),
        pytest.param(b"", frame(CONTINUATION, b"x"), False, True, id="continuation-of-nothing"),
        pytest.param(frame(TEXT, b"a", fin=False), frame(TEXT, b"b"), False, True, id="new-message-mid-message"),
        pytest.param(b"", frame(PONG, b"p", fin=False), False, True, id="fragmented-control-frame"),
        pytest.param(b"", frame(PONG, b"p" * 126), False, True, id="control-frame-over-125-bytes"),
    ],
)
def test_frames_that_answer_or_fail_are_told_apart(
    before: bytes, next_frame: bytes, compression: bool, expected: bool
) -> None:
    cursor = FrameCursor()
    cut(cursor, before, 1_000)
    head = cursor.peek(next_frame)
    assert head is not None
    assert cursor.answers_or_fails(head, compression) is expected
