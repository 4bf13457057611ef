"""``echo_mode=stream``: the request content sent back as it arrives, by a loop of its own (Starlette's
``StreamingResponse(request.stream())`` races its disconnect listener for ``receive()`` and loses data)."""

from __future__ import annotations

from starlette.types import Receive, Send

from app.controls.active_content import is_active_content_type
from app.echo.responses import NO_CONTENT_STATUSES, RawFields
from app.errors import EchoError

OCTET_STREAM = b"application/octet-stream"


class StreamTooLarge(EchoError):
    """``Content-Length`` declares more than ``ECHO_MAX_STREAM_BYTES`` (413)."""

    status = 413

    def __init__(self, max_stream_bytes: int) -> None:
        super().__init__(
            f"Content Too Large: stream mode sends back at most {max_stream_bytes} bytes (ECHO_MAX_STREAM_BYTES)"
        )


def stream_content_type(request_content_type: bytes | None) -> bytes:
    """The request's Content-Type, but ``application/octet-stream`` for none or an active type."""
    if not request_content_type:
        return OCTET_STREAM
    return OCTET_STREAM if is_active_content_type(request_content_type.decode("latin-1")) else request_content_type


async def stream_echo(
    receive: Receive,
    send: Send,
    *,
    status: int,
    content_type: bytes,
    declared_length: int | None,
    max_stream_bytes: int,
    head_only: bool,
    fields: RawFields = (),
) -> int:
    """Send the request content back; return the bytes received. A declared length is sent back as ``Content-Length``
    (over ``max_stream_bytes``: ``StreamTooLarge`` before anything is sent); else the response is chunked and ends
    short at ``max_stream_bytes``. HEAD, 204 and 304 send no content."""
    if declared_length is not None and declared_length > max_stream_bytes:
        raise StreamTooLarge(max_stream_bytes)
    send_content = not head_only and status not in NO_CONTENT_STATUSES
    headers = [(b"content-type", content_type), *fields]
    if declared_length is not None and status not in NO_CONTENT_STATUSES:
        headers.insert(1, (b"content-length", str(declared_length).encode("ascii")))
    # Receive before the response starts: the first receive() is what makes the server send
    # `100 Continue` to a client that asked for it, and an interim response after the final one is void.
    started = False
    received = 0
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            return received  # the client is gone: nothing left to answer
        chunk: bytes = message.get("body", b"")
        more_body = message.get("more_body", False)
        received += len(chunk)
        over = received - max_stream_bytes
        if over > 0:
            chunk, more_body = chunk[: len(chunk) - over], False  # send up to the ceiling, then end
        if not started:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            started = True
        if chunk and send_content:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    return received
