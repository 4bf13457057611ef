"""WebSocket echo (RFC 6455): every text and binary message sent back unchanged until the client closes.

The server (uvicorn) answers the client's Close frame with the same code (RFC 6455 §5.5.1); message
size is bounded by uvicorn's ``--ws-max-size``. A connection quiet for ``ECHO_WS_IDLE_TIMEOUT_S`` is
closed with 1001 (going away, §7.4.1).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from starlette.types import Receive, Scope, Send

GOING_AWAY = 1001


class SessionCounts(Protocol):
    """What the echo counts of its sessions (``app.ops.metrics.Metrics`` has these)."""

    websocket_connections: int
    websocket_messages: dict[str, int]


class WebSocketEcho:
    """A raw ASGI WebSocket endpoint: accept, then echo each message until disconnect or idle timeout."""

    def __init__(self, idle_timeout_s: float, metrics: SessionCounts | None) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        if self.metrics is not None:
            self.metrics.websocket_connections += 1
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.idle_timeout_s)
            except TimeoutError:
                await send({"type": "websocket.close", "code": GOING_AWAY, "reason": "idle timeout"})
                return
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
                kind = "text"
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
                kind = "binary"
            if self.metrics is not None:
                self.metrics.websocket_messages[kind] += 1
