"""uvicorn's httptools protocol with the limits an echo server pointed at by everything needs.

Each override calls uvicorn's method (the per-request parser callbacks name ``HttpToolsProtocol``
directly) but ``data_received``, which replaces uvicorn's, ``eof_received``, whose uvicorn body is
empty, and ``shutdown`` during a TLS handshake (the uvicorn names used: ``app.server.uvicorn_surface``).
A connection's time and its place in ``--limit-concurrency`` count from the accept, a TLS handshake included
(its own timeout is the loop's: ``app.server.event_loop``). Refusals are plain, with
the safety fields, and close the connection, so bytes after a refused request are never answered as a new one:

- 431/414: a head or target over its limit, counted as bytes arrive (RFC 9110 §15.5.15, §15.5.20, RFC 6585 §5);
- 408: a slow head (the first counted from the accept) or a stalled body (RFC 9110 §15.5.9);
- 505: a version other than 1.0 and 1.1 (RFC 9110 §15.6.6);
- 501: CONNECT, a transfer coding other than chunked (RFC 9112 §6.1), an unknown method (RFC 9110 §9.1);
- 400: a 1.1 request without exactly one Host, a target in no form of RFC 9112 §3.2.

Each response head goes out with its first content (``app.server.coalesce``); each request head and trailer section
is kept as received for the app (``app.server.wire``), and the app may ask for what ASGI cannot express: a reset, a
close, response trailers (``app.server.actions``).
"""

from __future__ import annotations

import asyncio
import re
from asyncio import TimerHandle
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

import httptools
from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from app.server.actions import ACTIONS_EXTENSION, ServerActions
from app.server.coalesce import CoalescingWriter
from app.server.event_loop import cut_tls_close_later
from app.server.limits import limits_for
from app.server.refusal import CONNECT_NOT_ECHOED, classify_parser_error, peer_text, refusal_answer
from app.server.websocket_protocol import SafeRefusalWebSocketProtocol
from app.server.wire import WIRE_EXTENSION, HeadSplitter, WireFacts, tls_facts
from app.server.write_stall import WriteStallClock, abandon

#: Parsed requests waiting for their turn on one connection before reading stops (one read may add more).
MAX_QUEUED_REQUESTS = 16
LINGER_S = 2.0  # how long input is discarded after a refusal before the connection closes
_AUTHORITY_END = re.compile(rb"[/?#]")  # what ends the authority of an absolute URI (RFC 3986 §3.2)


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the status and message wait on the protocol."""


class EchoHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` plus head limits, head and body timeouts, and plain refusals (see module)."""

    #: Keep each raw head and the wire facts; off only in the benchmark (the trailer bound goes with it).
    keep_wire: ClassVar[bool] = True

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if self.ws_protocol_class is WebSocketsSansIOProtocol:  # uvicorn's default: refusals get our safety fields
            self.ws_protocol_class = SafeRefusalWebSocketProtocol
        self.limits = limits_for(config.loaded_app)
        self._head_done = False
        self._raw_head_bytes = 0  # every byte received while the head is incomplete
        self._head_bytes = 0  # the head as the parser reported it: target and field lines
        self._refusal: tuple[int, str] | None = None
        self._deferred_refusal: tuple[int, str] | None = None
        self._between_messages = True  # no byte of the next request parsed yet
        self._completed_in_chunk = 0
        self._eof = False  # the client half-closed its sending side
        self._lingering: TimerHandle | None = None  # set while discarding input after a refusal
        self._heads = HeadSplitter()
        self._requests_seen = 0
        self._now = 0.0  # loop time of the chunk being parsed
        self._read: bytes | None = None  # while capturing: the chunk being parsed, b"" once a head completed in it
        self._first: WireFacts | None = None  # the chunk's first request, while the chunk may be just that one
        self._first_length = 0
        self._wire: WireFacts | None = None
        self._awaiting_head: deque[WireFacts] = deque()  # parsed requests whose raw head is not cut out yet
        self._awaiting_trailers: deque[WireFacts] = deque()  # chunked requests whose trailer section is not cut out
        self._names: list[bytes] = []  # as sent
        self._content_length = 0
        self._chunked = False
        self._tls: dict[str, Any] | None = None
        self._writer: CoalescingWriter | None = None
        self._actions: ServerActions | None = None
        self._head_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None
        self._body_progress_at = 0.0
        self._hosts = 0
        self._other_coding = False
        # uvloop and asyncio build the protocol at the accept, before any TLS handshake: the first head's time
        # counts from here, and so does a TLS connection in --limit-concurrency (uvicorn counts from
        # connection_made, which TLS delays until its handshake ends).
        self._accepted_at = self.loop.time()
        self._connected = False
        self._shutting_down = False
        self._handshake_timer: TimerHandle | None = None
        self._tls_cut: TimerHandle | None = None
        if config.is_ssl:
            self.connections.add(self)
            self._handshake_timer = self.loop.call_later(self.limits.header_timeout_s, self._handshake_over_time)

    def _handshake_over_time(self) -> None:
        """The head timeout of a connection whose TLS handshake has not ended: it failed (uvloop does not tell the
        protocol) or still runs (its own timeout is the loop's, ``app.server.event_loop``). Either way it is
        no longer counted; one that completes after this gets its 408 at once."""
        self._handshake_timer = None
        self.connections.discard(self)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._connected = True
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        super().connection_made(transport)
        self._stall_clock = WriteStallClock(self.loop, self.limits.write_timeout_s, self._write_stalled)
        self.flow = BoundedReading(transport, lambda: len(self.pipeline), self._stall_clock)
        self._tls = tls_facts(transport)
        self._writer = CoalescingWriter(transport, self.loop)
        self._actions = ServerActions(transport, self._writer)
        self._arm_head_timer(self._accepted_at)
        if self._shutting_down:  # the server began shutting down during the handshake
            self.shutdown()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown (an idle connection closes, a busy one closes after its response), plus:
        a TLS handshake still pending stops counting (the connection closes if the handshake ends), and a TLS
        close the client does not answer is cut soon (``cut_tls_close_later``), not after the server's whole grace."""
        self._shutting_down = True
        if not self._connected:
            if self._handshake_timer is not None:
                self._handshake_timer.cancel()
                self._handshake_timer = None
            self.connections.discard(self)
            return
        super().shutdown()
        self._cut_tls_close_later()

    def _cut_tls_close_later(self) -> None:
        if self.config.is_ssl and self._tls_cut is None and self.transport.is_closing():
            self._tls_cut = cut_tls_close_later(self.loop, self.transport)

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio.Protocol allows bool
        """The client sent FIN: keep the transport (a true return) while a complete request is being answered, as
        a client may half-close after its request and still read the response (RFC 9112 §9.6)."""
        self._eof = True
        self._flush()  # asyncio may close the transport on return: what the app wrote goes out first
        if self._lingering is not None:
            return None  # refused and answered: the client is done too, close now
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            return True
        return None

    def data_received(self, data: bytes) -> None:
        if self._deferred_refusal is not None or self._lingering is not None:
            return  # refused: nothing after the bad bytes is parsed
        if not self._head_done:
            self._raw_head_bytes += len(data)
        starts_message = self._between_messages
        self._completed_in_chunk = 0
        self._now = self.loop.time()
        self._unset_keepalive_if_required()
        if self.keep_wire:
            self._read = data
        try:
            self._parse(data)
        except httptools.HttpParserUpgrade:  # a WebSocket handshake this server takes
            if self._read is not None:
                self._split(data)
            self.handle_websocket_upgrade()
            return
        except httptools.HttpParserError as exc:
            if self._read is not None:
                self._split(data)  # requests completed before the refused one in this read need their heads
            # Only a chunk that starts the refused request is known to begin with its method.
            first_in_chunk = starts_message and self._completed_in_chunk == 0
            self.refuse(*(self._refusal or classify_parser_error(exc, data if first_in_chunk else b"")))
            return
        if self._read is not None:
            first = self._first
            if first is not None and self._completed_in_chunk == 1 and self._between_messages:
                # The chunk was that one whole request: the splitter, idle before it, stays idle.
                self._first = None
                if self._first_length:
                    first.raw_head = first.raw_head  # cut now: the facts need not keep the content alive
            else:
                self._split(data)
        if not self._head_done:
            if self._raw_head_bytes > self.limits.max_header_bytes:
                self.refuse(431, self._head_too_large())
            elif self._head_timer is None and not self._between_messages:
                self._arm_head_timer()  # here only for a head that spans reads
        elif self._heads.trailer_bytes > self.limits.max_header_bytes:
            # Trailer fields are buffered by the parser like the head: the same bound applies.
            self.refuse(431, self._head_too_large())
        elif self._head_done and self._body_timer is None and self._awaiting_body():
            self._body_progress_at = self.loop.time()
            self._body_timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timeout)

    def _parse(self, data: bytes) -> None:
        """Feed ``data`` to the parser; raises ``HttpParserUpgrade`` only for a WebSocket handshake taken. Any other
        ``Upgrade`` (``h2c`` included) is ignored (RFC 9110 §7.8): llhttp stops after the head of such a request, so it
        continues on a new parser that reads its content by its framing (RFC 9112 §6.3)."""
        while True:
            try:
                self.parser.feed_data(data)
                return
            except httptools.HttpParserUpgrade as upgrade:
                if self._should_upgrade():
                    raise
                data = data[upgrade.args[0] :]
                self.parser = self._parser_after_ignored_upgrade()

    def _parser_after_ignored_upgrade(self) -> httptools.HttpRequestParser:
        if not self._content_length and not self._chunked:
            return httptools.HttpRequestParser(self)
        callbacks = _AfterIgnoredUpgrade(self)
        framing = b"Transfer-Encoding: chunked" if self._chunked else b"Content-Length: %d" % self._content_length
        parser = httptools.HttpRequestParser(callbacks)
        parser.feed_data(b"POST / HTTP/1.1\r\n" + framing + b"\r\n\r\n")
        callbacks.primed = True
        return parser

    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self._between_messages = False
        self._head_done = False
        self._head_bytes = 0
        self._raw_head_bytes = 0
        self._hosts = 0
        self._other_coding = False
        self._names = []
        self._content_length = 0
        self._chunked = False

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > self.limits.max_target_bytes:
            self._stop(414, f"URI Too Long: the request target exceeds {self.limits.max_target_bytes} bytes "
                            "(ECHO_MAX_TARGET_BYTES)")  # fmt: skip
        HttpToolsProtocol.on_url(self, url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head_done:  # a chunked body's trailer field: kept apart from the header section
            wire = self._wire
            if wire is not None:
                wire.add_trailer(name, value.strip(b" \t"))
            return
        self._head_bytes += len(name) + len(value) + 4  # name, ": ", value, CRLF
        if self._head_bytes > self.limits.max_header_bytes:
            self._stop(431, self._head_too_large())
        self._names.append(name)
        # Lowercases the name, drops trailing whitespace from the value (RFC 9110 §5.5), notes Expect.
        HttpToolsProtocol.on_header(self, name, value)
        name, value = self.headers[-1]
        if name == b"host":
            self._hosts += 1
        elif name == b"content-length":
            self._content_length = int(value) if value.isdigit() else 0  # the parser refuses other values
        elif name == b"transfer-encoding":
            self._chunked = True
            self._other_coding |= any(coding.strip().lower() != b"chunked" for coding in value.split(b","))

    def on_headers_complete(self) -> None:
        self._head_done = True
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        version = self.parser.get_http_version()
        if version not in ("1.0", "1.1"):
            self._stop(505, f"HTTP Version Not Supported: HTTP/{version} (this server speaks HTTP/1.0 and 1.1)")
        if self._other_coding:
            self._stop(501, "Not Implemented: the only transfer coding understood is chunked (RFC 9112 §6.1)")
        if version == "1.1" and self._hosts != 1:
            self._stop(400, f"Bad Request: an HTTP/1.1 request needs exactly one Host field, not {self._hosts}")
        method = self.parser.get_method()
        if method == b"CONNECT":
            # Whatever its target: llhttp stops parsing after a CONNECT head, so reading on would fall out of step.
            self._stop(501, CONNECT_NOT_ECHOED)
        if self.url[:1] != b"/":
            self._accept_other_target_form(method)
        read = self._read
        if read is not None:  # capturing
            self._requests_seen += 1
            previous = self.cycle
            # The first head completed in a chunk that starts a request starts the chunk.
            whole = bool(read) and not self._chunked and self._heads.idle
            self._read = b""
            # Positional: built per request.
            self._wire = wire = WireFacts(
                read if whole else b"", self._names, self._requests_seen,
                previous is not None and not previous.response_complete, self._now, self._tls, self.client,
            )  # fmt: skip
            if whole:
                self._first, self._first_length = wire, self._content_length
            else:  # cut out of the stream once the parser is through this chunk
                self._awaiting_head.append(wire)
                self._heads.framings.append((0 if self._chunked else self._content_length, self._chunked))
                if self._chunked:
                    self._awaiting_trailers.append(wire)
            # uvicorn types extension values as dicts; ours are the WireFacts the body callbacks update and actions.
            self.scope["extensions"] = {WIRE_EXTENSION: wire, ACTIONS_EXTENSION: self._actions}  # type: ignore[dict-item]
        else:
            self.scope["extensions"] = {ACTIONS_EXTENSION: self._actions}  # type: ignore[dict-item]
        HttpToolsProtocol.on_headers_complete(self)
        # uvicorn builds the cycle (after an upgrade, keeps the last one): it writes through our writer from here.
        if self.cycle is not None:
            self.cycle.transport = self._writer  # type: ignore[assignment]

    def _accept_other_target_form(self, method: bytes) -> None:
        # uvicorn takes the path and query of what httptools parses, and fails with a callback error (a
        # 400 that says nothing) when there is no path or the target does not parse. RFC 9112 §3.2.
        if self.url == b"*":
            if method != b"OPTIONS":
                self._stop(400, "Bad Request: the target * is only for OPTIONS (RFC 9112 §3.2.4)")
            return
        try:
            parsed = httptools.parse_url(self.url)
        except httptools.HttpParserInvalidURLError:
            parsed = None
        if parsed is None or parsed.schema is None:  # neither origin-form (no "/") nor absolute-form
            self._stop(400, "Bad Request: the request target is none of origin-form, absolute-form, "
                            "authority-form (for CONNECT) or * (RFC 9112 §3.2)")  # fmt: skip
        if b"@" in _AUTHORITY_END.split(self.url.partition(b"//")[2], 1)[0]:
            self._stop(400, "Bad Request: user information in the request target (RFC 9110 §4.2.4)")
        if parsed.path is None:  # absolute-form with an empty path, such as http://example.test
            if method == b"OPTIONS" and b"?" not in self.url:
                self.url = b"*"  # the server itself, as a proxy would forward it (RFC 9112 §3.2.4)
            else:
                self.url = b"/?" + parsed.query if parsed.query is not None else b"/"  # RFC 9110 §4.2.3

    def _split(self, data: bytes) -> None:
        # After the parser, so each head comes with the framing the parser found for it; the tasks of the
        # requests parsed from this chunk have not run yet, so they see their raw heads.
        first = self._first
        if first is not None:  # the chunk starts with its head, ahead of all queued while parsing the chunk
            self._first = None
            self._awaiting_head.appendleft(first)
            self._heads.framings.appendleft((self._first_length, False))
        heads = self._heads
        heads.feed(data)
        while heads.heads and self._awaiting_head:
            self._awaiting_head.popleft().raw_head = heads.heads.popleft()
        while heads.trailer_sections and self._awaiting_trailers:
            self._awaiting_trailers.popleft().raw_trailers = heads.trailer_sections.popleft()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        if self._actions is not None:
            self._actions.cycle = cycle  # type: ignore[assignment]  # uvicorn's cycle has what Cycle names
        HttpToolsProtocol._start_asgi_task(self, cycle, app)

    def on_body(self, body: bytes) -> None:
        self._body_progress_at = self._now
        wire = self._wire
        if wire is not None:
            wire.count_content(len(body), self._now)
        HttpToolsProtocol.on_body(self, body)

    def on_message_complete(self) -> None:
        if (self._content_length or self._chunked) and self.parser.should_upgrade():
            return  # llhttp skipped the content of a request with Upgrade: it is still to be read (see _parse)
        self._between_messages = True
        self._completed_in_chunk += 1
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        HttpToolsProtocol.on_message_complete(self)

    def on_response_complete(self) -> None:
        self._flush()  # nothing of a complete response stays held: the connection may close next
        if self._deferred_refusal is not None and not self.pipeline:
            self.refuse(*self._deferred_refusal)
            return
        HttpToolsProtocol.on_response_complete(self)
        if self._eof and not self.pipeline and not self.transport.is_closing():
            self.transport.close()  # half-closed and answered: nothing more can come
        if self._shutting_down:
            self._cut_tls_close_later()

    def refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a plain ``message`` and ``Connection: close``, then close the connection.

        It waits for the answers to complete requests before it. A refused request's running app sees
        ``http.disconnect``; when its response has started, the connection is only closed."""
        self._cancel_timers()
        self._flush()  # bytes already written by the app go out before the refusal or the close
        cycle = self.cycle
        if cycle is not None and cycle.more_body and any(queued is cycle for queued, _ in self.pipeline):
            # Refused in its content while it waits behind earlier requests still being answered, and answers
            # go out in request order (RFC 9112 §9.3.2): it is dropped, and the refusal waits for them.
            self.pipeline = deque(entry for entry in self.pipeline if entry[0] is not cycle)
            cycle.disconnected = True
            self._deferred_refusal = (status, message)
            return
        if cycle is not None and not cycle.response_complete and not cycle.more_body and not cycle.disconnected:
            self._deferred_refusal = (status, message)
            return
        self._deferred_refusal = None
        answered = cycle is not None and cycle.response_started and not cycle.response_complete
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        if not answered and not self.transport.is_closing():
            self.transport.write(refusal_answer(status, message, self.server_state.default_headers))
        self.logger.warning("Refused a request from %s: %d %s", peer_text(self.client), status, message)
        self._linger()

    def _linger(self) -> None:
        # Lingering close (RFC 9112 §9.6): closing while the client still sends would make the kernel
        # answer with RST, which can destroy the response before the client reads it. Send FIN, discard
        # what still arrives for a moment, then close.
        if self.transport.is_closing() or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = self.loop.call_later(LINGER_S, self.transport.close)

    def _flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def _stop(self, status: int, message: str) -> NoReturn:
        self._refusal = (status, message)
        raise _Refused(message)

    def _head_too_large(self) -> str:
        return (
            f"Request Header Fields Too Large: the request head exceeds {self.limits.max_header_bytes} bytes "
            "(ECHO_MAX_HEADER_BYTES)"
        )

    def _arm_head_timer(self, started_at: float | None = None) -> None:
        # From started_at (the accept, for the first head: a TLS handshake's time counts), else from now.
        delay_s = self.limits.header_timeout_s
        if started_at is not None:
            delay_s -= self.loop.time() - started_at
        self._head_timer = self.loop.call_later(max(delay_s, 0.0), self._head_timeout)

    def _head_timeout(self) -> None:
        self._head_timer = None
        if not self._head_done or self.cycle is None or self.cycle.response_complete:
            self.refuse(408, f"Request Timeout: no complete request head within {self.limits.header_timeout_s:g} s "
                             "(ECHO_HEADER_TIMEOUT_S)")  # fmt: skip

    def _awaiting_body(self) -> bool:
        cycle = self.cycle
        return cycle is not None and cycle.more_body and not cycle.response_complete and not cycle.disconnected

    def _body_timeout(self) -> None:
        self._body_timer = None
        if not self._awaiting_body():
            return
        idle_s = self.loop.time() - self._body_progress_at
        if self.flow.read_paused or idle_s < self.limits.body_timeout_s:
            # The app is not reading (flow control), or bytes came since: wait for the rest of the window.
            remaining_s = max(self.limits.body_timeout_s - idle_s, 0.05)
            self._body_timer = self.loop.call_later(remaining_s, self._body_timeout)
            return
        self.refuse(408, f"Request Timeout: the request content made no progress for {self.limits.body_timeout_s:g} s "
                         "(ECHO_BODY_TIMEOUT_S)")  # fmt: skip

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _write_stalled(self) -> None:
        if self.flow.write_paused:
            abandon(self.transport, self.logger, self.client, self.limits.write_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stall_clock.stop()
        if self._lingering is not None:
            self._lingering.cancel()
        if self._tls_cut is not None:
            self._tls_cut.cancel()
        self._cancel_timers()
        self._unset_keepalive_if_required()  # uvicorn cancels it only on a clean close, not on a reset
        super().connection_lost(exc)


class BoundedReading(FlowControl):
    """uvicorn's flow control, except that reading stays paused while answers wait to be written or
    ``MAX_QUEUED_REQUESTS`` parsed requests wait for their turn: a client that pipelines requests and reads
    nothing cannot make the server parse, queue and answer without bound. Paused writing runs ``stall_clock``."""

    def __init__(self, transport: asyncio.Transport, queued: Callable[[], int], stall_clock: WriteStallClock) -> None:
        super().__init__(transport)
        self.queued = queued  # how many parsed requests wait for their turn
        self.stall_clock = stall_clock

    def resume_reading(self) -> None:
        if self.read_paused and not self.write_paused and self.queued() < MAX_QUEUED_REQUESTS:
            super().resume_reading()

    def pause_writing(self) -> None:
        super().pause_writing()
        self.pause_reading()
        self.stall_clock.start()

    def resume_writing(self) -> None:
        super().resume_writing()
        self.stall_clock.stop()
        self.resume_reading()


class _AfterIgnoredUpgrade:
    """Parser callbacks for the content of a request whose ``Upgrade`` was ignored, and for the requests after it:
    the parser is primed with a made-up head of the same framing, whose callbacks are dropped."""

    def __init__(self, protocol: EchoHttpToolsProtocol) -> None:
        self.protocol = protocol
        self.primed = False

    def on_message_begin(self) -> None:
        if self.primed:
            self.protocol.on_message_begin()

    def on_url(self, url: bytes) -> None:
        if self.primed:
            self.protocol.on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.primed:
            self.protocol.on_header(name, value)

    def on_headers_complete(self) -> None:
        if self.primed:
            self.protocol.on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.protocol.on_body(body)

    def on_message_complete(self) -> None:
        self.protocol.on_message_complete()
