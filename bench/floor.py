"""The stack's floor: raw ASGI echoes with nothing around them, run under uvicorn like asgi-echo.

``app`` writes the same text echo as asgi-echo (``app.echo.text_echo``: METHOD / TARGET / NAMES /
HEADERS / BODY) and, for ``Accept: application/json``, a small JSON echo of the same facts. Deliberately
plain: what a competent hand-written ASGI echo costs, so the ratio to it measures what our app adds.
"""

from __future__ import annotations

import hashlib
import json

from starlette.types import Receive, Scope, Send

from app.server.protocol import EchoHttpToolsProtocol


class NoWireCaptureProtocol(EchoHttpToolsProtocol):
    """The shipped protocol without the wire capture: the floor under it shows what the capture costs."""

    keep_wire = False


TEXT_TYPE = (b"content-type", b"text/plain; charset=utf-8")
JSON_TYPE = (b"content-type", b"application/json")
_canonical: dict[bytes, bytes] = {}
NAMES_TITLE_CASED = b"NAMES: Title-Case (the original case was not kept)\n"


def canonical_name(name: bytes) -> bytes:
    """Title-Case a lowercase field name at each ``-`` (``x-request-id`` -> ``X-Request-Id``), cached."""
    title = _canonical.get(name)
    if title is None:
        title = _canonical[name] = b"-".join(word[:1].upper() + word[1:] for word in name.split(b"-"))
    return title


async def read_all(receive: Receive) -> bytes:
    """The whole request content (the floor has no ceiling: the benchmark sends bounded bodies)."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo the request as text (or JSON when ``Accept`` names ``application/json``)."""
    if scope["type"] != "http":
        return  # lifespan: nothing to set up
    body = await read_all(receive)
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    query_string: bytes = scope["query_string"]
    target = scope["raw_path"] + b"?" + query_string if query_string else scope["raw_path"]
    if any(name == b"accept" and b"application/json" in value for name, value in headers):
        await send_json(send, scope, target, headers, body)
        return
    # Field names as sent when the protocol kept the raw head (the shipped one does), as asgi-echo does.
    sent: list[bytes] = getattr(scope.get("extensions", {}).get("asgi_echo.wire"), "names", [])
    if len(sent) == len(headers):
        names, names_line = sent, b"NAMES: as sent\n"
    else:
        names, names_line = [canonical_name(name) for name, _ in headers], NAMES_TITLE_CASED
    lines = [b"METHOD: ", scope["method"].encode("latin-1"), b"\nTARGET: ", target, b"\n", names_line, b"HEADERS:\n"]
    for name, (_, value) in zip(names, headers, strict=True):
        lines += (name, b": ", value, b"\n")
    lines += (b"\nBODY:\n", body)
    await send_whole(send, TEXT_TYPE, b"".join(lines))


async def send_json(send: Send, scope: Scope, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """A one-line JSON echo: method, target, path, query, headers and the body with its SHA-256."""
    try:
        value, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        value, encoding = body.hex(), "hex"
    document = {
        "method": scope["method"],
        "target": target.decode("latin-1"),
        "path": scope["path"],
        "query_string": scope["query_string"].decode("latin-1"),
        "headers": [[name.decode("latin-1"), field.decode("latin-1")] for name, field in headers],
        "body": {"encoding": encoding, "value": value, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()},
    }
    await send_whole(send, JSON_TYPE, json.dumps(document).encode("utf-8"))


async def send_whole(send: Send, content_type: tuple[bytes, bytes], content: bytes) -> None:
    """200 with ``Content-Length``, as asgi-echo frames its echoes (without it uvicorn would chunk the content,
    which costs a copy of it: the floor would be slower than a competent echo)."""
    headers = [content_type, (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": content})
