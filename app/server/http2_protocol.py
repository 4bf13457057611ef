"""uvicorn's HTTP/2 (zttp) protocol with write back-pressure, the write timeout and a control-frame budget.

``--http app.server.http2_protocol:EchoAutoZttpProtocol`` serves HTTP/2 (h2c with prior knowledge, h2 by TLS ALPN)
and HTTP/1.1 on one port, as uvicorn's ``--http zttp --http2`` does, with these bounds on HTTP/2 connections:

- reading stops while the transport's write buffer is above its high-water mark, so replies zttp writes on its
  own (PING and SETTINGS ACKs, WINDOW_UPDATEs for received DATA) cannot pile up for a client that does not read;
- a response waits in ``send`` until zttp has handed its bytes to the transport (the peer's flow-control window
  parks the rest inside zttp) and the transport's buffer is back under its high-water mark, so the app, and the
  in-flight budget it holds, is released only once its answer is sent;
- ``ECHO_WRITE_TIMEOUT_S``: a stream whose parked bytes make no progress for that long is reset (``CANCEL``);
  a transport paused for writing that long is aborted;
- PING, SETTINGS and RST_STREAM frames take a token each from a bucket (``CONTROL_FRAME_BURST``, refilled at
  ``CONTROL_FRAMES_PER_S``); an empty bucket ends the connection with ``GOAWAY ENHANCE_YOUR_CALM`` (RFC 9113 §5.4.1);
- apps still running when the connection goes away see ``http.disconnect``, never a zttp error (no traceback).

The uvicorn names used are listed in ``app.server.uvicorn_surface``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import zttp
from uvicorn._types import ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.zttp_h2_impl import RequestResponseCycle, ZttpH2Protocol
from uvicorn.protocols.http.zttp_impl import ZttpProtocol
from uvicorn.server import ServerState
from zttp import H2ErrorCode

from app.server.limits import limits_for
from app.server.protocol import BoundedReading
from app.server.refusal import peer_text
from app.server.write_stall import WriteStallClock, abandon

#: Control frames (PING, SETTINGS, RST_STREAM) a connection may send at once, and the refill rate per second.
CONTROL_FRAME_BURST = 1000
CONTROL_FRAMES_PER_S = 100.0
_CONTROL_EVENTS = frozenset({zttp.Ping, zttp.Settings, zttp.RstStream})
_CREDIT_EVENTS = frozenset({zttp.WindowUpdate, zttp.RstStream})

Send = Callable[[ASGISendEvent], Awaitable[None]]


class ControlFrameBucket:
    """A token bucket: ``take`` spends one token, refilled at ``rate_per_s`` up to ``burst``; False when empty."""

    def __init__(self, burst: int, rate_per_s: float, now_s: float) -> None:
        self.burst = burst
        self.rate_per_s = rate_per_s
        self.tokens = float(burst)
        self.at_s = now_s

    def take(self, now_s: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now_s - self.at_s) * self.rate_per_s)
        self.at_s = now_s
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class _TooManyControlFrames(Exception):
    """Raised out of zttp's event loop when the bucket is empty; the connection ends with ENHANCE_YOUR_CALM."""


class EchoH2Protocol(ZttpH2Protocol):
    """``ZttpH2Protocol`` with the bounds of the module docstring; each override calls ``super()``."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.write_timeout_s = limits_for(config.loaded_app).write_timeout_s
        self.control_frames = ControlFrameBucket(CONTROL_FRAME_BURST, CONTROL_FRAMES_PER_S, self.loop.time())
        self._credit: dict[int, asyncio.Event] = {}  # set when a stream may have sent more (or must stop waiting)
        self._draining: set[int] = set()  # complete responses whose bytes zttp still parks
        self._stall_logged = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._stall_clock = WriteStallClock(self.loop, self.write_timeout_s, self._write_stalled)
        # Streams are bounded by zttp's SETTINGS_MAX_CONCURRENT_STREAMS (128), not by a queue of ours.
        self.flow = BoundedReading(transport, lambda: 0, self._stall_clock)

    def data_received(self, data: bytes) -> None:
        try:
            super().data_received(data)
        except _TooManyControlFrames:
            self._enhance_your_calm()
            return
        if self.transport.is_closing():
            self._disconnect_all()  # zttp refused the peer and uvicorn closed: running apps must stop sending

    def events(self) -> Generator[zttp.Event]:
        now_s = self.loop.time()
        for event in super().events():
            kind = type(event)  # a set lookup: a WINDOW_UPDATE flood makes millions of events
            if kind in _CONTROL_EVENTS and not self.control_frames.take(now_s):
                raise _TooManyControlFrames
            if kind in _CREDIT_EVENTS:
                self._wake(event.stream_id)  # type: ignore[union-attr]
            yield event

    def handle_request(self, event: zttp.Request) -> None:
        super().handle_request(event)
        cycle = self.cycles.get(event.stream_id)
        if cycle is not None:
            # uvicorn builds the cycle itself; its task has not started, so the app gets this send.
            cycle.send = functools.partial(self._send, cycle, cycle.send)  # type: ignore[method-assign]

    async def _send(self, cycle: RequestResponseCycle, send: Send, message: ASGISendEvent) -> None:
        """uvicorn's ``send``, then wait until zttp parks at most ``HIGH_WATER_LIMIT`` bytes of the stream (none
        once the response is complete), resetting the stream after ``write_timeout_s`` without progress, and
        until the transport takes writes again."""
        if self.transport.is_closing():
            cycle.disconnected = True  # the connection is going: zttp would refuse the stream
        try:
            await send(message)
        except zttp.LocalProtocolError:
            if not self.transport.is_closing():
                raise
            cycle.disconnected = True
            return
        await self._until_sent(cycle)

    async def _until_sent(self, cycle: RequestResponseCycle) -> None:
        stream_id = cycle.stream.stream_id
        allowed = 0 if cycle.response_complete else HIGH_WATER_LIMIT
        last = self._parked(cycle)
        progress_at = self.loop.time()
        try:
            while last > allowed and not self.transport.is_closing() and not cycle.disconnected:
                remaining_s = self.write_timeout_s - (self.loop.time() - progress_at)
                if remaining_s <= 0:
                    self._abandon_stream(cycle)
                    break
                credit = self._credit.setdefault(stream_id, asyncio.Event())
                credit.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(credit.wait(), remaining_s)
                parked = self._parked(cycle)
                if parked < last:
                    progress_at = self.loop.time()
                last = parked
            if self.flow.write_paused and not self.transport.is_closing():
                await self.flow.drain()  # the transport holds it now: ends on resume, or the stall clock's abort
        finally:  # cancelled too (shutdown): the stream must not stay busy
            self._credit.pop(stream_id, None)
            if stream_id in self._draining:
                self._draining.discard(stream_id)
                super().on_response_complete(stream_id)

    def _parked(self, cycle: RequestResponseCycle) -> int:
        """Bytes of the stream's response zttp holds for the peer's window (0 once the stream is closed)."""
        try:
            parked = cycle.stream.pending_bytes
        except zttp.LocalProtocolError:
            return 0
        return parked or 0

    def on_response_complete(self, stream_id: int) -> None:
        cycle = self.cycles.get(stream_id)
        if cycle is not None and cycle.response_complete and self._parked(cycle) and not self.transport.is_closing():
            # Still busy until sent: keep-alive must not close the connection on the parked bytes.
            self._draining.add(stream_id)
            return
        super().on_response_complete(stream_id)

    def _wake(self, stream_id: int) -> None:
        if stream_id == 0:  # connection-level credit may let any stream send
            for credit in self._credit.values():
                credit.set()
        elif (waiting := self._credit.get(stream_id)) is not None:
            waiting.set()

    def _abandon_stream(self, cycle: RequestResponseCycle) -> None:
        if not self._stall_logged:  # one line per connection, however many streams stall
            self._stall_logged = True
            self.logger.info(
                "Reset HTTP/2 streams of %s: no write progress for %g s (ECHO_WRITE_TIMEOUT_S)",
                peer_text(self.client),
                self.write_timeout_s,
            )
        cycle.disconnected = True
        cycle.message_event.set()
        cycle.stream.reset(H2ErrorCode.CANCEL)
        self.flush()

    def _enhance_your_calm(self) -> None:
        self.logger.warning(
            "Closed the HTTP/2 connection of %s: more than %d PING, SETTINGS and RST_STREAM frames at once "
            "(then %g/s); GOAWAY ENHANCE_YOUR_CALM",
            peer_text(self.client),
            CONTROL_FRAME_BURST,
            CONTROL_FRAMES_PER_S,
        )
        self._disconnect_all()
        if not self.transport.is_closing():
            self.conn.close(H2ErrorCode.ENHANCE_YOUR_CALM)
            self.flush()
            self.transport.close()

    def _disconnect_all(self) -> None:
        for cycle in self.cycles.values():
            if not cycle.response_complete:
                cycle.disconnected = True
            cycle.message_event.set()
        self._wake(0)

    def _write_stalled(self) -> None:
        if self.flow.write_paused:
            abandon(self.transport, self.logger, self.client, self.write_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stall_clock.stop()
        super().connection_lost(exc)
        self._wake(0)


class EchoAutoZttpProtocol(AutoZttpProtocol):
    """uvicorn's HTTP/2 dispatcher (``--http zttp --http2``), HTTP/2 connections served by ``EchoH2Protocol``."""

    def _switch(self, http2: bool, initial_data: bytes = b"") -> None:
        # Replaced, not extended: uvicorn's picks its own classes (uvicorn_surface.AUTO_ZTTP_REPLACED).
        protocol_class: type[EchoH2Protocol | ZttpProtocol] = EchoH2Protocol if http2 else ZttpProtocol
        protocol = protocol_class(
            config=self.config, server_state=self.server_state, app_state=self.app_state, _loop=self.loop
        )
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        if initial_data:
            protocol.data_received(initial_data)
