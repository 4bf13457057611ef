"""The answers the server layer writes itself, below the app: refusals of what cannot become a request."""

from __future__ import annotations

import re

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

#: On every answer of this layer too: a refusal may quote the request, and no cache may keep it (RFC 9111 §5.2.2.5).
SAFETY_FIELDS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)
CONNECT_NOT_ECHOED = "Not Implemented: CONNECT cannot be echoed, a 2xx answer would open a tunnel (RFC 9110 §9.3.6)"
_METHOD_AND_SPACE = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+ ")


def refusal_answer(status: int, message: str, default_fields: list[tuple[bytes, bytes]]) -> bytes:
    """A whole plain-text answer: ``status``, ``message`` as content, the safety fields, ``Connection: close``."""
    content = f"{status} {message}\n".encode()
    fields = [
        *default_fields,
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(content)).encode("ascii")),
        *SAFETY_FIELDS,
        (b"connection", b"close"),
    ]
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in fields)
    return STATUS_LINE[status] + lines + b"\r\n" + content


def classify_parser_error(exc: httptools.HttpParserError, request_start: bytes) -> tuple[int, str]:
    """The status RFC 9110/9112 give a parser error, with the parser's own words; ``request_start`` is the
    received chunk when it starts the refused request, else empty."""
    reason = str(exc) or type(exc).__name__
    if reason == "Invalid HTTP version":
        return 505, "HTTP Version Not Supported: this server speaks HTTP/1.0 and 1.1"
    if "Transfer-Encoding" in reason and "invalid" in reason:
        return 501, "Not Implemented: the only transfer coding understood is chunked (RFC 9112 §6.1)"
    if isinstance(exc, httptools.HttpParserInvalidMethodError) and _METHOD_AND_SPACE.match(request_start):
        method = request_start.split(b" ", 1)[0].decode("ascii")[:64]
        return 501, (
            f"Not Implemented: the method {method} is unknown to the default parser; run uvicorn with "
            "--http h11 to echo any method token"
        )
    return 400, f"Bad Request: {reason}"


def peer_text(client: tuple[str, int] | None) -> str:
    """``host:port`` of a peer for a log line, ``-`` when unknown."""
    return f"{client[0]}:{client[1]}" if client else "-"
