"""Client WebSocket bytes cut at frame ends (RFC 6455 §5.2) before ``websockets`` parses them, and the payload of
uncompressed text messages checked as UTF-8 while it arrives (§8.1: fail fast, even inside one frame).

Cutting at frame ends lets the protocol hold a frame that answers or fails (a close, a ping, a frame
``websockets`` refuses) until the app has answered the messages before it: a bad frame right after a good message
fails the connection only once that message is echoed. ``websockets`` still parses and judges every frame; this
cursor reads only the frame heads.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_MAX_CONTROL_PAYLOAD_BYTES = 125  # RFC 6455 §5.5
_FIN, _RSV1, _RSV2_RSV3, _OPCODE = 0x80, 0x40, 0x30, 0x0F
_MASKED, _LENGTH = 0x80, 0x7F
_LENGTH_16, _LENGTH_64 = 126, 127


class FrameHead(NamedTuple):
    """The fields of a frame head this cursor needs; ``head_bytes`` + ``payload_bytes`` is the frame's length."""

    fin: bool
    compressed: bool  # RSV1: permessage-deflate (RFC 7692 §6)
    reserved: bool  # RSV2 or RSV3: no extension here uses them, ``websockets`` fails the frame
    opcode: int
    mask: bytes | None
    head_bytes: int
    payload_bytes: int


def parse_head(data: bytes | bytearray | memoryview) -> FrameHead | None:
    """The head at the start of ``data`` (RFC 6455 §5.2), or None while ``data`` holds only part of it."""
    if len(data) < 2:
        return None
    first, second = data[0], data[1]
    length = second & _LENGTH
    head_bytes = 2
    if length == _LENGTH_16:
        head_bytes = 4
    elif length == _LENGTH_64:
        head_bytes = 10
    masked = bool(second & _MASKED)
    if masked:
        head_bytes += 4
    if len(data) < head_bytes:
        return None
    if length >= _LENGTH_16:
        length = int.from_bytes(data[2 : 4 if length == _LENGTH_16 else 10], "big")
    return FrameHead(
        fin=bool(first & _FIN),
        compressed=bool(first & _RSV1),
        reserved=bool(first & _RSV2_RSV3),
        opcode=first & _OPCODE,
        mask=bytes(data[head_bytes - 4 : head_bytes]) if masked else None,
        head_bytes=head_bytes,
        payload_bytes=length,
    )


class FrameCursor:
    """Follows one connection's client bytes frame by frame: ``piece`` says how much of the next bytes belongs to
    the current frame, checking uncompressed text payload on the way."""

    def __init__(self) -> None:
        self._head: FrameHead | None = None  # the current frame's, None at a frame end
        self._left_bytes = 0  # of the current frame, not yet cut
        self._payload_seen_bytes = 0  # of the current frame's payload: the mask's phase
        self._checking = False  # the current frame is uncompressed text payload
        self._in_message = False  # a data frame without FIN came, its continuation is awaited
        self._text_message = False  # the message in progress is uncompressed text
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._next_head: FrameHead | None = None  # read by ``peek``, not yet begun

    @property
    def at_frame_end(self) -> bool:
        """No frame is partly cut: the bytes cut so far end with a whole frame."""
        return self._head is None

    def piece(self, data: bytes | memoryview) -> int:
        """The length of the start of ``data`` that lies within one frame: up to the frame's end, or all of ``data``.
        0 means ``data`` starts a frame whose head is incomplete: keep it and call again with more.

        Raises ``UnicodeDecodeError`` when the piece shows that a text message is not UTF-8."""
        if not data:
            return 0
        if self._head is None:
            head = self._next_head or parse_head(data)
            self._next_head = None
            if head is None:
                return 0
            self._begin(head)
        head = self._head
        assert head is not None
        size_bytes = min(self._left_bytes, len(data))
        head_left_bytes = max(0, head.head_bytes - (head.head_bytes + head.payload_bytes - self._left_bytes))
        self._left_bytes -= size_bytes
        if self._checking and head.mask is not None:
            payload = data[min(head_left_bytes, size_bytes) : size_bytes]
            phase = self._payload_seen_bytes % 4
            self._payload_seen_bytes += len(payload)
            mask = head.mask[phase:] + head.mask[:phase]
            self._decoder.decode(apply_mask(payload, mask), final=head.fin and self._left_bytes == 0)
        if self._left_bytes == 0:
            self._head = None
        return size_bytes

    def peek(self, data: bytes | memoryview) -> FrameHead | None:
        """At a frame end: the head of the frame ``data`` starts (None while incomplete), read once for ``piece``."""
        assert self._head is None
        self._next_head = parse_head(data)
        return self._next_head

    def answers_or_fails(self, head: FrameHead, compression: bool) -> bool:
        """Whether the frame ``head`` starts (the next one) makes the server write or fail the connection: a close or
        a ping (answered at once), or a frame ``websockets`` refuses (RFC 6455 §5.2-§5.5, RFC 7692 §6: reserved
        bits or opcodes, no mask, fragments out of order, a control frame fragmented or over 125 bytes).
        ``compression``: permessage-deflate was negotiated."""
        opcode = head.opcode
        if opcode in (_CLOSE, _PING) or opcode not in (_CONTINUATION, _TEXT, _BINARY, _PONG):
            return True
        if head.reserved or head.mask is None:
            return True
        if opcode == _PONG:
            return not head.fin or head.payload_bytes > _MAX_CONTROL_PAYLOAD_BYTES or head.compressed
        if opcode == _CONTINUATION:
            return not self._in_message or head.compressed
        return self._in_message or (head.compressed and not compression)

    def _begin(self, head: FrameHead) -> None:
        self._head = head
        self._left_bytes = head.head_bytes + head.payload_bytes
        self._payload_seen_bytes = 0
        starts = head.opcode in (_TEXT, _BINARY) and not self._in_message
        continues = head.opcode == _CONTINUATION and self._in_message
        if starts:
            self._text_message = head.opcode == _TEXT and not head.compressed
            self._decoder.reset()
        if starts or continues:
            self._in_message = not head.fin
        # Frames websockets fails (stray continuation, reserved bits, no mask) are not checked: its 1002 stands.
        self._checking = (
            (starts or continues)
            and self._text_message
            and not (head.reserved or head.compressed)
            and head.mask is not None
        )
