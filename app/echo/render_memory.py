"""Upper estimates of the memory that rendering an echo of request content holds at its peak, in bytes.

The content is counted once by ``read_body``; what these estimate comes on top of it: the text, JSON and log
renderings make a ``str`` of the content and JSON text of that ``str``, which escapes control characters,
quotes and backslashes (``\\u0001``: six bytes for one) and, in the log and the standard library's fallback,
every character past ASCII. docs/performance.md has the measured peaks these bound.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

#: Content up to this size is estimated at its worst case without a scan (at most 384 KiB held): scanning costs
#: about 12 instructions a byte, more than a whole JSON echo of 16 KiB costs otherwise.
UNSCANNED_BYTES = 64 * 1024
# Bytes JSON writes as a six- or two-character escape (RFC 8259 §7): control characters, '"' and '\\'.
_ESCAPED = bytes([*range(0x20), 0x22, 0x5C])
_ASCII = bytes(range(0x80))
_BELOW_FOUR_BYTE_LEADS = bytes(range(0xF0))  # 0xF0-0xF4 lead a character past U+FFFF (RFC 3629 §4)


class _Counts:
    """What the estimates need of the content: ``size``, ``escaped`` (bytes JSON escapes), ``past_ascii``
    (bytes past ASCII), and ``str_bytes``/``text_bytes``: its ``str`` and its JSON text, ASCII-only, at most."""

    __slots__ = ("size", "str_bytes", "text_bytes")

    def __init__(self, chunks: Sequence[bytes]) -> None:
        size = sum(len(chunk) for chunk in chunks)
        if size <= UNSCANNED_BYTES:  # the worst case, reserved without a scan: one byte may become six
            self.size, self.str_bytes, self.text_bytes = size, 4 * size, 6 * size
            return
        size = escaped = past_ascii = four_byte = 0
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        for chunk in chunks:
            size += len(chunk)
            escaped += len(chunk) - len(chunk.translate(None, _ESCAPED))
            if not chunk.isascii():
                past_ascii += len(chunk.translate(None, _ASCII))
                four_byte += len(chunk.translate(None, _BELOW_FOUR_BYTE_LEADS))
                if utf8:
                    try:
                        decoder.decode(chunk)  # a chunk's worth at a time, dropped at once
                    except UnicodeDecodeError:
                        utf8 = False
        self.size = size
        if not utf8 or (past_ascii and decoder.getstate()[0]):  # echoed as base64: ASCII, 4 per 3 bytes
            self.str_bytes = self.text_bytes = (size + 2) // 3 * 4
            return
        # PEP 393: one byte per character, two when one is past U+00FF, four when one is past U+FFFF.
        self.str_bytes = size * (4 if four_byte else 2 if past_ascii else 1)
        # Every escape six characters at most; a character past ASCII (2-4 bytes) at most 12 as \uXXXX\uXXXX.
        self.text_bytes = size + 5 * escaped + 2 * past_ascii


def json_render_bytes(chunks: Sequence[bytes], *, form: bool) -> int:
    """What ``app.echo.render.json_echo`` holds beyond the content: the joined copy, its ``str``, the JSON text
    twice (the output and the buffer it grows in), and for a ``form`` the decoded fields again."""
    counts = _Counts(chunks)
    if not counts.size:
        return 0
    estimate = (counts.size if len(chunks) > 1 else 0) + counts.str_bytes + 2 * counts.text_bytes
    if form:  # fields decoded (a bytearray, its str) and rendered a second time
        estimate += counts.size + counts.str_bytes + 2 * counts.text_bytes
    return estimate


def log_record_bytes(chunks: Sequence[bytes]) -> int:
    """What ``app.ops.echo_log.EchoLog.write`` holds beyond the content: the joined copy, its ``str``, and the
    record's ASCII-only JSON text twice (the escaped ``str`` and the line joined from it)."""
    counts = _Counts(chunks)
    if not counts.size:
        return 0
    return counts.size + counts.str_bytes + 2 * counts.text_bytes
