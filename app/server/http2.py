"""HTTP/2 (h2c with prior knowledge, and h2 over TLS by ALPN) through uvicorn's zttp protocols, mended.

Selected with ``uvicorn --http app.server.http2:EchoAutoZttpProtocol`` and *without* ``--http2`` (that flag
makes uvicorn use its own dispatcher). The dispatcher is uvicorn 0.54's ``AutoZttpProtocol`` (its
``alpn_protocols`` offer h2 and http/1.1); the one change is the HTTP/2 stream handler:

uvicorn 0.54's ``ZttpH2Protocol.handle_request`` ignores ``Request.end_stream``. zttp 0.0.35 sets it
on a HEADERS frame that also ends the stream (every GET or HEAD without content) and sends no
``EndOfMessage`` after it, so the app's ``receive()`` waited forever and such requests hung for
every client (curl, nghttp, httpx). ``EchoZttpH2Protocol`` ends the request content there.
HTTP/2 keeps zttp's own fixed limits; the hardening of ``app.server.protocol`` does not apply to it.
"""

from __future__ import annotations

import asyncio

import zttp
from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol
from uvicorn.protocols.http.zttp_impl import ZttpProtocol


class EchoZttpH2Protocol(ZttpH2Protocol):
    """``ZttpH2Protocol`` that ends a request's content when its HEADERS frame ends the stream."""

    def handle_request(self, event: zttp.Request) -> None:
        super().handle_request(event)
        cycle = self.cycles.get(event.stream_id)
        if event.end_stream and cycle is not None:
            cycle.more_body = False
            cycle.message_event.set()


class EchoAutoZttpProtocol(AutoZttpProtocol):
    """uvicorn's HTTP/1.1-or-HTTP/2 dispatcher, handing HTTP/2 connections to ``EchoZttpH2Protocol``."""

    def _switch(self, http2: bool, initial_data: bytes = b"") -> None:
        protocol_class: type[asyncio.Protocol] = EchoZttpH2Protocol if http2 else ZttpProtocol
        protocol = protocol_class(  # type: ignore[call-arg]
            config=self.config,
            server_state=self.server_state,
            app_state=self.app_state,
            _loop=self.loop,
        )
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        if initial_data:
            protocol.data_received(initial_data)
