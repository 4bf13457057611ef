"""The router's fallback: where every request outside the reserved prefix lands."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose


class EchoByType:
    """HTTP requests to the echo endpoint, WebSocket sessions to the WebSocket echo. A path under ``prefix`` reaches
    it only when the mount could not match it (a newline in the path), and is not echoed either."""

    def __init__(self, http: ASGIApp, websocket: ASGIApp, prefix: str) -> None:
        self.http = http
        self.websocket = websocket
        self.own_paths = prefix + "/"

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Hand the connection on; under the prefix a WebSocket gets 403, and HTTP raises ``HTTPException`` (404)."""
        websocket = scope["type"] == "websocket"
        if scope["path"].startswith(self.own_paths):
            if websocket:
                return WebSocketClose()(scope, receive, send)
            raise HTTPException(404)
        return (self.websocket if websocket else self.http)(scope, receive, send)
