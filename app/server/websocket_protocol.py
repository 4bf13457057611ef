"""uvicorn's default WebSocket protocol, every refused handshake answered with the safety fields (uvicorn and
``websockets`` answer it, not the app, and may quote the request), invalid UTF-8 in a text message failed fast, and
a TLS close at shutdown cut when the client does not answer it."""

from __future__ import annotations

import codecs
from asyncio import TimerHandle
from http import HTTPStatus
from typing import Any

from uvicorn._types import ASGIReceiveEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame
from websockets.http11 import Response

from app.server.event_loop import cut_tls_close_later
from app.server.limits import limits_for
from app.server.refusal import SAFETY_FIELDS, peer_text
from app.server.write_stall import WriteStallClock, abandon

SWITCHING_PROTOCOLS = 101
INVALID_FRAME_PAYLOAD_DATA = 1007  # RFC 6455 §7.4.1: a text message that is not UTF-8
#: Input is handed to the frame parser this much at a time, so at most one slice's frames are inflated past a
#: message the app has not taken yet (deflate inflates at most about 1,032 times: ~4 MiB a slice).
PARSE_SLICE_BYTES = 4096


def add_safety_fields(response: Response) -> Response:
    """Set the server layer's safety fields on a handshake answer other than 101; returns ``response``."""
    if response.status_code != SWITCHING_PROTOCOLS:
        for name, value in SAFETY_FIELDS:
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
    return response


class SafeRefusalWebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` (uvicorn's ``--ws auto``) with ``self.conn.send_response``, through which every
    handshake answer goes, wrapped to add the safety fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        send_response = self.conn.send_response
        self.conn.send_response = lambda response: send_response(add_safety_fields(response))  # type: ignore[method-assign]
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._write_timeout_s = limits_for(self.config.loaded_app).write_timeout_s
        self._stall_clock = WriteStallClock(self.loop, self._write_timeout_s, self._write_stalled)
        self._paused_for_output = False
        self._tls_cut: TimerHandle | None = None
        self._unparsed = b""  # compressed input held back until the app asks for a message
        self._app_waiting = False  # the app is in receive(): a message inflated now is taken at once

    def shutdown(self) -> None:
        super().shutdown()  # sends close 1012 (or a 500 before the handshake ends), then closes
        if self.config.is_ssl and self._tls_cut is None and self.transport.is_closing():
            self._tls_cut = cut_tls_close_later(self.loop, self.transport)

    def data_received(self, data: bytes) -> None:
        if self._unparsed:  # reading is paused; a read already under way may still arrive
            self._unparsed += data
        else:
            self._parse(data)
        self._pause_for_output()

    def _parse(self, data: bytes) -> None:
        """Parse ``data``; under permessage-deflate a slice at a time, and only while the app waits for a message
        and none waits for it: the rest is held back and reading stops (uvicorn parses a whole read, so 16 KiB
        deflated frames became 16 MiB messages each, queued for an app still busy with the last one)."""
        if self.handshake_complete and not self.conn.extensions:
            super().data_received(data)  # nothing inflates: what is queued is bounded by the read
            return
        for offset in range(0, len(data), PARSE_SLICE_BYTES):
            if self._hold_back():
                self._unparsed = data[offset:]
                if not self.read_paused:
                    self.read_paused = True  # resumed in receive() once this is parsed
                    self.transport.pause_reading()
                return
            if self.transport.is_closing():
                return
            super().data_received(data[offset : offset + PARSE_SLICE_BYTES])

    def _hold_back(self) -> bool:
        if self.close_sent:
            return False  # closing: uvicorn discards messages, nothing is queued
        return not self.queue.empty() or (self.handshake_complete and not self._app_waiting)

    async def receive(self) -> ASGIReceiveEvent:
        self._app_waiting = True
        try:
            if self._unparsed and self.queue.empty():
                unparsed, self._unparsed = self._unparsed, b""
                self._parse(unparsed)
                if self.queue.empty() and not self._unparsed and self.read_paused and not self._paused_for_output:
                    self.read_paused = False  # all parsed, no message yet: read on, or get() waits forever
                    self.transport.resume_reading()
            message = await super().receive()  # resumes reading when the queue is empty
        finally:
            self._app_waiting = False
        if self._paused_for_output and not self.transport.is_closing():
            self.transport.pause_reading()  # output still waits: uvicorn's resume must not undo that pause
        else:
            self._pause_for_output()
        return message

    def _pause_for_output(self) -> None:
        if not self.writable.is_set() and not self.transport.is_closing() and not self._paused_for_output:
            # Output waits for a client that does not read: read no more until it drains, so pongs and
            # echoed messages cannot pile up (at most what one read brought is answered meanwhile).
            self._paused_for_output = True
            self.transport.pause_reading()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._stall_clock.start()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stall_clock.stop()
        if self._paused_for_output:
            self._paused_for_output = False
            if not self.read_paused and not self.transport.is_closing():
                self.transport.resume_reading()

    def _write_stalled(self) -> None:
        if not self.writable.is_set() and not self.transport.is_closing():
            abandon(self.transport, self.logger, self.client, self._write_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stall_clock.stop()
        if self._tls_cut is not None:
            self._tls_cut.cancel()
        self._unparsed = b""
        super().connection_lost(exc)

    def handle_text(self, event: Frame) -> None:
        self._text.reset()
        if not self._invalid_utf8(event):
            super().handle_text(event)

    def handle_cont(self, event: Frame) -> None:
        if self.curr_msg_data_type != "text" or not self._invalid_utf8(event):
            super().handle_cont(event)

    def _invalid_utf8(self, event: Frame) -> bool:
        """Check a text frame as it arrives and close with 1007 at the first invalid UTF-8 (RFC 6455 §8.1: fail
        fast); uvicorn would check only the whole message and log a traceback at ERROR per client."""
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
        """Answer a head ``websockets`` refused before it became a request, and close. Its 414 and 431 are ready;
        content in the handshake (RFC 6455 §4.1) gets a 400 naming the cause, where uvicorn's has no cause or fields."""
        output = b"".join(self.conn.data_to_send())
        if not output:
            refusal = self.conn.handshake_exc
            reason = f"{refusal}; {refusal.__cause__}" if refusal is not None and refusal.__cause__ else str(refusal)
            answer = self.conn.reject(HTTPStatus.BAD_REQUEST, f"Failed to open a WebSocket connection: {reason}.\n")
            output = add_safety_fields(answer).serialize()
        self.handshake_complete = self.close_sent = True
        self.transport.write(output)
        self.transport.close()
