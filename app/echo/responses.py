"""Sending responses over raw ASGI ``send``, in parts, so a large echo is never joined twice."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Message, Send

NO_CONTENT_STATUSES = frozenset({204, 304})
#: Responses up to this size are joined and sent in one message; larger ones part by part, never copied.
JOIN_MAX_BYTES = 64 * 1024

RawFields = Sequence[tuple[bytes, bytes]]


async def send_parts(
    send: Send,
    status: int,
    content_type: bytes,
    parts: Sequence[bytes],
    *,
    head_only: bool,
    fields: RawFields = (),
) -> None:
    """Send the concatenation of ``parts`` with ``Content-Length``, ``fields`` after the content fields. With
    ``head_only`` (HEAD, RFC 9110 §9.3.2) only the head goes, with that length; 204 and 304 carry neither content
    nor length (RFC 9110 §15.3.5, §15.4.5)."""
    if status in NO_CONTENT_STATUSES:
        await send({"type": "http.response.start", "status": status, "headers": list(fields)})
        await send({"type": "http.response.body", "body": b""})
        return
    length = sum(map(len, parts))
    start = response_start(status, content_type, length, fields)
    if head_only or not parts:
        await send(start)
        await send({"type": "http.response.body", "body": b""})
    elif len(parts) == 1 or length <= JOIN_MAX_BYTES:
        content = parts[0] if len(parts) == 1 else b"".join(parts)
        await send(start)
        await send({"type": "http.response.body", "body": content})
    else:
        await send(start)
        last = len(parts) - 1
        for index, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": index < last})


def response_start(status: int, content_type: bytes, length: int, fields: RawFields) -> Message:
    """The start message: the content fields (``length`` in bytes), then ``fields``."""
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % length), *fields]
    return {"type": "http.response.start", "status": status, "headers": headers}
