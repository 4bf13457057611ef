"""The streaming floor: a raw ASGI echo that sends each received chunk straight back.

The same contract as asgi-echo's ``echo_mode=stream`` (a declared length is echoed as
``Content-Length``, else the response is chunked), with nothing else around it.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Send the request content back as it arrives; memory is bounded by uvicorn's flow control."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/octet-stream")]
    headers += [(b"content-length", value) for name, value in scope["headers"] if name == b"content-length"]
    started = False
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more_body = message.get("more_body", False)
        if not started:
            # Receive first, as asgi-echo does, so `100 Continue` precedes the final response.
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            started = True
        chunk: bytes = message.get("body", b"")
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
