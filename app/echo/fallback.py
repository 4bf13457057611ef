"""The router's fallback: where every request outside the reserved prefix lands. Runs per request, so compiled."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose


class EchoByType:
    """The router's fallback: HTTP requests to the echo endpoint, WebSocket sessions to the WebSocket echo.

    A path under the reserved ``prefix`` reaches it only when the prefix's mount could not match it (a
    newline in the path): such paths are never echoed either (404; 403 for a WebSocket handshake).
    """

    def __init__(self, http: ASGIApp, websocket: ASGIApp, prefix: str) -> None:
        self.http = http
        self.websocket = websocket
        self.own_paths = prefix + "/"

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Hand the connection on; returning the handler's awaitable saves a coroutine frame per request.

        Raises:
            HTTPException: 404 for an HTTP request under the reserved prefix.
        """
        websocket = scope["type"] == "websocket"
        if scope["path"].startswith(self.own_paths):
            if websocket:
                return WebSocketClose()(scope, receive, send)
            raise HTTPException(404)
        return (self.websocket if websocket else self.http)(scope, receive, send)
