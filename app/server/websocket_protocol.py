"""uvicorn's default WebSocket protocol, every refused handshake answered with the safety fields (uvicorn and
``websockets`` answer it, not the app, and may quote the request), a close, a ping or a bad frame right after a
message handled only once the app has answered that message, under permessage-deflate each data frame held until
the app has taken the message before it (a 16 KiB frame may inflate to 16 MiB), invalid UTF-8 in a text message
failed fast, a close frame between the fragments of a message answered as a close (RFC 6455 §5.4), and a TLS close at
shutdown cut when the client does not answer it."""

from __future__ import annotations

import codecs
from asyncio import TimerHandle
from http import HTTPStatus
from typing import Any

from uvicorn._types import ASGIReceiveEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.server import ServerProtocol

from app.server.event_loop import cut_tls_close_later
from app.server.frame_cursor import FrameCursor
from app.server.limits import limits_for
from app.server.refusal import SAFETY_FIELDS, peer_text
from app.server.write_stall import WriteStallClock, abandon

SWITCHING_PROTOCOLS = 101
INVALID_FRAME_PAYLOAD_DATA = 1007  # RFC 6455 §7.4.1: a text message that is not UTF-8


def accept_close_between_fragments(conn: ServerProtocol) -> None:
    """Let ``conn`` answer a close frame that comes between the fragments of a message as any close (RFC 6455 §5.4:
    control frames may be injected there; Autobahn 7.1.5); ``websockets`` fails it with 1002. The unfinished
    message is dropped."""
    receive_frame = conn.recv_frame

    def recv_frame(frame: Frame) -> None:
        if frame.opcode is Opcode.CLOSE:
            conn.current_size = None
        receive_frame(frame)

    conn.recv_frame = recv_frame  # type: ignore[method-assign]


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
        accept_close_between_fragments(self.conn)
        self._cursor = FrameCursor()
        # Bytes not yet passed on (from _unparsed_start): an incomplete frame head, or what came after a message.
        self._unparsed = b""
        self._unparsed_start = 0
        self._unanswered = False  # a message went to the app, which has not asked for the next one since
        self._held_for_app = False  # _unparsed starts with a frame that waits until the app has answered
        self._tls_cut: TimerHandle | None = None

    def shutdown(self) -> None:
        super().shutdown()  # sends close 1012 (or a 500 before the handshake ends), then closes
        if self.config.is_ssl and self._tls_cut is None and self.transport.is_closing():
            self._tls_cut = cut_tls_close_later(self.loop, self.transport)

    def data_received(self, data: bytes) -> None:
        self._receive_frames(data)
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
        self._unparsed, self._unparsed_start = b"", 0
        super().connection_lost(exc)

    def _receive_frames(self, data: bytes) -> None:
        """Hand ``data`` to ``websockets`` through the cursor; a frame that would answer or fail waits until the app
        has answered the messages before it. Before the handshake ends (a client waits for its answer before sending
        frames, RFC 6455 §4.1) and after a close is sent it goes straight on."""
        if self._unparsed:
            data = self._unparsed[self._unparsed_start :] + data
            self._unparsed, self._unparsed_start = b"", 0
        if not self.handshake_complete or self.close_sent:
            super().data_received(data)
        elif self._held_for_app:
            self._unparsed = data
            self._hold_reading()
        else:
            self._pass_frames(data, 0)

    def _pass_frames(self, data: bytes, start: int) -> None:
        """Pass ``data[start:]`` on in runs of whole frames, as uvicorn would; stop before a close, a ping or a
        frame ``websockets`` would fail while the app has a message to answer, and keep the rest. Under
        permessage-deflate every frame waits that way: uvicorn would inflate a whole read of 16 KiB frames into
        16 MiB messages each, queued for an app still busy with the last one. Invalid UTF-8 fails the connection
        as soon as a piece shows it."""
        view = memoryview(data)
        run_start = start
        deflate = bool(self.conn.extensions)
        while start < len(data) and not self.transport.is_closing():
            if self._cursor.at_frame_end:
                head = self._cursor.peek(view[start:])
                if head is None:
                    break  # a frame head cut short: wait for the rest
                if deflate or self._cursor.answers_or_fails(head, deflate):
                    self._pass_run(data, run_start, start)
                    run_start = start
                    if self._unanswered and not self.close_sent:
                        self._held_for_app = True
                        break
            try:
                start += self._cursor.piece(view[start:])
            except UnicodeDecodeError:
                self._fail_invalid_utf8()
                return
        self._pass_run(data, run_start, start)
        if start < len(data) and not self.transport.is_closing():
            self._unparsed, self._unparsed_start = data, start  # kept as it is: no copy per message
            if self._held_for_app:
                self._hold_reading()

    def _pass_run(self, data: bytes, start: int, end: int) -> None:
        if end > start and not self.transport.is_closing():
            queued = self.queue.qsize()
            super().data_received(data[start:end])
            if self.queue.qsize() > queued:
                self._unanswered = True

    def _hold_reading(self) -> None:
        # Held bytes are at most one read: read no more until the app has answered the messages before them.
        if not self.read_paused and not self.transport.is_closing():
            self.read_paused = True
            self.transport.pause_reading()

    async def receive(self) -> ASGIReceiveEvent:
        """uvicorn's ``receive``, replaced: the app asking with nothing queued means it has answered every message,
        so a frame held for that goes on; reading resumes once the queue is empty and nothing is held."""
        if self.queue.empty():
            self._unanswered = False
            if self._held_for_app:
                self._held_for_app = False
                held, start = self._unparsed, self._unparsed_start
                self._unparsed, self._unparsed_start = b"", 0
                self._pass_frames(held, start)
        self._resume_reading_when_idle()
        message = await self.queue.get()
        self._resume_reading_when_idle()
        return message

    def _resume_reading_when_idle(self) -> None:
        idle = self.queue.empty() and not self._held_for_app and not self._paused_for_output
        if self.read_paused and idle and not self.transport.is_closing():
            self.read_paused = False
            self.transport.resume_reading()

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
            self._fail_invalid_utf8()
            return True
        return False

    def _fail_invalid_utf8(self) -> None:
        """Close with 1007 and log one INFO line (uvicorn would log a traceback at ERROR per client)."""
        self.logger.info("WebSocket from %s closed with 1007: invalid UTF-8 in a text message", peer_text(self.client))
        self.conn.send_close(INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8")
        self.handle_parser_exception()

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
