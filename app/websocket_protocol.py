"""uvicorn's default WebSocket protocol, with the safety fields on the HTTP answers it refuses with.

A failed opening handshake (no ``Sec-WebSocket-Key``, a bad version: 400; a session the app closes
before accepting it: 403) is answered by uvicorn and the ``websockets`` library, not by the app, and
their answers hold text that may quote the request (``invalid Sec-WebSocket-Key header: ...``). Like
every response of this server they carry ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Response

from app.responses import SAFETY_FIELDS

SWITCHING_PROTOCOLS = 101


class SafeRefusalWebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` (what uvicorn's ``--ws auto`` picks with ``websockets`` installed)
    whose non-101 handshake answers get the safety fields (``app.responses.SAFETY_FIELDS``).

    The ``websockets`` connection (``self.conn``, a ``websockets.server.ServerProtocol``) sends every
    handshake answer through ``send_response``; that one method is wrapped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        send_response = self.conn.send_response

        def send_safe_response(response: Response) -> None:
            if response.status_code != SWITCHING_PROTOCOLS:
                for name, value in SAFETY_FIELDS:
                    response.headers[name] = value
            send_response(response)

        self.conn.send_response = send_safe_response  # type: ignore[method-assign]
