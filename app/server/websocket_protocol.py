"""uvicorn's default WebSocket protocol, with every refused handshake answered, and with the safety fields.

A failed opening handshake (no ``Sec-WebSocket-Key``, a bad version: 400; a session the app closes
before accepting it: 403) is answered by uvicorn and the ``websockets`` library, not by the app, and
their answers hold text that may quote the request (``invalid Sec-WebSocket-Key header: ...``). Like
every response of this server they carry ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``.

Heads that ``websockets`` refuses before making a request of them (a line over 8192 bytes, more than 128
fields, content in the handshake) produced no event, so uvicorn 0.54 never wrote the answer and kept the
connection open with no timeout: here they are answered and the connection closed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Response

from app.echo.responses import SAFETY_FIELDS

SWITCHING_PROTOCOLS = 101


def add_safety_fields(response: Response) -> Response:
    """Set ``app.responses.SAFETY_FIELDS`` on a handshake answer other than 101; returns ``response``."""
    if response.status_code != SWITCHING_PROTOCOLS:
        for name, value in SAFETY_FIELDS:
            response.headers[name] = value
    return response


class SafeRefusalWebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` (what uvicorn's ``--ws auto`` picks with ``websockets`` installed)
    whose refused handshakes are always answered, with the safety fields.

    The ``websockets`` connection (``self.conn``, a ``websockets.server.ServerProtocol``) sends every
    handshake answer through ``send_response``; that one method is wrapped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        send_response = self.conn.send_response
        self.conn.send_response = lambda response: send_response(add_safety_fields(response))  # type: ignore[method-assign]

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        refusal = self.conn.handshake_exc
        if self.handshake_initiated or refusal is None or self.transport.is_closing():
            return
        # Refused before it became a request: the 414/431 that websockets prepared is still unsent, and
        # content in the handshake (RFC 6455 §4.1: a GET without content) gets no answer from it at all.
        output = b"".join(self.conn.data_to_send())
        if not output.startswith(b"HTTP/"):
            reason = f"{refusal}; {refusal.__cause__}" if refusal.__cause__ else str(refusal)
            answer = self.conn.reject(HTTPStatus.BAD_REQUEST, f"Failed to open a WebSocket connection: {reason}.\n")
            output = add_safety_fields(answer).serialize()
        self.handshake_complete = self.close_sent = True
        self.transport.write(output)
        self.transport.close()
