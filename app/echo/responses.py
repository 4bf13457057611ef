"""Responses as raw ASGI messages, in parts, so a large echo is never joined twice."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Message

NO_CONTENT_STATUSES = frozenset({204, 304})
#: Responses up to this size are joined and sent in one message; larger ones part by part, never copied.
JOIN_MAX_BYTES = 64 * 1024

#: A part larger than this goes in slices of it: the server waits for the client to drain before each message,
#: so a large echo is never buffered whole a second time for a client that reads slowly.
SEND_SLICE_BYTES = 1024 * 1024

RawFields = Sequence[tuple[bytes, bytes]]


def response_messages(
    status: int,
    content_type: bytes,
    parts: Sequence[bytes],
    *,
    head_only: bool,
    fields: RawFields = (),
) -> list[Message]:
    """The messages that send the concatenation of ``parts`` with ``Content-Length``, ``fields`` after the content
    fields. With ``head_only`` (HEAD, RFC 9110 §9.3.2) only the head goes, with that length; 204 and 304 carry
    neither content nor length (RFC 9110 §15.3.5, §15.4.5)."""
    if status in NO_CONTENT_STATUSES:
        return [
            {"type": "http.response.start", "status": status, "headers": list(fields)},
            {"type": "http.response.body", "body": b""},
        ]
    if len(parts) == 1 and len(parts[0]) <= SEND_SLICE_BYTES:
        content = parts[0]
        start = response_start(status, content_type, len(content), fields)
        return [
            start,
            {"type": "http.response.body", "body": b""}
            if head_only
            else {"type": "http.response.body", "body": content},
        ]
    length = sum(map(len, parts))
    start = response_start(status, content_type, length, fields)
    if head_only or not parts:
        return [start, {"type": "http.response.body", "body": b""}]
    if length <= JOIN_MAX_BYTES:
        return [start, {"type": "http.response.body", "body": b"".join(parts)}]
    pieces = sliced(parts)
    last = len(pieces) - 1
    return [
        start,
        *({"type": "http.response.body", "body": part, "more_body": index < last} for index, part in enumerate(pieces)),
    ]


def sliced(parts: Sequence[bytes]) -> Sequence[bytes]:
    """``parts`` with each one larger than ``SEND_SLICE_BYTES`` cut into slices of at most that many bytes."""
    if all(len(part) <= SEND_SLICE_BYTES for part in parts):
        return parts
    pieces: list[bytes] = []
    for part in parts:
        if len(part) <= SEND_SLICE_BYTES:
            pieces.append(part)
        else:
            pieces += [part[offset : offset + SEND_SLICE_BYTES] for offset in range(0, len(part), SEND_SLICE_BYTES)]
    return pieces


def response_start(status: int, content_type: bytes, length: int, fields: RawFields) -> Message:
    """The start message: the content fields (``length`` in bytes), then ``fields``."""
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % length), *fields]
    return {"type": "http.response.start", "status": status, "headers": headers}


#: The last message of a chunked response whose content went out in earlier messages.
LAST_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


def chunked_messages(
    status: int, content_type: bytes, parts: Sequence[bytes], *, head_only: bool, fields: RawFields = ()
) -> list[Message]:
    """The start message without ``Content-Length`` (so the server chunks the content, RFC 9112 §7.1) and one
    message per non-empty part, each with more to come: the caller sends ``LAST_BODY``."""
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type), *fields],
    }
    if head_only:
        return [start]
    return [start, *({"type": "http.response.body", "body": part, "more_body": True} for part in parts if part)]
