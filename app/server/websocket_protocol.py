"""uvicorn's default WebSocket protocol, with every refused handshake answered, and with the safety fields.

A failed opening handshake (no ``Sec-WebSocket-Key``, a bad version: 400; a session the app closes
before accepting it: 403) is answered by uvicorn and the ``websockets`` library, not by the app, and
their answers hold text that may quote the request (``invalid Sec-WebSocket-Key header: ...``). Like
every response of this server they carry ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``.

Heads that ``websockets`` refuses before making a request of them (a line over 8192 bytes, more than 128
fields, content in the handshake) reach ``handle_handshake_exception``, where the answer names the cause.
"""

from __future__ import annotations

import asyncio
import codecs
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame
from websockets.http11 import Response

from app.server.limits import limits_for
from app.server.refusal import SAFETY_FIELDS, peer_text

SWITCHING_PROTOCOLS = 101
INVALID_FRAME_PAYLOAD_DATA = 1007  # RFC 6455 §7.4.1: a text message that is not UTF-8


def add_safety_fields(response: Response) -> Response:
    """Set the server layer's safety fields on a handshake answer other than 101; returns ``response``."""
    if response.status_code != SWITCHING_PROTOCOLS:
        for name, value in SAFETY_FIELDS:
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
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
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._write_timeout_s = limits_for(self.config.loaded_app).write_timeout_s
        self._paused_for_output = False
        self._stall_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.writable.is_set() and not self.transport.is_closing() and not self._paused_for_output:
            # Output waits for a client that does not read: read no more until it drains, so pongs and
            # echoed messages cannot pile up (at most what one read brought is answered meanwhile).
            self._paused_for_output = True
            self.transport.pause_reading()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_timer = self.loop.call_later(self._write_timeout_s, self._write_stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        if self._paused_for_output:
            self._paused_for_output = False
            if not self.read_paused and not self.transport.is_closing():
                self.transport.resume_reading()

    def _write_stalled(self) -> None:
        self._stall_timer = None
        if self.writable.is_set() or self.transport.is_closing():
            return
        self.logger.info(
            "Closed the WebSocket of %s: no write progress for %g s (ECHO_WRITE_TIMEOUT_S)",
            peer_text(self.client),
            self._write_timeout_s,
        )
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        super().connection_lost(exc)

    def handle_text(self, event: Frame) -> None:
        self._text.reset()
        if not self._invalid_utf8(event):
            super().handle_text(event)

    def handle_cont(self, event: Frame) -> None:
        if self.curr_msg_data_type != "text" or not self._invalid_utf8(event):
            super().handle_cont(event)

    def _invalid_utf8(self, event: Frame) -> bool:
        """Check a text frame as it arrives (RFC 6455 §8.1: fail fast); on invalid UTF-8 close with 1007.

        uvicorn checks only the whole message and logs a traceback at ERROR for each such client; here
        one line at INFO, and the connection is failed at the first bad frame.
        """
        if self.close_sent:
            return False  # closing already: uvicorn discards what still arrives
        try:
            self._text.decode(event.data, final=event.fin)
        except UnicodeDecodeError:
            self.logger.info(
                "WebSocket from %s closed with 1007: invalid UTF-8 in a text message", peer_text(self.client)
            )
            self.conn.send_close(INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8")
            self.handle_parser_exception()
            return True
        return False

    def handle_handshake_exception(self) -> None:
        """Answer a head ``websockets`` refused before it became a request, and close.

        uvicorn's own answer to content in the handshake (RFC 6455 §4.1: a GET without content) is a 400
        that names no cause and carries no safety fields; the 414 and 431 that ``websockets`` prepares
        went through ``send_response`` and have them already.
        """
        output = b"".join(self.conn.data_to_send())
        if not output:
            refusal = self.conn.handshake_exc
            reason = f"{refusal}; {refusal.__cause__}" if refusal is not None and refusal.__cause__ else str(refusal)
            answer = self.conn.reject(HTTPStatus.BAD_REQUEST, f"Failed to open a WebSocket connection: {reason}.\n")
            output = add_safety_fields(answer).serialize()
        self.handshake_complete = self.close_sent = True
        self.transport.write(output)
        self.transport.close()
