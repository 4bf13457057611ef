"""Sending echo responses over raw ASGI ``send``, in parts, so a large echo is never joined twice."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Send

#: Fields on every response: echoes hold attacker-chosen bytes and often credentials, so browsers
#: must not sniff them into HTML and caches must not keep them (RFC 9111 §5.2.2.5).
SAFETY_FIELDS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
)
_SAFETY_RAW = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in SAFETY_FIELDS]
_VARY_ACCEPT = (b"vary", b"Accept")


async def send_echo(send: Send, content_type: bytes, parts: Sequence[bytes], *, head_only: bool) -> None:
    """Send a 200 echo whose content is the concatenation of ``parts``.

    ``Content-Length`` is the total length of ``parts`` in bytes. With ``head_only`` (a HEAD request,
    RFC 9110 §9.3.2) only the header section is sent, with the length the GET echo would have.
    """
    length = sum(map(len, parts))
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(length).encode("ascii")),
        _VARY_ACCEPT,
        *_SAFETY_RAW,
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if head_only or not parts:
        await send({"type": "http.response.body", "body": b""})
        return
    last = len(parts) - 1
    for index, part in enumerate(parts):
        await send({"type": "http.response.body", "body": part, "more_body": index < last})
