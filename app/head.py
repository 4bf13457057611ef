"""The few header fields the echo endpoint acts on, found in one pass over the header section."""

from __future__ import annotations

from dataclasses import dataclass

from app.controls import FIELD_PREFIX


# Not frozen: a frozen dataclass's __init__ costs twice as much, and this one is built per request.
@dataclass(slots=True)
class HeadFacts:
    """``content_length`` in bytes (None when absent, not a plain decimal (RFC 9112 §6.2), or overridden by
    ``Transfer-Encoding`` (§6.3)), whether the head ``framed`` content at all (a ``Content-Length`` or a
    ``Transfer-Encoding`` field), the first ``content_type``, every ``Accept`` value joined with ``,``
    (None when absent), and whether any ``X-Echo-*`` field is present."""

    content_length: int | None
    framed: bool
    content_type: bytes | None
    accept: str | None
    has_echo_fields: bool


def scan_head(headers: list[tuple[bytes, bytes]]) -> HeadFacts:
    """Read ``HeadFacts`` from ASGI header pairs (names lowercase)."""
    content_length: int | None = None
    framed = chunked = False
    content_type: bytes | None = None
    accept: list[bytes] = []
    has_echo_fields = False
    for name, value in headers:
        if name == b"content-length":
            content_length = int(value) if value.isdigit() else None
            framed = True
        elif name == b"transfer-encoding":
            framed = chunked = True
        elif name == b"content-type":
            if content_type is None:
                content_type = value
        elif name == b"accept":
            accept.append(value)
        elif name.startswith(FIELD_PREFIX):
            has_echo_fields = True
    if chunked:
        content_length = None  # Transfer-Encoding overrides Content-Length (RFC 9112 §6.3)
    return HeadFacts(
        content_length, framed, content_type, b", ".join(accept).decode("latin-1") if accept else None, has_echo_fields
    )
