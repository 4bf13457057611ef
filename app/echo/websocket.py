"""WebSocket echo (RFC 6455): every message sent back unchanged until the client closes; 1001 (§7.4.1) when idle,
1013 when the messages in memory would pass ``ECHO_MAX_INFLIGHT_BYTES``."""

from __future__ import annotations

import asyncio
import sys
from typing import Protocol

from starlette.types import Receive, Scope, Send

from app.echo.body import InflightBudget
from app.errors import ServerBusy

GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013  # IANA WebSocket close code registry


class SessionCounts(Protocol):
    """What the echo counts of its sessions (``app.ops.metrics.Metrics`` has these)."""

    websocket_connections: int
    websocket_messages: dict[str, int]


class WebSocketEcho:
    """A raw ASGI WebSocket endpoint: accept, then echo each message until disconnect or idle timeout."""

    def __init__(self, idle_timeout_s: float, metrics: SessionCounts | None, budget: InflightBudget) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.metrics = metrics
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        if self.metrics is not None:
            self.metrics.websocket_connections += 1
        # The last echo may still wait in the output buffer of a client that reads slowly or not at all: its
        # bytes stay counted until the next message arrives (reading stops while output waits) or the end.
        held_bytes = 0
        try:
            while True:
                try:
                    message = await asyncio.wait_for(receive(), self.idle_timeout_s)
                except TimeoutError:
                    await send({"type": "websocket.close", "code": GOING_AWAY, "reason": "idle timeout"})
                    return
                self.budget.release(held_bytes)
                held_bytes = 0
                if message["type"] == "websocket.disconnect":
                    return
                text: str | None = message.get("text")
                data: bytes = message.get("bytes") or b""
                size_bytes = len(data) if text is None else sys.getsizeof(text)  # what the message holds in memory
                try:
                    self.budget.reserve(size_bytes)
                except ServerBusy:
                    reason = "Try Again Later: messages in memory would pass ECHO_MAX_INFLIGHT_BYTES"
                    await send({"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": reason})
                    return
                held_bytes = size_bytes
                if text is not None:
                    await send({"type": "websocket.send", "text": text})
                else:
                    await send({"type": "websocket.send", "bytes": data})
                if self.metrics is not None:
                    self.metrics.websocket_messages["text" if text is not None else "binary"] += 1
                # Not referenced while the next one is inflated: its bytes stay counted for the output buffer only.
                del message, text, data
        finally:
            self.budget.release(held_bytes)
